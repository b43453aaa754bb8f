"""What instructors take away: the grades CSV and nbgrader's gradebook, both over the counted submissions.

The gradebook (``<data dir>/gradebook.db``, course id ``course``) is written by ``report.gradebook``'s
``write_gradebook`` (the batch's own writer, idempotent), plus what only the site knows: the assignment's
due date and each submission's late penalty (``SubmittedNotebook.late_submission_penalty``, the raw score
minus the counted one), so ``nbgrader export`` prints the counted score. A background thread rewrites an
assignment's part after each stored grade (many grades in a burst: one write), so it stays in sync; the
site has it do so in a process of its own.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import multiprocessing
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from autograder import gradebook_schema
from autograder.executor.job import Priority
from autograder.executor.worker import lower_priority
from autograder.grading.result import Result
from autograder.grading.spec import Assignment
from autograder.report import csv_export
from autograder.report import gradebook as gradebook_mod
from autograder.report.common import ReportError, fmt
from autograder.site.catalog import Offered
from autograder.site.models import Grade, make_engine
from autograder.site.rules import CourseRules
from autograder.site.standing import Graded, standings

log = logging.getLogger(__name__)

COURSE_ID = "course"
GRADEBOOK_FILE = "gradebook.db"


def counted_results(factory: sessionmaker, course: CourseRules, assignment: str) -> tuple[dict[str, Result], dict[str, Graded]]:
    """login -> the counted submission's Result, and login -> how it counts (lateness, score after penalty)."""
    with factory() as db:
        found = standings(db, course, assignment=assignment)
        ids = [s.counted.submission_id for s in found.values()]
        stored = (
            {sid: rj for sid, rj in db.execute(select(Grade.submission_id, Grade.result_json).where(Grade.submission_id.in_(ids)))}
            if ids
            else {}
        )
    results, how = {}, {}
    for st in found.values():
        g = st.counted
        results[g.login] = Result.from_dict(json.loads(stored[g.submission_id]))
        how[g.login] = g
    return results, how


def grades_csv(factory: sessionmaker, course: CourseRules, offered: Offered) -> str:
    """The batch's CSV (one row per student, one column per graded function, the raw total) over the counted
    submissions, plus when it was submitted (course time), days late and the score that counts."""
    results, how = counted_results(factory, course, offered.name)
    rows = list(csv.reader(io.StringIO(csv_export.grades_csv_text(offered.spec, results))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], "submitted", "late_days", "counted"])
    for row in rows[1:]:
        login = row[0][1:] if row[0].startswith("'") and row[0][1:] in how else row[0]
        g = how[login]
        writer.writerow([*row, course.show(g.created_at, seconds=True), g.late_days, fmt(g.score)])
    return out.getvalue()


def write_assignment(factory: sessionmaker, gradebook_url: str, spec: Assignment, course: CourseRules, name: str) -> None:
    """Write one assignment's part of the gradebook at ``gradebook_url`` from the counted submissions."""
    from nbgrader.api import Gradebook, MissingEntry

    results, how = counted_results(factory, course, name)
    if not results:
        return
    gradebook_mod.write_gradebook(gradebook_url, spec, results, COURSE_ID, timestamps={login: g.created_at for login, g in how.items()})
    gb = Gradebook(gradebook_url, course_id=COURSE_ID)
    try:
        gb.update_or_create_assignment(name, duedate=course.of(name).deadline)
        nb_name = gradebook_mod.notebook_name(spec)
        for login, g in how.items():
            try:
                nb = gb.find_submission_notebook(nb_name, name, login)
            except MissingEntry:
                continue
            nb.late_submission_penalty = g.raw - g.score if g.late else None
        gb.db.commit()
    finally:
        gb.close()
        gb.engine.dispose()


_child_factories: dict[str, sessionmaker] = {}  # in the writer process: one engine per site database


def _write_in_child(db_url: str, gradebook_url: str, spec: Assignment, course: CourseRules, name: str) -> None:
    factory = _child_factories.get(db_url)
    if factory is None:
        factory = _child_factories[db_url] = sessionmaker(make_engine(db_url), expire_on_commit=False)
    write_assignment(factory, gradebook_url, spec, course, name)


class GradebookSync:
    """Keeps ``gradebook.db`` in step with the counted grades: ``mark(assignment)`` after a change; a thread
    writes what was marked, at most once every ``interval_s`` (``flush()`` writes at once; ``stop()`` writes
    what is left).

    Given ``db_url`` (the site database's), the writes run in a process of their own, started at the first
    write and kept: a write goes through nbgrader's ORM for every student of the assignment, seconds of
    Python for a large class, and in the web process it would hold the interpreter lock the pages need.
    """

    def __init__(
        self,
        path: Path,
        factory: sessionmaker,
        course: Callable[[], CourseRules],
        offered: dict[str, Offered],
        interval_s: float,
        db_url: str | None = None,
    ) -> None:
        self.path = path
        self.db_url = db_url
        self._pool: ProcessPoolExecutor | None = None
        self.interval_s = interval_s
        self.url = f"sqlite:///{path.resolve()}"
        self.factory = factory
        self.course = course
        self.offered = offered
        self.errors: dict[str, str] = {}  # assignment -> why its last write failed
        self._dirty: set[str] = set()
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.mark(*self.offered)  # catch up with what changed while no server ran
        self._thread = threading.Thread(target=self._loop, name="site-gradebook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()  # what was marked during the last interval
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def mark(self, *assignments: str) -> None:
        with self._lock:
            self._dirty.update(assignments)
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            self.flush()
            self._stopping.wait(self.interval_s)  # marks meanwhile are written together, next time

    def flush(self) -> None:
        """Write every assignment marked since the last write (the caller waits)."""
        with self._write_lock:
            with self._lock:
                todo, self._dirty = sorted(self._dirty), set()
            for name in todo:
                if name in self.offered:
                    self._write(name)

    def _write(self, name: str) -> None:
        offered = self.offered[name]
        args = (self.url, offered.spec, self.course(), name)
        try:
            if self.db_url is None:
                write_assignment(self.factory, *args)
            else:
                self._child().submit(_write_in_child, self.db_url, *args).result()
            self.errors.pop(name, None)
        except ReportError as exc:
            self.errors[name] = str(exc)
            log.error("the gradebook of %s was not written: %s", name, exc)
        except BrokenProcessPool as exc:  # the writer process died (killed, out of memory): a new one next time
            self._pool = None
            self.errors[name] = f"the gradebook's writer process ended: {exc}"
            log.error("the gradebook of %s was not written: its writer process ended", name)
        except Exception as exc:  # the thread must live on; the page shows the error
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            log.exception("the gradebook of %s was not written", name)

    def _child(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: this process has threads (a fork copies their locks in whatever state they are)
            # Below the pages for the CPU; not idle: a download waits for this write.
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority, initargs=(Priority.LOW,)
            )
        return self._pool

    def snapshot(self) -> bytes:
        """The gradebook as one consistent SQLite file (written first, so it holds every stored grade)."""
        self.mark(*self.offered)
        self.flush()
        if not self.path.exists():
            gradebook_schema.create_schema(self.url)  # no grade yet: an empty gradebook, as nbgrader makes one
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / GRADEBOOK_FILE
            src = sqlite3.connect(self.path)
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)  # SQLite's online backup: consistent even while the thread writes
            finally:
                dst.close()
                src.close()
            return copy.read_bytes()
