"""``autograder site backup`` while the site runs, ``autograder site restore`` into an empty folder and database:
every submission, its file (SHA-256 checked) and its feedback are there, students stay signed in, what was
being graded is graded after the restart, and new ids follow the restored ones. On SQLite and PostgreSQL,
and from SQLite into PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import uuid

import pytest
from sqlalchemy import func, inspect, select
from starlette.testclient import TestClient

from autograder import cli
from autograder.executor import failure_result
from autograder.grading.result import REJECTED
from autograder.site import security
from autograder.site.app import create_app
from autograder.site.models import Grade, Submission, User, default_url, make_engine, open_db
from autograder.site.settings import SiteSettings
from autograder.site.storage import blob_path
from tests import toy_course
from tests.site.conftest import (
    BOTH,
    HeldExecutor,
    databases,
    db_args,
    notebook_bytes,
    people,
    set_password,
    sign_in,
    upload,
    wait_for,
    wrong,
)

DATABASES = BOTH


def labelled(job):
    return failure_result(job, REJECTED, f"held executor: graded as {job.job_id}")


def _fill(held_site):
    """Two students, three submissions: two graded, one still being graded. Returns what the pages showed."""
    app, make_client, executor = held_site
    site = app.state.site
    toy = site.offered["toy"].spec.folder
    tokens = people(app, "alice", "bob")
    alice, bob = make_client(), make_client()
    set_password(alice, tokens["alice"])
    set_password(bob, tokens["bob"])
    files = {}
    for client, nb in ((alice, toy_course.solved(toy)), (alice, toy_course.blank(toy)), (bob, wrong(toy))):
        data = notebook_bytes(nb)
        sid = int(upload(client, "toy", data).headers["location"].rsplit("/", 1)[-1])
        files[sid] = data
    wait_for(lambda: len(executor.submitted) == 3)
    for job in executor.submitted[:2]:  # alice's two are graded; bob's stays in the executor
        executor._futures[job.job_id][1].set_result(labelled(job))
    wait_for(lambda: len(site.grading.queue()) == 1)
    pages = {sid: alice.get(f"/submissions/{sid}/feedback").text for sid in (1, 2)}
    assert all("graded as submission-" in p for p in pages.values())
    return alice, files, pages


def _target(db_kind, tmp_path, postgres_server) -> tuple[str | None, str]:
    if db_kind == "sqlite":
        return None, default_url(tmp_path / "restored")
    # a name of its own (id() of a test's tmp_path can come back in a later test: "already exists")
    url = postgres_server.create_database(f"restored{uuid.uuid4().hex[:16]}")
    return url, url


@pytest.fixture
def restore_db(db_kind, request):
    return request.getfixturevalue("postgres") if db_kind == "postgresql" else None


def test_backup_while_running_and_restore_finds_everything(held_site, site_settings, tmp_path, db_kind, restore_db, capsys):
    alice, files, pages = _fill(held_site)
    dest = tmp_path / "backup"
    assert cli.main(["site", "backup", str(dest), *db_args(site_settings)]) == 0
    assert "3 submissions, 2 grades, 3 files" in capsys.readouterr().out
    assert dest.stat().st_mode & 0o077 == 0
    assert cli.main(["site", "backup", str(dest), *db_args(site_settings)]) == 2  # never over an existing folder
    assert "exists already" in capsys.readouterr().err

    new_dir = tmp_path / "restored"
    db_url, url = _target(db_kind, tmp_path, restore_db)
    where = ["--data-dir", str(new_dir)] + (["--db-url", db_url] if db_url else [])
    assert cli.main(["site", "restore", str(dest), *where]) == 0
    assert "3 submissions, 2 grades, 3 files" in capsys.readouterr().out
    assert cli.main(["site", "restore", str(dest), *where]) == 2  # into a database that has rows: refused
    assert "not empty" in capsys.readouterr().err

    # every submission, and its file byte for byte under its SHA-256
    factory = open_db(url)
    with factory() as db:
        subs = {s.id: s for s in db.scalars(select(Submission))}
        assert sorted(subs) == sorted(files)
        owners = {s.id: db.get(User, s.user_id).login for s in subs.values()}
        assert db.scalar(select(func.count()).select_from(Grade)) == 2
    assert owners == {1: "alice", 2: "alice", 3: "bob"}
    for sid, sub in subs.items():
        blob = blob_path(new_dir / "blobs", sub.sha256).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == sub.sha256 and blob == files[sid]
    factory.kw["bind"].dispose()

    # the restored site: the same pages, the same cookies, the same passwords; bob's is graded now
    executor = HeldExecutor()
    settings = SiteSettings(
        data_dir=new_dir,
        db_url=db_url,
        source_dir=site_settings.source_dir,
        release_dir=site_settings.release_dir,
        sandbox=False,
        poll_s=0.2,
    )
    app = create_app(settings, executor)
    with TestClient(app) as again:
        again.cookies.set(security.SESSION_COOKIE, alice.cookies.get(security.SESSION_COOKIE))
        assert again.get("/assignments", follow_redirects=False).status_code == 200  # still signed in: the key came along
        for sid, page in pages.items():
            assert again.get(f"/submissions/{sid}/feedback").text == page
        assert again.get("/submissions/3").status_code == 404  # bob's stays bob's
        wait_for(lambda: executor.submitted)
        assert [j.job_id for j in executor.submitted] == ["submission-3-2"]  # being graded at backup time: graded again
        executor.finish_all(labelled)
        wait_for(lambda: app.state.site.grading.queue() == [])
        with TestClient(app) as bob:
            assert sign_in(bob, "bob").status_code == 303
            assert "graded as submission-3-2" in bob.get("/submissions/3/feedback").text
        nb = toy_course.solved(app.state.site.offered["toy"].spec.folder)
        nb.metadata["note"] = "after the restore"
        r = upload(again, "toy", notebook_bytes(nb))
        assert r.headers["location"] == "/submissions/4"  # ids go on after the restored ones (PostgreSQL's sequences)


def test_a_damaged_backup_restores_nothing(held_site, site_settings, tmp_path, db_kind, restore_db, capsys):
    _fill(held_site)
    dest = tmp_path / "backup"
    assert cli.main(["site", "backup", str(dest), *db_args(site_settings)]) == 0
    damaged = tmp_path / "damaged"
    shutil.copytree(dest, damaged)
    victim = next(p for p in (damaged / "blobs").rglob("*.ipynb"))
    victim.write_bytes(victim.read_bytes().replace(b"cells", b"CELLS", 1))
    new_dir = tmp_path / "restored"
    db_url, url = _target(db_kind, tmp_path, restore_db)
    where = ["--data-dir", str(new_dir)] + (["--db-url", db_url] if db_url else [])
    capsys.readouterr()
    assert cli.main(["site", "restore", str(damaged), *where]) == 1
    assert "is damaged" in capsys.readouterr().err
    assert not new_dir.exists()  # nothing was written: no folder, no SQLite file, no blob
    if db_url is not None:
        engine = make_engine(url)
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # and no schema in PostgreSQL
        engine.dispose()
    # a missing blob in the site itself: the backup refuses rather than writing an incomplete one
    blob = next(p for p in site_settings.blobs.rglob("*.ipynb"))
    blob.unlink()
    assert cli.main(["site", "backup", str(tmp_path / "second"), *db_args(site_settings)]) == 1
    assert "is missing" in capsys.readouterr().err and not (tmp_path / "second").exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@databases("sqlite")
def test_sqlite_site_restored_into_postgresql(held_site, site_settings, tmp_path, request):
    server = request.getfixturevalue("postgres")
    _, files, _ = _fill(held_site)
    dest = tmp_path / "backup"
    assert cli.main(["site", "backup", str(dest), *db_args(site_settings)]) == 0
    url = server.create_database("moved")
    assert cli.main(["site", "restore", str(dest), "--data-dir", str(tmp_path / "moved"), "--db-url", url]) == 0
    factory = open_db(url)
    with factory() as db:
        got = {s.id: s.sha256 for s in db.scalars(select(Submission))}
        grades = {g.submission_id: g.feedback_html for g in db.scalars(select(Grade))}
    factory.kw["bind"].dispose()
    assert got == {sid: hashlib.sha256(data).hexdigest() for sid, data in files.items()}
    assert sorted(grades) == [1, 2] and all("graded as submission-" in html for html in grades.values())
