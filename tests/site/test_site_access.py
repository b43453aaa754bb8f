"""Who sees what: every URL of the site (crawled from every page, plus every object id in the database) as
anonymous, as another student and as the owner; no response carries hidden-test source, solution text or
hidden reference values. Grades a solved and a wrong toy notebook for real (local worker, no sandbox)."""

from __future__ import annotations

import io
import re
import urllib.parse
import zipfile

import nbformat
import numpy as np
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from autograder.grading import reference_store
from autograder.grading import spec as spec_mod
from autograder.site import accounts
from autograder.site.app import create_app
from autograder.site.models import Submission, User
from autograder.site.settings import SiteSettings
from tests import toy_course
from tests.site.conftest import csrf_of, make_course, notebook_bytes, people, set_password, upload, wait_for, wrong


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("access")
    source, release = make_course(root)
    app = create_app(
        SiteSettings(data_dir=root / "site", source_dir=source, release_dir=release, sandbox=False, poll_s=0.2, grading_workers=2)
    )
    with TestClient(app) as anonymous:
        tokens = people(app, "alice", "bob")
        clients = {"anonymous": anonymous}
        for login in ("alice", "bob"):
            clients[login] = TestClient(app)
            set_password(clients[login], tokens[login])
        prof = accounts.add_instructor(app.state.site.factory, "prof")
        clients["prof"] = TestClient(app)
        set_password(clients["prof"], prof)
        toy = source / "toy"
        urls = [upload(clients["alice"], "toy", notebook_bytes(nb)).headers["location"] for nb in (toy_course.solved(toy), wrong(toy))]
        page = clients["alice"].post("/account/token", data={"csrf": csrf_of(clients["alice"].get("/account").text)})
        alice_token = page.text.split('<pre id="token">')[1].split("<")[0]
        wait_for(lambda: all('id="state">graded<' in clients["alice"].get(u).text for u in urls), timeout=300, step=0.5)
        yield app, clients, urls, toy, alice_token
        for c in clients.values():
            c.close()


def test_solved_and_wrong_are_graded_and_the_best_counts(graded):
    app, clients, urls, _, _ = graded
    alice = clients["alice"]
    totals = [re.search(r'class="total">([\d.]+) <small>/ 10', alice.get(u).text).group(1) for u in urls]
    assert totals == ["10", "7"]
    wrong_feedback = alice.get(urls[1] + "/feedback").text
    assert "scale" in wrong_feedback and "Convert x to a float64 array" in wrong_feedback  # the group's hint
    table = clients["prof"].get("/instructor").text
    assert re.search(r'<a href="/submissions/1">10</a> <span class="small">\(2\)</span>', table)
    summary = clients["prof"].get("/instructor/assignments/toy/summary")
    assert summary.status_code == 200 and "alice" in summary.text
    overview = clients["prof"].get("/instructor/assignments/toy")
    assert overview.status_code == 200 and 'id="plot-scores"' in overview.text and 'id="plot-times"' in overview.text
    # the counted submission passes every check: each pass rate reads 1 of 1, beside the name and in its column
    assert overview.text.count("100% passed (1 of 1)</span>") == 10
    assert overview.text.count('<td class="num wide">1 / 1</td>') == 10


def _hrefs(html: str) -> set[str]:
    found = set(re.findall(r'(?:href|action)="(/[^"]*)"', html))
    return {urllib.parse.urlsplit(u).path for u in found}


def _crawl(client, start: set[str]) -> dict[str, object]:
    seen, todo, responses = set(), sorted(start), {}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=False)
        responses[url] = r
        if r.headers.get("content-type", "").startswith("text/html"):
            todo.extend(sorted(_hrefs(r.text) - seen))
    return responses


def _every_url(app) -> set[str]:
    with app.state.site.factory() as db:
        ids = list(db.scalars(select(Submission.id))) + list(db.scalars(select(User.id)))
    ids += [0, -1, 99999, "x", "1.0", "%2e%2e"]
    urls = {
        "/",
        "/signin",
        "/assignments",
        "/assignments/toy",
        "/assignments/toy/download",
        "/account",
        "/instructor",
        "/instructor/queue",
        "/instructor/assignments/toy",
        "/assignments/../source_solutions/toy",
        "/instructor/assignments/toy/summary",
        "/instructor/assignments/toy/grades.csv",
        "/instructor/gradebook.db",
        "/instructor/assignments/toy/extensions",
        "/instructor/assignments/nope",
        "/instructor/assignments/nope/grades.csv",
        "/assignments/toy/data/train_signs.h5",
        "/assignments/toy/data/..%2f..%2fsecret.key",
        "/assignments/nope/data/x",
        "/assignments/nope",
        "/assignments/nope/download",
        "/signin/link/x",
    }
    for i in ids:
        urls |= {f"/submissions/{i}", f"/submissions/{i}/feedback", f"/api/submissions/{i}"}
    return urls


def test_anonymous_reaches_nothing_but_sign_in(graded):
    app, clients, _, _, _ = graded
    anonymous = clients["anonymous"]
    responses = _crawl(anonymous, _every_url(app))
    for url, r in responses.items():
        if url == "/signin":
            assert r.status_code == 200
        elif url.startswith("/signin/link/"):
            assert r.status_code == 410
        elif url.startswith("/api/"):
            assert r.status_code == 401, url
        else:
            assert r.status_code in (303, 404), (url, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"] in ("/signin", "/assignments"), url
            assert "alice" not in r.text


def test_another_student_sees_none_of_alices_work(graded):
    app, clients, urls, _, _ = graded
    bob = clients["bob"]
    with app.state.site.factory() as db:
        alices = list(db.scalars(select(Submission.id).join(User).where(User.login == "alice")))
    assert len(alices) == 2
    responses = _crawl(bob, _every_url(app) | _hrefs(clients["alice"].get("/assignments/toy").text))
    for url, r in responses.items():
        assert "alice" not in r.text.lower() or url.startswith("/signin/link"), url
        if url.startswith("/instructor"):
            assert r.status_code == 403, url
        for sid in alices:
            if url in (f"/submissions/{sid}", f"/submissions/{sid}/feedback"):
                assert r.status_code == 404, url
    assert bob.get("/api/submissions/1", headers={"Authorization": "Bearer " + "x" * 43}).status_code == 401
    # alice's token reads her submissions and no one else's; the owner herself gets 200
    assert clients["alice"].get(urls[0]).status_code == 200


def test_alices_token_only_reads_alices_submissions(graded):
    app, clients, _, _, token = graded
    headers = {"Authorization": f"Bearer {token}"}
    anon = clients["anonymous"]
    assert anon.get("/api/submissions/1", headers=headers).json()["score"] == 10
    assert anon.get("/api/submissions/99999", headers=headers).status_code == 404


def _secrets(toy) -> list[str]:
    """Text that must never leave the server: hidden-test lines, solution lines, hidden reference values."""
    source = nbformat.read(toy / "toy.ipynb", as_version=4)
    lines = []
    for cell in source.cells:
        for block, end in (("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"), ("### BEGIN SOLUTION", "### END SOLUTION")):
            if block in cell.source:
                inner = cell.source.split(block, 1)[1].split(end, 1)[0]
                lines += [ln.strip() for ln in inner.splitlines() if ln.strip()]
    spec = spec_mod.load(toy)
    refs = reference_store.load(spec)
    for check in spec.checks():
        if check.visible or check.name not in refs:
            continue
        value = refs[check.name]
        arr = np.asarray(getattr(value, "value", value), dtype=object).ravel()
        for x in arr[:20]:
            if isinstance(x, float | np.floating) and len(repr(float(x))) >= 9:
                lines.append(repr(float(x))[:9])
    assert len(lines) > 10
    return lines


def test_no_response_carries_hidden_tests_solutions_or_reference_values(graded):
    app, clients, _, toy, _ = graded
    secrets = _secrets(toy)
    bodies = {}
    for who in ("anonymous", "bob", "alice", "prof"):
        for url, r in _crawl(clients[who], _every_url(app)).items():
            if url.endswith("/download") and r.status_code == 200:
                with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
                    names = zf.namelist()
                    assert sorted(names) == ["toy/course_utils.py", "toy/selfcheck.py", "toy/toy.ipynb"]
                    for name in names:
                        bodies[f"{who} {url}!{name}"] = zf.read(name).decode()
            else:
                bodies[f"{who} {url}"] = r.text
    assert any("Open the feedback" in b for b in bodies.values())  # the crawl reached graded pages
    leaks = [(where, s) for where, body in bodies.items() for s in secrets if s in body]
    assert leaks == []
