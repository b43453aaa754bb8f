"""What differs between the databases the site runs on (SQLite and a real PostgreSQL server): text a
submission controls (PostgreSQL refuses NUL characters in text), racing writers of one row, and many
connections at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from autograder.executor import failure_result
from autograder.grading.result import CheckResult, GroupResult, Result
from autograder.site import storage
from autograder.site.models import GRADED, Grade, Submission
from tests import toy_course
from tests.site.conftest import BOTH, notebook_bytes, people, set_password, upload, wait_for

DATABASES = BOTH


def _result_with_student_text(job, text: str) -> Result:
    base = failure_result(job, "graded", "held")
    check = CheckResult(name="scale.visible", group="scale", points=0, max_points=3, passed=False, visible=True, message=text)
    return Result(
        assignment=base.assignment,
        submission=base.submission,
        score=0,
        max_score=base.max_score,
        groups=[GroupResult(grade_id="scale_tests", title="scale", score=0, max_score=3, checks=[check])],
    )


def test_a_result_carrying_a_nul_character_is_stored(held_site):
    """A visible check's message comes from the student's own run (e.g. their exception's text): a NUL in it
    must not make the grade unstorable (the submission would be graded again at every start, never shown)."""
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    url = upload(client, "toy", notebook_bytes(toy_course.blank(site.offered["toy"].spec.folder))).headers["location"]
    wait_for(lambda: executor.submitted)
    executor.finish_all(lambda job: _result_with_student_text(job, "ValueError: bad\x00value <b>"))
    wait_for(lambda: site.grading.queue() == [])
    with site.factory() as db:
        sub = db.get(Submission, 1)
        grade = db.get(Grade, 1)
    assert sub.state == GRADED and grade is not None
    assert Result.from_json(grade.result_json).checks[0].message == "ValueError: bad\x00value <b>"  # JSON keeps it as \\u0000
    page = client.get(url.replace("?again=1", "") + "/feedback").text
    assert "bad\ufffdvalue &lt;b&gt;" in page and "\x00" not in page


def test_racing_uploads_of_one_file_make_one_submission(held_site):
    app, make_client, executor = held_site
    people(app, "alice")
    site = app.state.site
    offered = site.offered["toy"]
    with site.factory() as db:
        from autograder.site.accounts import find_user

        uid = find_user(db, "alice").id
    data = notebook_bytes(toy_course.solved(offered.spec.folder))
    barrier = threading.Barrier(8)
    results, errors = [], []

    def one():
        try:
            barrier.wait()
            results.append(storage.store(site.factory, site.settings.blobs, uid, offered, "toy.ipynb", data))
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({r.submission.id for r in results}) == 1 and sum(r.new for r in results) == 1
    with site.factory() as db:
        assert db.scalar(select(func.count(Submission.id))) == 1
    wait_for(lambda: len(executor.submitted) == 1)


def test_many_students_submit_at_once(held_site):
    """Forty parallel uploads (the size of the server's thread pool) of forty different files: all stored."""
    app, make_client, executor = held_site
    site = app.state.site
    offered = site.offered["toy"]
    logins = [f"s{i:02d}" for i in range(40)]
    people(app, *logins)
    with site.factory() as db:
        from autograder.site.accounts import find_user

        ids = {login: find_user(db, login).id for login in logins}
    base = toy_course.solved(offered.spec.folder)
    errors = []

    def one(login):
        nb = base.copy()
        nb.metadata = {**nb.metadata, "author": login}
        try:
            stored = storage.store(site.factory, site.settings.blobs, ids[login], offered, "toy.ipynb", notebook_bytes(nb))
            assert stored.new
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(login,)) for login in logins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with site.factory() as db:
        assert db.scalar(select(func.count(Submission.id))) == 40
    site.grading.wake()
    wait_for(lambda: len(executor.submitted) == 40)
    assert len({j.job_id for j in executor.submitted}) == 40  # each handed out once


def test_long_names_are_cut_to_their_column(held_site):
    """An instructor's name is not capped by the command line; PostgreSQL enforces VARCHAR lengths, SQLite does not."""
    app, _, _ = held_site
    from autograder.site import accounts

    site = app.state.site
    accounts.add_instructor(site.factory, "prof", name="P" * 500, email="e" * 400 + "@x")
    with site.factory() as db:
        prof = accounts.find_user(db, "prof")
    assert prof.name == "P" * 200 and len(prof.email) == 320
