"""The site's grading loop: the server is the one writer of results.

Submissions are acknowledged as ``queued`` rows. A background thread hands each to an executor (any
implementation of ``autograder.executor.Executor``: the local process pool by default) after marking it
``grading`` in the database; when its Result comes back, the Result and the feedback page the batch would
write are stored in one transaction, and the row becomes ``graded``. A grade is written at most once per
submission (the grades table is keyed by submission), so a Result that comes back twice is dropped.

Crash safety: on start, every row left ``grading`` by a server that died is queued again; what was
``graded`` is never graded again, and nothing acknowledged is lost, since the row and its file were on disk
before the upload was answered.

Regrades (``regrade_items``, made by an instructor's "regrade all") go through the same executor after the
fresh submissions, at most ``regrade_parallel`` at a time, so students who submit during a regrade are not
queued behind it. A regrade's Result replaces the submission's grade in one transaction with its item
becoming ``done``; until then the old grade stays. A Result that says the grader's side failed (no kernel,
the grading stack, an interrupted run) does not replace a grade: the item is ``failed``, the old grade stays.

A Result that cannot be stored (the database refuses the write, the feedback page fails to render) never
leaves its row ``grading``: the transaction is rolled back (nothing stored before is touched), the row goes
back to ``queued`` with a message for the student in ``submissions.error``, and the loop tries again after
a delay that doubles with each failure (``retry_s``, at most ``RETRY_MAX_S``), storing the Result it holds
instead of grading again (after a restart, the submission is graded again). A regrade item is queued again
the same way. If even that update fails (the database is gone), the loop keeps trying it on every pass.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from autograder.executor import Executor, Job, State
from autograder.grading import reference_store
from autograder.grading.limits import Limits
from autograder.grading.result import Result, Why
from autograder.report import feedback
from autograder.site.catalog import Offered
from autograder.site.models import DONE, FAILED, GRADED, GRADING, QUEUED, Grade, RegradeItem, Submission, User, utcnow
from autograder.site.storage import blob_path

log = logging.getLogger(__name__)

# What the status page says, beyond the database's states: the executor knows queued from running.
RUNNING = "running"
# Reasons that say the grader's side failed, not the submission: a regrade with one keeps the old grade.
GRADER_SIDE = {Why.NO_KERNEL, Why.EXECUTION, Why.INTERRUPTED}
# What the status page says of a queued submission whose last Result could not be stored.
RETRYING = "retrying"
STORE_FAILED = (
    "Your notebook was graded, but the server could not save its result (a fault on the server's side, "
    "not in your notebook). Your submission is stored and nothing is lost: the site saves the result again "
    "by itself, and this page shows the grade as soon as it is saved."
)
RETRY_MAX_S = 600.0  # the longest wait between two tries of one failing store


class GradingLoop:
    def __init__(
        self,
        factory: sessionmaker,
        executor: Executor,
        offered: dict[str, Offered],
        blobs: Path,
        *,
        limits: Limits | None = None,
        sandbox: bool = True,
        worker_memory_mb: int | None = 4096,
        poll_s: float = 2.0,
        on_graded: Callable[[str], None] | None = None,
        regrade_parallel: int = 1,
        retry_s: float = 10.0,
        due_next: Callable[[], str | None] | None = None,
    ) -> None:
        self.factory = factory
        self.executor = executor
        self.offered = offered
        self.blobs = blobs
        self.limits = limits or Limits()
        self.sandbox = sandbox
        self.worker_memory_mb = worker_memory_mb
        self.poll_s = poll_s
        self.on_graded = on_graded  # told the assignment after every stored grade (the gradebook's sync)
        self.due_next = due_next  # the assignment whose deadline comes next (what to warm up for)
        self.regrade_parallel = max(1, regrade_parallel)
        self._regrading: dict[tuple[int, int], str] = {}  # (run id, submission id) -> job id
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._render_lock = threading.Lock()  # matplotlib's rc_context is process-wide
        self._refs: dict[str, dict] = {}
        self._in_flight: dict[int, str] = {}  # submission id -> job id
        self._lock = threading.Lock()
        # Stores that failed (keys: a submission id, or (run id, submission id) of a regrade item).
        self.retry_s = retry_s
        self._failures: dict[object, int] = {}  # failed stores in a row
        self._retry_at: dict[object, float] = {}  # monotonic time before which it is not tried again
        self._held: dict[int, tuple[str, Result, str]] = {}  # submission id -> (assignment, Result, page) not yet stored
        self._unqueued: set[object] = set()  # failed, and putting the row back to queued failed too: still `grading`

    # -- life cycle
    def start(self) -> int:
        """Queue again what a dead server left in grading; start the loop. Returns how many were requeued."""
        with self.factory.begin() as db:
            requeued = db.execute(update(Submission).where(Submission.state == GRADING).values(state=QUEUED)).rowcount
            db.execute(update(RegradeItem).where(RegradeItem.state == GRADING).values(state=QUEUED))
        if requeued:
            log.info("%d submissions were being graded when the server stopped: queued again", requeued)
        self._warm_up()
        self._thread = threading.Thread(target=self._loop, name="site-grading-loop", daemon=True)
        self._thread.start()
        return requeued

    def _warm_up(self) -> None:
        """Have the executor start its workers now, with kernels ahead for the assignment submitted last (or
        the one due next, or the first one offered), so the first students after a start get their feedback as
        fast as the rest."""
        warm = getattr(self.executor, "warm_up", None)
        if warm is None or not self.offered:
            return
        with self.factory() as db:
            last = db.execute(select(Submission.assignment).order_by(Submission.id.desc()).limit(1)).scalar()
        due = self.due_next() if last is None and self.due_next is not None else None
        offered = self.offered.get(last) or self.offered.get(due) or self.offered[sorted(self.offered)[0]]
        notebook = offered.release_dir / f"{offered.name}.ipynb"  # names the kind of job; not read
        warm(
            Job(
                job_id="warm-up",
                assignment=offered.folder,
                notebook=notebook,
                limits=self.limits,
                sandbox=self.sandbox,
                worker_memory_mb=self.worker_memory_mb,
            )
        )

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop handing out work and end the running jobs; their submissions stay queued for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.executor.stop()

    # -- what the pages show
    def state_of(self, sub: Submission) -> str:
        """queued, running, retrying (queued again after its Result could not be stored) or graded."""
        if sub.state == GRADED:
            return GRADED
        if sub.state == QUEUED and sub.error:
            return RETRYING
        if sub.state == GRADING:
            with self._lock:
                job_id = self._in_flight.get(sub.id)
            if job_id is not None and any(j.job_id == job_id and j.state == State.RUNNING for j in self.executor.jobs()):
                return RUNNING
        return QUEUED

    def queue(self) -> list[tuple[int, str, str]]:
        """(submission id, job id, state) of every job the executor holds now."""
        states = {j.job_id: j for j in self.executor.jobs()}
        with self._lock:
            flight = dict(self._in_flight)
        return [(sid, jid, states[jid].state.value if jid in states else "handing back") for sid, jid in sorted(flight.items())]

    def reload(self, name: str, offered: Offered) -> None:
        """Grade ``name`` with a freshly loaded spec and reference from now on (regrade all)."""
        self.offered[name] = offered
        self._refs.pop(name, None)

    def regrading(self) -> int:
        with self._lock:
            return len(self._regrading)

    # -- the loop
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._dispatch()
            except Exception:  # a database hiccup must not end grading for the server's lifetime
                log.exception("the grading loop failed; trying again")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _dispatch(self) -> None:
        self._queue_again_unqueued()
        with self.factory() as db:
            rows = db.execute(
                select(Submission.id, Submission.assignment, Submission.sha256, Submission.filename, User.login)
                .join(User, User.id == Submission.user_id)
                .where(Submission.state == QUEUED)
                .order_by(Submission.id)
                .limit(500)
            ).all()
        for sid, assignment, sha, filename, login in rows:
            if self._stopping.is_set():
                return
            offered = self.offered.get(assignment)
            if offered is None:
                continue  # an assignment no longer served: stays queued until it is again
            if self._waiting(sid):
                continue
            with self.factory.begin() as db:
                won = db.execute(
                    update(Submission)
                    .where(Submission.id == sid, Submission.state == QUEUED)
                    .values(state=GRADING, attempts=Submission.attempts + 1)
                ).rowcount
                attempts = db.scalar(select(Submission.attempts).where(Submission.id == sid))
            if won != 1:
                continue
            with self._lock:
                held = self._held.pop(sid, None)
            if held is not None and held[0] == assignment:
                self._store(sid, offered, held[1], held[2])  # graded already: only its storing failed
                continue
            job = self._job(f"submission-{sid}-{attempts}", offered, sha, filename)
            with self._lock:
                self._in_flight[sid] = job.job_id
            future = self.executor.submit(job)
            future.add_done_callback(lambda f, sid=sid, login=login, offered=offered: self._done(sid, login, offered, f))
        self._dispatch_regrades()

    def _job(self, job_id: str, offered: Offered, sha: str, filename: str) -> Job:
        """The executor's job for a stored submission (a first grading or a regrade)."""
        return Job(
            job_id=job_id,
            assignment=offered.folder,
            notebook=blob_path(self.blobs, sha),
            limits=self.limits,
            sandbox=self.sandbox,
            label=filename,  # the student's own file name: no server paths in the Result
            worker_memory_mb=self.worker_memory_mb,
        )

    def _dispatch_regrades(self) -> None:
        free = self.regrade_parallel - self.regrading()
        if free <= 0 or self._stopping.is_set():
            return
        with self._lock:
            waiting = sum(1 for k in self._retry_at if isinstance(k, tuple))
        with self.factory() as db:
            rows = db.execute(
                select(
                    RegradeItem.run_id, RegradeItem.submission_id, Submission.assignment, Submission.sha256, Submission.filename, User.login
                )
                .join(Submission, Submission.id == RegradeItem.submission_id)
                .join(User, User.id == Submission.user_id)
                .where(RegradeItem.state == QUEUED)
                .order_by(RegradeItem.run_id, RegradeItem.submission_id)
                .limit(free + waiting)
            ).all()
        for run, sid, assignment, sha, filename, login in rows:
            offered = self.offered.get(assignment)
            if offered is None or self._stopping.is_set() or self._waiting((run, sid)):
                continue
            if free <= 0:
                break
            with self.factory.begin() as db:
                won = db.execute(
                    update(RegradeItem)
                    .where(RegradeItem.run_id == run, RegradeItem.submission_id == sid, RegradeItem.state == QUEUED)
                    .values(state=GRADING, attempts=RegradeItem.attempts + 1)
                ).rowcount
                attempts = db.scalar(select(RegradeItem.attempts).where(RegradeItem.run_id == run, RegradeItem.submission_id == sid))
            if won != 1:
                continue
            job = self._job(f"regrade-{run}-{sid}-{attempts}", offered, sha, filename)
            with self._lock:
                self._regrading[(run, sid)] = job.job_id
            free -= 1
            future = self.executor.submit(job)
            future.add_done_callback(lambda f, run=run, sid=sid, login=login, offered=offered: self._regraded(run, sid, login, offered, f))

    def _regraded(self, run: int, sid: int, login: str, offered: Offered, future: Future) -> None:
        try:
            if self._stopping.is_set():
                return  # queued again on the next start
            try:
                result: Result = future.result()
            except Exception:
                log.exception("the executor raised for the regrade of submission %d; it is tried again", sid)
                result = None
            item = (RegradeItem.run_id == run, RegradeItem.submission_id == sid, RegradeItem.state == GRADING)
            if result is None:
                with self.factory.begin() as db:
                    db.execute(update(RegradeItem).where(*item).values(state=QUEUED))
                return
            if any(r.code in GRADER_SIDE for r in result.reasons):
                log.warning("regrade of submission %d failed on the grader's side (%s); its grade stays", sid, "; ".join(result.reasons))
                with self.factory.begin() as db:
                    db.execute(update(RegradeItem).where(*item).values(state=FAILED, done_at=utcnow()))
                return
            with self._render_lock:
                page = feedback.render_feedback(offered.spec, result, self._reference_values(offered), student=login)
            with self.factory.begin() as db:
                old = db.scalar(select(Grade.score).where(Grade.submission_id == sid))
                won = db.execute(
                    update(RegradeItem).where(*item).values(state=DONE, done_at=utcnow(), old_score=old, new_score=result.score)
                ).rowcount
                if won != 1:
                    return  # delivered twice: the first one is stored
                db.execute(
                    update(Grade)
                    .where(Grade.submission_id == sid)
                    .values(
                        score=result.score,
                        max_score=result.max_score,
                        status=result.status,
                        result_json=json.dumps(result.to_dict()),
                        feedback_html=page,
                        graded_at=utcnow(),
                    )
                )
            self._stored((run, sid))
            if self.on_graded is not None:
                self.on_graded(offered.name)
        except Exception:
            log.exception("storing the regrade of submission %d failed; it is regraded again later", sid)
            self._failed((run, sid))
        finally:
            with self._lock:
                self._regrading.pop((run, sid), None)
            self.wake()  # the next regrade item

    def _reference_values(self, offered: Offered) -> dict:
        if offered.name not in self._refs:
            self._refs[offered.name] = reference_store.load(offered.spec)
        return self._refs[offered.name]

    def _done(self, sid: int, login: str, offered: Offered, future: Future) -> None:
        try:
            if self._stopping.is_set():
                return  # an interrupted job's Result says 'interrupted': not a grade; it is graded on the next start
            try:
                result: Result = future.result()
            except Exception:  # the protocol says never; a broken executor must not lose the submission
                log.exception("the executor raised for submission %d; it stays queued", sid)
                try:
                    with self.factory.begin() as db:
                        db.execute(update(Submission).where(Submission.id == sid, Submission.state == GRADING).values(state=QUEUED))
                except Exception:
                    log.exception("submission %d could not be queued again; the loop keeps trying", sid)
                    with self._lock:
                        self._unqueued.add(sid)
                self.wake()
                return
            self._store(sid, offered, result, None, login)
        finally:
            with self._lock:
                self._in_flight.pop(sid, None)

    def _store(self, sid: int, offered: Offered, result: Result, page: str | None, login: str = "") -> None:
        """Store a submission's Result with its feedback page (rendered here unless given) and mark it graded;
        a failure queues it again, holding the Result and page to store on the next try."""
        try:
            if page is None:
                with self._render_lock:
                    page = feedback.render_feedback(offered.spec, result, self._reference_values(offered), student=login)
            stored = self._write_grade(sid, result, page)
        except Exception:
            log.exception("storing the result of submission %d failed; it is tried again", sid)
            if page is not None:
                with self._lock:
                    self._held[sid] = (offered.name, result, page)
            self._failed(sid)
            return
        self._stored(sid)
        if stored and self.on_graded is not None:
            self.on_graded(offered.name)

    def _write_grade(self, sid: int, result: Result, page: str) -> bool:
        """The grade and the row's ``graded`` in one transaction; False if the submission had a grade already."""
        try:
            with self.factory.begin() as db:
                db.add(
                    Grade(
                        submission_id=sid,
                        score=result.score,
                        max_score=result.max_score,
                        status=result.status,
                        result_json=json.dumps(result.to_dict()),
                        feedback_html=page,
                    )
                )
                db.flush()
                db.execute(update(Submission).where(Submission.id == sid).values(state=GRADED, error=None))
        except IntegrityError:
            log.warning("submission %d already has a grade; this second result is dropped", sid)
            return False
        return True

    # -- failed stores: queued again, tried again later
    def _waiting(self, key: object) -> bool:
        with self._lock:
            at = self._retry_at.get(key)
        return at is not None and time.monotonic() < at

    def _stored(self, key: object) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._retry_at.pop(key, None)

    def _failed(self, key: object) -> None:
        """A store of ``key`` failed: not before a doubling delay, and its row back to queued (never left grading)."""
        with self._lock:
            n = self._failures[key] = self._failures.get(key, 0) + 1
            self._retry_at[key] = time.monotonic() + min(self.retry_s * 2 ** (n - 1), RETRY_MAX_S)
        try:
            self._queue_again(key)
        except Exception:
            log.exception("%s could not be queued again after a failed store; the loop keeps trying", key)
            with self._lock:
                self._unqueued.add(key)

    def _queue_again(self, key: object) -> None:
        with self.factory.begin() as db:
            if isinstance(key, tuple):
                run, sid = key
                db.execute(
                    update(RegradeItem)
                    .where(RegradeItem.run_id == run, RegradeItem.submission_id == sid, RegradeItem.state == GRADING)
                    .values(state=QUEUED)
                )
            elif key in self._failures:
                db.execute(
                    update(Submission).where(Submission.id == key, Submission.state == GRADING).values(state=QUEUED, error=STORE_FAILED)
                )
            else:  # the executor failed, not a store: nothing for the student to read
                db.execute(update(Submission).where(Submission.id == key, Submission.state == GRADING).values(state=QUEUED))

    def _queue_again_unqueued(self) -> None:
        with self._lock:
            keys = list(self._unqueued)
        for key in keys:
            self._queue_again(key)  # raises while the database is still gone: the loop logs it and waits
            with self._lock:
                self._unqueued.discard(key)
