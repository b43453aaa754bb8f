"""SIGKILL the server (a real uvicorn process on a loopback port) while submissions are queued and running,
start it again: every acknowledged submission is graded exactly once, none is lost, none appears twice."""

from __future__ import annotations

import nbformat
import pytest
from sqlalchemy import func, select

from autograder.site import accounts, client
from autograder.site.models import GRADED, Grade, Submission, default_url, open_db
from tests import processes, toy_course
from tests.site.conftest import free_port, make_course, notebook_bytes, start_server, wait_for, wrong

# Real workers grade four toy notebooks, one at a time, across two server processes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_sigkill_and_restart_loses_nothing_and_grades_nothing_twice(tmp_path):
    source, _ = make_course(tmp_path)
    (tmp_path / "site").mkdir()
    factory = open_db(default_url(tmp_path / "site"))
    accounts.import_roster(factory, [accounts.Person("alice", "Alice", "a@x")])
    with factory.begin() as db:
        token = accounts.new_api_token(db, accounts.find_user(db, "alice"))
    toy = source / "toy"
    solved = toy_course.solved(toy)
    variants = [solved, wrong(toy), toy_course.blank(toy)]
    extra = toy_course.solved(toy)
    extra.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    variants.append(extra)
    files = []
    for i, nb in enumerate(variants):
        path = tmp_path / f"nb{i}.ipynb"
        path.write_bytes(notebook_bytes(nb))
        files.append(path)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    try:
        ids = [client.submit(path, "toy", url, token)["id"] for path in files]
        assert len(set(ids)) == 4
        # kill while the first is running (or just graded) and the others wait
        wait_for(lambda: client.status(url, token, ids[0])["state"] in ("running", "graded"), timeout=120, step=0.2)
    finally:
        processes.kill_tree(server)
    with factory() as db:
        before = {g.submission_id: g.graded_at for g in db.scalars(select(Grade))}
        assert db.scalar(select(func.count(Submission.id))) == 4
    assert len(before) < 4, "everything was graded before the kill: the test proves nothing"

    server = start_server(tmp_path, port)
    try:
        wait_for(lambda: all(client.status(url, token, i)["state"] == "graded" for i in ids), timeout=400, step=0.5)
        scores = [client.status(url, token, i)["score"] for i in ids]
        # the same file again after the restart is still the same submission
        again = client.submit(files[0], "toy", url, token)
        assert again["id"] == ids[0] and again["new"] is False
    finally:
        processes.kill_tree(server)
    assert scores == [10, 7, 0, 10]
    with factory() as db:
        grades = {g.submission_id: g.graded_at for g in db.scalars(select(Grade))}
        subs = list(db.scalars(select(Submission)))
    assert sorted(grades) == sorted(ids) and len(subs) == 4
    assert {s.state for s in subs} == {GRADED}
    for sid, when in before.items():
        assert grades[sid] == when  # graded before the kill: never graded again
