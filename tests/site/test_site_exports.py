"""The gradebook's writer thread (``site/exports.py``): grades that arrive together are written together, and
nothing marked is left unwritten at a stop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from autograder.site.exports import GradebookSync


class CountingSync(GradebookSync):
    """A GradebookSync whose writes are counted instead of done (the real write is the nbgrader tests')."""

    def __init__(self, interval_s: float) -> None:
        super().__init__(Path("unused.db"), None, lambda: None, {"toy": None, "other": None}, interval_s)
        self.writes: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def _write(self, name: str) -> None:
        with self.lock:
            self.writes.append((time.monotonic(), name))


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_grades_arriving_within_an_interval_are_written_once():
    sync = CountingSync(interval_s=1.0)
    sync.start()  # catches up with both assignments at once
    try:
        _wait_for(lambda: len(sync.writes) == 2)
        started = time.monotonic()
        for _ in range(20):  # a spike: a grade every 20 ms
            sync.mark("toy")
            time.sleep(0.02)
        _wait_for(lambda: len(sync.writes) == 3)
        time.sleep(1.5)
        assert [name for _, name in sync.writes] == ["other", "toy", "toy"]  # 20 marks, one write
        assert sync.writes[2][0] - started >= 0.9  # not before the interval was over
    finally:
        sync.stop()


def test_a_stop_writes_what_was_marked_during_the_last_interval():
    sync = CountingSync(interval_s=60.0)
    sync.start()
    _wait_for(lambda: len(sync.writes) == 2)
    sync.mark("toy")  # within the interval: waits
    time.sleep(0.2)
    assert len(sync.writes) == 2
    started = time.monotonic()
    sync.stop()
    assert time.monotonic() - started < 5  # the thread's wait is cut short
    assert [name for _, name in sync.writes][2:] == ["toy"]


def test_a_writer_process_that_died_is_reported_and_replaced(toy_course_root, tmp_path):
    from autograder.site import catalog, rules
    from autograder.site.models import default_url, open_db

    url = default_url(tmp_path)
    offered = catalog.load(toy_course_root / "source_solutions", toy_course_root / "assignments")
    course = rules.load(toy_course_root / "source_solutions", known=set(offered))
    sync = GradebookSync(tmp_path / "gradebook.db", open_db(url), lambda: course, offered, 60.0, db_url=url)
    try:
        sync.mark("toy")
        sync.flush()  # no grade yet: nothing to write, but the writer process is started
        assert sync.errors == {}
        [child] = sync._pool._processes.values()
        child.kill()
        child.join(10)
        sync.mark("toy")
        sync.flush()
        assert "writer process ended" in sync.errors["toy"]  # shown on the instructor's page
        sync.mark("toy")
        sync.flush()  # a new writer
        assert sync.errors == {}
        [again] = sync._pool._processes.values()
        assert again.pid != child.pid and again.is_alive()
    finally:
        sync.stop()
    assert sync._pool is None
