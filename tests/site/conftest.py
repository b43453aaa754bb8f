"""Fixtures of the course-site tests: a toy course (numpy only) with a released copy, a site over it, and
clients signed in as students and as an instructor."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import argon2
import pytest

from autograder.site import accounts, security  # noqa: E402
from tests import toy_course
from tests.browser import chromium
from tests.site import pg_server  # noqa: E402

# The course setup lives in toy_site (the benchmarks use it too); the tests import it from here.
from tests.site.toy_site import PASSWORD, csrf_of, free_port, make_course, notebook_bytes, wrong  # noqa: F401

# argon2 at its real cost takes 0.2-0.3 s of CPU per hash or check, and the site's tests sign in some 150
# times. They hash with the same argon2id at the lowest cost; test_site_accounts checks the real one.
REAL_HASHER = security._hasher
CHEAP_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(security, "_hasher", CHEAP_HASHER)
    monkeypatch.setattr(security, "_DUMMY_HASH", CHEAP_HASHER.hash("a password nobody has"))


@pytest.fixture(scope="session")
def toy_course_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site-course")
    make_course(root)
    return root


def link_token(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def set_password(client, token: str, password: str = PASSWORD):
    page = client.get(f"/signin/link/{token}")
    assert page.status_code == 200, page.text
    return client.post(
        f"/signin/link/{token}", data={"csrf": csrf_of(page.text), "password": password, "again": password}, follow_redirects=False
    )


def sign_in(client, login: str, password: str = PASSWORD):
    page = client.get("/signin")
    return client.post("/signin", data={"csrf": csrf_of(page.text), "login": login, "password": password}, follow_redirects=False)


def upload(client, assignment: str, data: bytes, filename: str = "toy.ipynb"):
    page = client.get(f"/assignments/{assignment}")
    return client.post(
        f"/assignments/{assignment}/submit?csrf={csrf_of(page.text)}",
        files={"notebook": (filename, data, "application/octet-stream")},
        follow_redirects=False,
    )


# A test module that sets DATABASES = BOTH runs each of its tests that use the database (through site_settings
# or db_url) once on SQLite and once on a real PostgreSQL server.
BOTH = ("sqlite", "postgresql")


def databases(*kinds: str):
    """A test's own choice among BOTH, over its module's DATABASES."""

    def mark(test):
        test.databases = kinds
        return test

    return mark


def pytest_generate_tests(metafunc):
    kinds = getattr(metafunc.function, "databases", None) or getattr(metafunc.module, "DATABASES", None)
    if kinds and "db_kind" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", kinds)


@pytest.fixture
def db_kind() -> str:
    return "sqlite"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of this test session (started on first use), or a skip saying why there is none."""
    try:
        server = pg_server.Server()
    except pg_server.Unavailable as why:
        pytest.skip(str(why))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("the PostgreSQL driver psycopg is not installed (pip install -e .)")
    with server:
        yield server


_databases = iter(range(1, 10**6))


@pytest.fixture
def db_url(db_kind, tmp_path, request) -> str | None:
    """None (the site's default: SQLite in its data folder) or the URL of a new, empty PostgreSQL database."""
    if db_kind == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres")
    name = f"site{next(_databases)}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)  # FORCE: the site's pooled connections end with it


def db_args(settings) -> list[str]:
    """The CLI flags that point a command at the database of ``settings``."""
    return ["--data-dir", str(settings.data_dir)] + (["--db-url", settings.db_url] if settings.db_url else [])


@pytest.fixture
def site_settings(tmp_path, toy_course_root, db_url):
    from autograder.site.settings import SiteSettings

    return SiteSettings(
        data_dir=tmp_path / "site",
        db_url=db_url,
        source_dir=toy_course_root / "source_solutions",
        release_dir=toy_course_root / "assignments",
        sandbox=False,
        poll_s=0.2,
        max_upload_mb=2,
        gradebook_process=False,  # the writer process costs two seconds to start; test_site_course starts one
    )


@pytest.fixture
def site(site_settings):
    """(app, make_client): the site over the toy course with its grading loop running (one local worker)."""
    from starlette.testclient import TestClient

    from autograder.site.app import create_app

    app = create_app(site_settings)
    clients = []

    def make_client():
        c = TestClient(app)
        clients.append(c)
        return c

    with TestClient(app) as first:  # runs the lifespan: the grading loop starts and stops with it
        clients.append(first)
        yield app, make_client, first
    for c in clients:
        c.close()


def people(app, *logins: str) -> dict[str, str]:
    """Create students; return login -> sign-in token."""
    made = accounts.import_roster(app.state.site.factory, [accounts.Person(x, x.title(), f"{x}@example.org") for x in logins])
    return {p.login: token for p, token, _ in made}


@pytest.fixture
def student_client(site):
    """A client signed in as student 'alice' (and the app, and a way to make more clients)."""
    app, make_client, _ = site
    tokens = people(app, "alice", "bob")
    alice = make_client()
    assert set_password(alice, tokens["alice"]).status_code == 303
    bob = make_client()
    assert set_password(bob, tokens["bob"]).status_code == 303
    return app, alice, bob


class HeldExecutor:
    """An executor (the Executor protocol) whose jobs finish only when the test says so: no worker, no kernel.

    ``finish(job_id, result)`` completes a job; ``finish_all(make)`` completes every open one with ``make(job)``.
    """

    name = "held"

    def __init__(self) -> None:
        import threading

        self.submitted: list = []
        self._futures: dict = {}
        self._lock = threading.Lock()
        self.stopped = False

    def submit(self, job):
        from concurrent.futures import Future

        future = Future()
        with self._lock:
            self.submitted.append(job)
            self._futures[job.job_id] = (job, future)
        return future

    def jobs(self):
        from autograder.executor import JobState, State

        with self._lock:
            return [JobState(jid, State.RUNNING) for jid, (_, f) in self._futures.items() if not f.done()]

    def finish_all(self, make) -> int:
        with self._lock:
            open_ = [(j, f) for j, f in self._futures.values() if not f.done()]
        for job, future in open_:
            future.set_result(make(job))
        return len(open_)

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass


def zero_result(job):
    from autograder.executor import failure_result
    from autograder.grading.result import REJECTED

    return failure_result(job, REJECTED, "held executor: not really graded")


@pytest.fixture
def held_site(site_settings):
    """(app, make_client, executor): the site over the toy course with a HeldExecutor."""
    from starlette.testclient import TestClient

    from autograder.site.app import create_app

    executor = HeldExecutor()
    app = create_app(site_settings, executor)
    clients = []

    def make_client():
        c = TestClient(app)
        clients.append(c)
        return c

    with TestClient(app) as first:
        clients.append(first)
        yield app, make_client, executor
    for c in clients:
        c.close()


def wait_for(predicate, timeout: float = 60.0, step: float = 0.1):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s: {predicate}")


def start_server(root, port: int) -> subprocess.Popen:
    """``autograder serve`` over the course in ``root`` on a loopback port, in a session of its own (for kill_tree);
    its output goes to root/server.log."""
    log = open(root / "server.log", "ab")  # noqa: SIM115 (the child keeps it open)
    env = {**os.environ, "PYTHONPATH": str(toy_course.TOY.parents[2])}  # this checkout's package, also in the workers
    proc = subprocess.Popen(
        [
            str(toy_course.AUTOGRADER),
            "serve",
            "--data-dir",
            str(root / "site"),
            "--source-dir",
            str(root / "source_solutions"),
            "--release-dir",
            str(root / "assignments"),
            "--port",
            str(port),
            "--unsafe",
            "--workers",
            "1",
            "--book",
            "None",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the server ended: {(root / 'server.log').read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for(up, timeout=60, step=0.2)
    return proc


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright (the site's browser tests), closed afterwards."""
    with chromium() as b:
        yield b
