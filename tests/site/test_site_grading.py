"""The grading loop over the Executor protocol (a held executor: no workers): queued -> running -> graded,
one stored grade per submission, work left by a dead server queued again, nothing stored after stop."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from autograder.site.app import create_app
from autograder.site.models import GRADED, GRADING, QUEUED, Grade, Submission
from tests import toy_course
from tests.site.conftest import BOTH, HeldExecutor, notebook_bytes, people, set_password, upload, wait_for, zero_result

DATABASES = BOTH  # each test once on SQLite, once on PostgreSQL (conftest)


def state_on_page(client, url: str) -> str:
    return re.search(r'id="state">(\w+)<', client.get(url).text).group(1)


def test_status_page_goes_from_queued_to_graded(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    data = notebook_bytes(toy_course.solved(site.offered["toy"].spec.folder))
    # hold the loop back so that the queued state can be seen
    site.grading._stopping.set()
    site.grading._wake.set()
    site.grading._thread.join(timeout=10)
    url = upload(client, "toy", data).headers["location"]
    page = client.get(url).text
    assert state_on_page(client, url) == "queued" and '<meta http-equiv="refresh" content="2">' in page
    site.grading._stopping.clear()
    site.grading.start()
    wait_for(lambda: executor.submitted)
    assert state_on_page(client, url) == "running"
    job = executor.submitted[0]
    assert job.sandbox is False and job.assignment == str(site.offered["toy"].spec.folder.resolve())
    assert job.label == "toy.ipynb" and job.notebook.read_bytes() == data
    executor.finish_all(zero_result)
    wait_for(lambda: state_on_page(client, url) == "graded")
    page = client.get(url).text
    assert 'http-equiv="refresh"' not in page and 'href="/submissions/1/feedback"' in page
    fb = client.get("/submissions/1/feedback")
    assert fb.status_code == 200 and "held executor: not really graded" in fb.text
    assert "default-src 'none'" in fb.headers["content-security-policy"]
    listing = client.get("/assignments/toy").text
    assert 'b-graded">graded' in listing


def test_a_result_is_stored_once(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    upload(client, "toy", notebook_bytes(toy_course.blank(site.offered["toy"].spec.folder)))
    wait_for(lambda: executor.submitted)
    job = executor.submitted[0]
    executor.finish_all(zero_result)
    wait_for(lambda: site.grading.queue() == [])
    # a second Result for the same submission (an executor delivering twice) is dropped
    from concurrent.futures import Future

    again = Future()
    again.set_result(zero_result(job))
    site.grading._done(1, "alice", site.offered["toy"], again)
    with site.factory() as db:
        assert db.scalar(select(func.count()).select_from(Grade)) == 1
        assert db.get(Submission, 1).state == GRADED and db.get(Submission, 1).attempts == 1


def test_start_queues_again_what_a_dead_server_left_and_never_regrades(site_settings):
    executor = HeldExecutor()
    app = create_app(site_settings, executor)
    with TestClient(app) as client:
        set_password(client, people(app, "alice")["alice"])
        site = app.state.site
        toy = site.offered["toy"].spec.folder
        for nb in (toy_course.solved(toy), toy_course.blank(toy)):
            assert upload(client, "toy", notebook_bytes(nb)).status_code == 303
        wait_for(lambda: len(executor.submitted) == 2)
        executor._futures[executor.submitted[0].job_id][1].set_result(zero_result(executor.submitted[0]))
        wait_for(lambda: len(site.grading.queue()) == 1)
    # the lifespan stopped the loop like a dying server: the second job's result comes too late
    assert executor.stopped
    executor.finish_all(zero_result)
    with site.factory() as db:
        assert [s.state for s in db.scalars(select(Submission).order_by(Submission.id))] == [GRADED, GRADING]
        assert db.scalar(select(func.count()).select_from(Grade)) == 1
    second = HeldExecutor()
    app2 = create_app(site_settings, second)
    with TestClient(app2):
        wait_for(lambda: second.submitted)
        assert [j.job_id for j in second.submitted] == ["submission-2-2"]  # only the unfinished one, second try
        second.finish_all(zero_result)
        wait_for(lambda: app2.state.site.grading.queue() == [])
    with app2.state.site.factory() as db:
        assert db.scalar(select(func.count()).select_from(Grade)) == 2
        assert {s.state for s in db.scalars(select(Submission))} == {GRADED}


def test_a_broken_executor_future_leaves_the_submission_queued(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    upload(client, "toy", notebook_bytes(toy_course.blank(site.offered["toy"].spec.folder)))
    wait_for(lambda: executor.submitted)
    executor._futures[executor.submitted[0].job_id][1].set_exception(RuntimeError("executor bug"))
    wait_for(lambda: len(executor.submitted) == 2)  # queued again and handed out again
    with site.factory() as db:
        assert db.get(Grade, 1) is None


def test_unserved_assignment_stays_queued(held_site):
    app, make_client, executor = held_site
    site = app.state.site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    upload(client, "toy", notebook_bytes(toy_course.blank(site.offered["toy"].spec.folder)))
    wait_for(lambda: executor.submitted)
    with site.factory.begin() as db:
        db.execute(update(Submission).values(state=QUEUED, assignment="retired"))
    site.grading.wake()
    import time

    time.sleep(0.6)
    assert len(executor.submitted) == 1
    assert [sid for sid, *_ in site.grading.queue()] == [1]  # the first job is still the executor's


class FailingWrites:
    """Makes the site's database raise on statements that ``match`` while ``on`` (a disk error, a lost server)."""

    def __init__(self, factory, match) -> None:
        from sqlalchemy import event

        self.engine, self.match, self.on, self.refused = factory.kw["bind"], match, True, []
        event.listen(self.engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, params, context, executemany):
        if self.on and self.match(statement):
            self.refused.append(statement)
            raise RuntimeError("disk I/O error (the test's)")

    def remove(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._check)


def inserts_grade(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO GRADES")


def test_a_result_that_cannot_be_stored_is_shown_and_stored_later(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    site.grading.retry_s = 3.0
    toy = site.offered["toy"].spec.folder
    for nb in (toy_course.blank(toy), toy_course.solved(toy)):
        assert upload(client, "toy", notebook_bytes(nb)).status_code == 303
    wait_for(lambda: len(executor.submitted) == 2)
    failing = FailingWrites(site.factory, inserts_grade)
    first, second = executor.submitted
    try:
        executor._futures[first.job_id][1].set_result(zero_result(first))
        wait_for(lambda: failing.refused)
        failing.on = False  # the next write works again
        # not left 'grading': queued again, and the student reads why
        with site.factory() as db:
            sub = db.get(Submission, 1)
            assert sub.state == QUEUED and sub.error and db.get(Grade, 1) is None
        assert state_on_page(client, "/submissions/1") == "retrying"
        page = client.get("/submissions/1").text
        assert 'id="error"' in page and "nothing is lost" in page and 'http-equiv="refresh"' in page
        assert client.get("/submissions/1/feedback", follow_redirects=False).status_code == 303
        # the loop goes on: the other submission is graded and stored meanwhile
        executor._futures[second.job_id][1].set_result(zero_result(second))
        wait_for(lambda: state_on_page(client, "/submissions/2") == "graded")
        # a later try stores the held Result: graded, without grading the notebook again
        wait_for(lambda: state_on_page(client, "/submissions/1") == "graded", timeout=30)
    finally:
        failing.remove()
    assert len(executor.submitted) == 2
    with site.factory() as db:
        assert db.scalar(select(func.count()).select_from(Grade)) == 2
        assert db.get(Submission, 1).error is None and db.get(Submission, 1).state == GRADED
    page = client.get("/submissions/1").text
    assert 'id="error"' not in page and 'href="/submissions/1/feedback"' in page
    assert "held executor: not really graded" in client.get("/submissions/1/feedback").text


def test_a_store_that_fails_while_the_database_is_gone_is_queued_again_once_it_is_back(held_site):
    app, make_client, executor = held_site
    client = make_client()
    set_password(client, people(app, "alice")["alice"])
    site = app.state.site
    site.grading.retry_s = 0.2
    upload(client, "toy", notebook_bytes(toy_course.blank(site.offered["toy"].spec.folder)))
    wait_for(lambda: executor.submitted)
    failing = FailingWrites(site.factory, lambda statement: True)  # every statement of the site fails
    try:
        executor.finish_all(zero_result)
        wait_for(lambda: len(failing.refused) >= 3)  # the grade, putting the row back, and the loop's next pass
        assert site.grading._unqueued == {1}
        failing.on = False
        wait_for(lambda: state_on_page(client, "/submissions/1") == "graded", timeout=30)
    finally:
        failing.remove()
    assert len(executor.submitted) == 1 and not site.grading._unqueued
    with site.factory() as db:
        assert db.get(Submission, 1).state == GRADED and db.get(Grade, 1) is not None


def test_the_site_starts_its_graders_with_a_kernel_ahead_before_the_first_upload(tmp_path):
    # The first students after a (re)start must not wait for the grading stack, a kernel or its imports.
    from autograder.site.settings import SiteSettings
    from tests.executor.test_local import _kernels_below_us, _workers_below_us
    from tests.site.conftest import make_course

    source, release = make_course(tmp_path)
    before = frozenset(_workers_below_us())  # the session's default pool, should an earlier test have used it
    app = create_app(SiteSettings(data_dir=tmp_path / "site", source_dir=source, release_dir=release, sandbox=False, poll_s=0.2))
    with TestClient(app) as client:
        wait_for(lambda: len(_workers_below_us(before)) == 1 and list(_kernels_below_us().values()) == [False, False], timeout=90, step=0.2)
        set_password(client, people(app, "alice")["alice"])
        url = upload(client, "toy", notebook_bytes(toy_course.solved(source / "toy"))).headers["location"]
        wait_for(lambda: state_on_page(client, url) == "graded", timeout=120, step=0.2)
    assert _workers_below_us(before) == []  # the site's shutdown ends its workers
