"""The Celery executor: grading on many machines through a broker (Redis by default, RabbitMQ by URL).

The coordinator (``autograder grade --executor celery``, the course site) holds a ``CeleryExecutor``: each
``Job`` goes to the queue as one task whose argument is ``Job.to_wire()`` (the notebook's bytes included),
and its Future is resolved from the result backend. Worker machines run ``autograder worker --broker URL``
(``run_worker``): the task grades the job exactly as the local executor does, with
``run_in_worker_process`` (one worker process per job, in a session of its own, the sandbox and limits
of the job), never inside the Celery process itself. The task returns ``Result.to_dict()``, or, when the
worker refuses the job, ``{"refused": {"worker": ..., "differences": [...]}}``.

What survives what:

* A worker that dies: tasks are acknowledged late (after their result is stored) and rejected back to the
  queue when a pool process is lost (``acks_late``, ``reject_on_worker_lost``); a worker process takes one
  message at a time (prefetch 1). When a whole machine vanishes, Redis hands its unacknowledged messages
  out again after the visibility timeout (``--visibility-timeout``, longer than the longest job);
  RabbitMQ does so at once, when the connection drops.
* A broker that restarts: Redis keeps the queue on disk (AOF, see docs/deploy-celery.md); workers and the
  coordinator reconnect for as long as it takes; results are stored with retries.
* A job run twice (a redelivery after an acknowledgement lost in an outage): the coordinator takes the first
  result of each job and forgets the rest. It is the only writer of results, gradebook and database.
* Time: the worker process is killed after ``job.timeout`` (a zero result with the reason; the Celery
  worker lives on); Celery's own soft and hard limits, a little later, only guard against a stuck task.

Course versions (the rule): every job carries the coordinator's ``Fingerprint`` of the assignment. A worker
computes its own for the assignment of that name in its ``--course`` folder; if the combined digests
differ (or it has no such assignment) it refuses, grading nothing, and says which files differ. The
coordinator logs each refusing worker once, with the files, and sends the job again (after a short,
growing delay; the refusing worker waits a few seconds before answering, so it leaves the queue's jobs to
the others) while some worker has not refused this version: one that answers ``ping`` (or, when none
answers, one that has already graded a job of it). When every worker it knows of has refused (or, with none answering, after
``MAX_REFUSALS`` refusals), the job's Future raises ``Refused``: no Result, so no zero is stored as the
student's grade; the batch reports the job and the workers instead.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

from celery import Celery
from celery import states as celery_states
from celery.backends.base import KeyValueStoreBackend

from autograder import config, course
from autograder.errors import UsageError
from autograder.executor.job import WORKER_GRACE_S, Job, JobState, Refused, State, failure_result
from autograder.executor.local import run_in_worker_process, set_default_kernels_ahead
from autograder.grading import fingerprint as fp_mod
from autograder.grading import leftovers
from autograder.grading import spec as spec_mod
from autograder.grading.result import INCOMPLETE, REJECTED, Reason, Result, Why

log = logging.getLogger(__name__)

TASK = "autograder.grade"
# Celery's own limits come this many seconds after the job's, which the task enforces itself.
SOFT_LIMIT_MARGIN_S = 30
HARD_LIMIT_MARGIN_S = 60
# Refusals of one job after which it is given up when no worker answers ping and none graded its version.
MAX_REFUSALS = 10
# Delay before a refused job is sent again: RETRY_BASE_S, doubled per refusal, at most RETRY_MAX_S.
RETRY_BASE_S = 0.5
RETRY_MAX_S = 4.0
# A refusing worker process waits this long before it answers, so that it does not take the queue's jobs
# from the workers that can grade them (it would take every job it sees, being idle, and refuse it).
REFUSAL_PAUSE_S = 3.0
PING_TIMEOUT_S = 2.0
PING_EVERY_S = 10.0
MGET_CHUNK = 500
# Stored results are kept this long (a redelivered message finds its job's answer there).
RESULT_EXPIRES_S = 2 * 24 * 3600


def default_backend(broker: str, backend: str | None) -> str:
    """The result backend's URL: the one given, else the broker itself when it is Redis."""
    if backend:
        return backend
    if broker.startswith(("redis://", "rediss://", "redis+socket://")):
        return broker
    raise UsageError(
        f"the broker {broker.split('@')[-1]} is not Redis: give a result backend with --backend "
        "(e.g. redis://HOST:6379/1); see docs/deploy-celery.md"
    )


def make_app(
    broker: str,
    backend: str | None = None,
    *,
    queue: str = config.CELERY_QUEUE,
    visibility_timeout: int = config.VISIBILITY_TIMEOUT_S,
    course_dir: Path | None = None,
) -> Celery:
    """The Celery app of coordinators and workers alike (``course_dir``: where a worker finds assignments)."""
    app = Celery("autograder", broker=broker, backend=default_backend(broker, backend), set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,  # the coordinator's jobs() shows where each job runs
        worker_prefetch_multiplier=1,  # a worker process holds one job at a time: none waits behind a long one
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # reconnect for as long as the broker is away
        result_backend_always_retry=True,
        # A running job goes on through a broker outage; if its acknowledgement is lost, the message comes
        # back and the task finds the job's stored result (below) instead of grading it again.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_expires=RESULT_EXPIRES_S,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for the messages of vanished workers every few seconds (kombu's default: every 100 s)
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
        },
    )
    where = Path(course_dir) if course_dir is not None else course.SOURCE_DIR
    _warned: list[bool] = []
    redis = broker.startswith(("redis://", "rediss://", "redis+socket://"))  # the visibility timeout is Redis's

    @app.task(name=TASK, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True)
    def grade(self, wire: dict) -> dict:
        # A message handed out again after its job finished (an acknowledgement lost in a broker outage, a
        # job longer than the visibility timeout): the stored answer stands, nothing is graded twice. Celery
        # never overwrites a stored success, so it is still there when this copy starts.
        done = self.AsyncResult(self.request.id)
        if done.state == celery_states.SUCCESS:
            log.info("%s was graded already; not grading it again", self.request.id)
            return done.result
        seconds = wire.get("time_limit") or (wire.get("limits") or {}).get("notebook_timeout", 0) + WORKER_GRACE_S
        if redis and seconds + SOFT_LIMIT_MARGIN_S > visibility_timeout and not _warned:
            _warned.append(True)  # once per worker process
            log.warning(
                "%s may take %.0f s, more than the visibility timeout (%d s): Redis may hand it to another "
                "worker meanwhile; give the workers a longer --visibility-timeout",
                self.request.id,
                seconds,
                visibility_timeout,
            )
        return grade_wire(wire, where, self.request.hostname or socket.gethostname(), REFUSAL_PAUSE_S)

    return app


# ----------------------------------------------------------------------------------------- the worker side


def _refusal(worker: str, differences: list[str], pause: float = 0.0) -> dict:
    time.sleep(pause)
    return {"refused": {"worker": worker, "differences": differences or ["another version"]}}


def grade_wire(wire: dict, course_dir: Path, worker: str, refusal_pause: float = 0.0) -> dict:
    """The task's body: refuse a job of another course version (after ``refusal_pause`` s), else grade it."""
    name = Path(str(wire.get("assignment", ""))).name
    assignment = Path(course_dir) / name
    try:
        spec = spec_mod.load(assignment)
    except spec_mod.SpecError as exc:
        log.warning("refusing %s: no usable assignment '%s' in %s (%s)", wire.get("job_id"), name, course_dir, exc)
        return _refusal(worker, [f"no usable assignment '{name}' in {course_dir}"], refusal_pause)
    if wire.get("fingerprint") is not None:
        try:
            theirs = fp_mod.Fingerprint.from_dict(wire["fingerprint"])
        except ValueError as exc:
            return _refusal(worker, [f"the job's fingerprint cannot be read: {exc}"], refusal_pause)
        mine = fp_mod.of_assignment(spec)
        if mine.combined != theirs.combined:
            differences = mine.differences(theirs)
            log.warning("refusing %s of %s: %s", wire.get("job_id"), name, ", ".join(differences))
            return _refusal(worker, differences, refusal_pause)
    folder = leftovers.make_folder("job")
    try:
        job = Job.from_wire({**wire, "assignment": str(assignment.resolve())}, folder)
        return run_in_worker_process(job).to_dict()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_worker(cfg: config.Worker) -> int:
    """CLI handler of ``autograder worker``: a Celery worker that grades jobs from ``cfg.broker``."""
    if not Path(cfg.course).is_dir():
        raise UsageError(f"the course folder {cfg.course} does not exist")
    app = make_app(cfg.broker, cfg.backend, queue=cfg.queue, visibility_timeout=cfg.visibility_timeout, course_dir=cfg.course)
    set_default_kernels_ahead(cfg.kernels_ahead)  # before Celery forks its pool processes
    argv = ["worker", f"--concurrency={max(1, cfg.concurrency)}", f"--queues={cfg.queue}", "--pool=prefork", f"--loglevel={cfg.loglevel}"]
    if cfg.name:
        argv.append(f"--hostname={cfg.name}")
    app.worker_main(argv)
    return 0


# ------------------------------------------------------------------------------------ the coordinator side


@dataclasses.dataclass
class _Pending:
    job: Job
    future: Future
    wire: dict | None = None
    task_id: str | None = None
    send_at: float = 0.0
    state: JobState | None = None
    refusals: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    refused: int = 0


class CeleryExecutor:
    """Jobs to Celery workers through ``broker``; Results back through the result backend.

    One thread sends the jobs and polls the backend; ``submit`` only reads the notebook and queues the job.
    """

    name = "celery"

    def __init__(
        self,
        broker: str,
        backend: str | None = None,
        *,
        queue: str = config.CELERY_QUEUE,
        poll_interval: float = 0.5,
    ) -> None:
        self.app = make_app(broker, backend, queue=queue)
        self.queue = queue
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}  # job id -> what is not resolved yet
        self._refusers: dict[str, dict[str, list[str]]] = {}  # fingerprint digest -> worker -> differences
        self._graded_by: dict[str, set[str]] = {}  # fingerprint digest -> workers that returned a Result
        self._live: tuple[float, set[str]] = (0.0, set())
        self._wake = threading.Event()
        self._done = threading.Event()
        self._stopped = False
        self._outage_since: float | None = None
        self._thread = threading.Thread(target=self._loop, name="celery-coordinator", daemon=True)
        self._thread.start()

    # -- the executor interface
    def submit(self, job: Job) -> Future[Result]:
        future: Future[Result] = Future()
        if self._stopped:
            future.set_result(failure_result(job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted")))
            return future
        try:
            wire = job.to_wire()
        except OSError as exc:
            future.set_result(failure_result(job, REJECTED, Reason(Why.NO_FILE, f"the submission cannot be read: {type(exc).__name__}")))
            return future
        wire["assignment"] = Path(job.assignment).name  # workers find it in their own course folder
        with self._lock:
            if job.job_id in self._pending:
                raise ValueError(f"job {job.job_id} is already submitted")
            self._pending[job.job_id] = _Pending(job, future, wire, state=JobState(job.job_id, State.QUEUED))
        self._wake.set()
        return future

    def jobs(self) -> list[JobState]:
        with self._lock:
            return [dataclasses.replace(p.state) for p in self._pending.values() if p.state is not None]

    def stop(self) -> None:
        """Ctrl-C: revoke every job; running ones are ended (Celery's soft-limit signal kills their worker)."""
        self._stopped = True
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        ids = [p.task_id for p in pending if p.task_id]
        if ids:
            try:
                self.app.control.revoke(ids, terminate=True, signal="SIGUSR1")
            except Exception as exc:  # the broker may be away: queued jobs then run, unheard
                log.warning("could not revoke %d jobs: %s", len(ids), exc)
        for p in pending:
            if p.state is not None and p.state.state == State.RUNNING:
                p.future.set_result(failure_result(p.job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted")))
            elif not p.future.cancel():
                p.future.set_result(failure_result(p.job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted")))
        self._shutdown()

    def close(self) -> None:
        """Wait for every submitted job, then let go of the broker."""
        while True:
            with self._lock:
                futures = [p.future for p in self._pending.values()]
            if not futures:
                break
            for f in futures:
                try:
                    f.exception()
                except Exception:
                    pass
        self._shutdown()

    def __enter__(self) -> CeleryExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _shutdown(self) -> None:
        self._done.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)
        try:
            self.app.close()
        except Exception:
            pass

    # -- the coordinator's thread
    def _loop(self) -> None:
        pause = self.poll_interval
        while not self._done.is_set():
            try:
                self._send_due()
                self._poll()
                if self._outage_since is not None:
                    log.warning("the broker is back after %.0f s", time.time() - self._outage_since)
                    self._outage_since = None
                pause = self.poll_interval
            except Exception as exc:  # the broker or the backend is away: keep every job and try again
                if self._outage_since is None:
                    self._outage_since = time.time()
                    log.warning("cannot reach the broker or the result backend (%s); retrying", exc)
                pause = min(5.0, pause * 2)
            self._wake.wait(pause)
            self._wake.clear()

    def _send_due(self) -> None:
        now = time.time()
        with self._lock:
            due = [p for p in self._pending.values() if p.task_id is None and p.send_at <= now]
        for p in due:
            task_id = f"{p.job.job_id}-{uuid.uuid4().hex[:12]}"
            self.app.send_task(
                TASK,
                args=[p.wire],
                task_id=task_id,
                queue=self.queue,
                time_limit=p.job.timeout + HARD_LIMIT_MARGIN_S,
                soft_time_limit=p.job.timeout + SOFT_LIMIT_MARGIN_S,
                retry=False,  # an outage raises here; the loop sends again once the broker is back
            )
            with self._lock:
                p.task_id = task_id

    def _metas(self, ids: list[str]) -> dict[str, dict]:
        backend = self.app.backend
        if not isinstance(backend, KeyValueStoreBackend):
            return {tid: backend.get_task_meta(tid) for tid in ids}
        metas = {}
        for start in range(0, len(ids), MGET_CHUNK):
            chunk = ids[start : start + MGET_CHUNK]
            values = backend.mget([backend.get_key_for_task(tid) for tid in chunk])
            for tid, value in zip(chunk, values):
                metas[tid] = backend.decode_result(value) if value else {"status": celery_states.PENDING}
        return metas

    def _poll(self) -> None:
        with self._lock:
            sent = {p.task_id: p for p in self._pending.values() if p.task_id is not None}
        if not sent:
            return
        for task_id, meta in self._metas(list(sent)).items():
            p = sent[task_id]
            status = meta.get("status")
            if status == celery_states.STARTED:
                info = meta.get("result") if isinstance(meta.get("result"), dict) else {}
                where = str(info.get("hostname") or "")
                with self._lock:
                    if p.state is None or p.state.state != State.RUNNING or p.state.where != where:
                        p.state = JobState(p.job.job_id, State.RUNNING, where=where)
            elif status in celery_states.READY_STATES:
                # The stored result is not deleted: a copy of the message handed out again finds it there
                # and returns it instead of grading again; Redis drops it after result_expires.
                self._finish(p, meta)

    def _finish(self, p: _Pending, meta: dict) -> None:
        status, value = meta.get("status"), meta.get("result")
        digest = (p.job.fingerprint or {}).get("combined", "")
        if status == celery_states.SUCCESS and isinstance(value, dict) and "refused" in value:
            self._refused(p, digest, value["refused"])
            return
        if status == celery_states.SUCCESS:
            try:
                result = Result.from_dict(value)
            except Exception as exc:  # a worker of another grader version may answer in another form
                log.warning("the result of %s cannot be read: %s", p.job.job_id, exc)
                result = failure_result(p.job, REJECTED, Reason(Why.WORKER_LOST, "grading failed: the worker's result cannot be read"))
            else:
                where = p.state.where if p.state is not None else ""
                if where:  # unknown when the job ended between two polls
                    with self._lock:
                        self._graded_by.setdefault(digest, set()).add(where)
        else:
            name = type(value).__name__ if isinstance(value, BaseException) else str(status)
            where = p.state.where if p.state is not None and p.state.where else "a worker"
            log.warning("the task of %s ended on %s with %s", p.job.job_id, where, name)
            if "TimeLimit" in name:
                result = failure_result(p.job, INCOMPLETE, Reason(Why.WORKER_LOST, f"the grader gave up after {p.job.timeout:.0f} s"))
            else:
                result = failure_result(p.job, REJECTED, Reason(Why.WORKER_LOST, f"grading failed on {where}: {name}"))
        self._resolve(p, result=result)

    def _resolve(self, p: _Pending, *, result: Result | None = None, error: Exception | None = None) -> None:
        with self._lock:
            if self._pending.get(p.job.job_id) is not p:
                return  # stopped meanwhile
            del self._pending[p.job.job_id]
        if error is not None:
            p.future.set_exception(error)
        else:
            p.future.set_result(result)

    def _refused(self, p: _Pending, digest: str, refusal: dict) -> None:
        worker = str(refusal.get("worker") or "a worker")
        differences = [str(d) for d in refusal.get("differences") or []]
        with self._lock:
            known = self._refusers.setdefault(digest, {})
            first = worker not in known
            known[worker] = differences
            p.refusals[worker] = differences
            p.refused += 1
        if first:
            log.warning(
                "worker %s refuses jobs of %s: its files differ (%s); they go to other workers",
                worker,
                Path(p.job.assignment).name,
                ", ".join(differences[:5]) + (" ..." if len(differences) > 5 else ""),
            )
        live = self._live_workers()
        with self._lock:
            # Workers that answer ping; when none does (busy, or ping lost), those that graded this version.
            known = live or self._graded_by.get(digest, set())
            candidates = known - set(self._refusers.get(digest, {}))
            refusals = dict(self._refusers.get(digest, {}))
        if candidates or (not live and p.refused < MAX_REFUSALS):
            with self._lock:
                p.task_id = None
                p.state = JobState(p.job.job_id, State.QUEUED)
                p.send_at = time.time() + min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (p.refused - 1))
            return
        self._resolve(p, error=Refused(p.job.job_id, refusals))

    def _live_workers(self) -> set[str]:
        """Workers that answer ping (asked at most every PING_EVERY_S seconds)."""
        asked, workers = self._live
        if time.time() - asked < PING_EVERY_S:
            return workers
        try:
            replies = self.app.control.ping(timeout=PING_TIMEOUT_S) or []
            workers = {name for reply in replies for name in reply}
        except Exception as exc:
            log.info("ping failed: %s", exc)
            workers = set()
        self._live = (time.time(), workers)
        return workers


def executor_for(cfg: config.Grade):
    """The executor ``autograder grade`` asked for (None: the batch's own local one)."""
    if cfg.executor == "local":
        return None
    if not cfg.broker:
        raise UsageError("--executor celery needs --broker URL (e.g. redis://HOST:6379/0)")
    return CeleryExecutor(cfg.broker, cfg.backend, queue=cfg.queue)


__all__ = ["CeleryExecutor", "make_app", "grade_wire", "run_worker", "executor_for", "TASK"]
