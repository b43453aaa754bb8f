"""The local executor: a pool of worker processes on this machine (the default; nothing to set up).

``run_in_worker_process`` grades one job the only way any executor grades: in a worker process
(``python -m autograder.executor.worker --serve``) in a session of its own, so a timeout kills the worker and
everything it started, and Ctrl-C (which the terminal does not send to other sessions) is passed on by
``stop``. Workers live on from job to job (``WorkerPool``): the grading stack is imported once, and each
keeps the next job's kernel started ahead. A worker that dies, runs out of memory or overruns its time
yields a Result that says so (``failure_result``) and is replaced; the Future never raises for a
submission. The Celery executor's task calls the same function on its machine.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from autograder.executor.job import OUT_OF_MEMORY, Job, JobState, Priority, State, failure_result
from autograder.grading import leftovers
from autograder.grading.result import INCOMPLETE, REJECTED, Reason, Result, Status, Why

log = logging.getLogger(__name__)


def death_reason(returncode: int, err: bytes, memory_mb: int | None) -> tuple[Status, Reason]:
    """(status, reason) of a worker that ended without handing back its result."""
    if returncode == OUT_OF_MEMORY:
        return INCOMPLETE, Reason(
            Why.GRADER_MEMORY,
            f"grading stopped: this submission made the grader use more than its {memory_mb} MiB of memory "
            "(for example by printing a huge output)",
        )
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (the machine may have run out of memory)" if -returncode == signal.SIGKILL else ""
        return INCOMPLETE, Reason(Why.WORKER_LOST, f"grading stopped: the grader's worker was killed by {name}{hint}")
    tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
    return REJECTED, Reason(Why.WORKER_LOST, f"grading crashed (exit status {returncode}){': ' + tail[0] if tail else ''}")


class WorkerProcess:
    """One long-lived worker process (a session of its own), handed one job at a time."""

    def __init__(self, ahead: int = 0, priority: Priority = Priority.NORMAL) -> None:
        self.errors = tempfile.TemporaryFile()  # its stderr: a pipe nobody reads between jobs would fill up
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.executor.worker", "--serve", "--ahead", str(ahead), "--priority", priority.value],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            start_new_session=True,
        )
        self.retired = False
        self._mark = 0  # where the current job's part of ``errors`` starts

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.retired

    def grade(self, job: Job, job_file: Path, result_file: Path) -> bool | None:
        """Hand over one job and wait for its answer: True when answered, None when the worker ended
        without one (``returncode`` says how). Raises ``subprocess.TimeoutExpired`` after ``job.timeout``."""
        self._mark = self.errors.seek(0, os.SEEK_END)  # error_tail reads from here
        request = json.dumps({"job_id": job.job_id, "job": str(job_file), "result": str(result_file)}) + "\n"
        try:
            self.proc.stdin.write(request.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.proc.wait()
            return None
        return None if self._answer(job.timeout) is None else True

    def warm(self, job: Job, timeout: float = 120) -> bool:
        """Ask it to start a kernel ahead for jobs like ``job``; False when it did not answer in time."""
        folder = leftovers.make_folder("job")
        try:
            job_file = folder / "job.json"
            job_file.write_text(json.dumps(job.to_dict()))
            request = json.dumps({"job_id": job.job_id, "job": str(job_file), "warm": True}) + "\n"
            try:
                self.proc.stdin.write(request.encode())
                self.proc.stdin.flush()
                return self._answer(timeout) is not None
            except (OSError, subprocess.TimeoutExpired):
                return False
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _answer(self, timeout: float) -> dict | None:
        """The worker's answer line; None when it ended without one. Raises TimeoutExpired."""
        deadline = time.monotonic() + timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise subprocess.TimeoutExpired(self.proc.args, timeout)
            chunk = os.read(fd, 4096)
            if not chunk:  # it ended without answering
                self.proc.wait()
                return None
            line += chunk
        answer = json.loads(line)
        self.retired = bool(answer.get("retire"))
        return answer

    def error_tail(self) -> bytes:
        """What the worker wrote to stderr since the last job was handed over."""
        self.errors.seek(self._mark)
        return self.errors.read()[-4000:]

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self, wait: float = 10.0) -> None:
        """Let it shut down its kernel started ahead and exit (EOF); kill what is left after ``wait``."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        self.kill()  # also whatever it left in its session
        self.proc.wait()
        self.proc.stdout.close()
        self.errors.close()


class WorkerPool:
    """Idle long-lived workers, up to ``size`` of them; a worker is taken for one job and given back. Each
    keeps ``ahead`` kernels started for its next jobs (0: none; see ``autograder.executor.worker``) and runs
    at ``priority`` for the CPU, its kernels with it."""

    def __init__(self, size: int, ahead: int = 0, priority: Priority = Priority.NORMAL) -> None:
        self.size = max(1, size)
        self.ahead = ahead
        self.priority = priority
        self._idle: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> WorkerProcess:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.close(wait=0)
        return WorkerProcess(self.ahead, self.priority)

    def give_back(self, worker: WorkerProcess) -> None:
        with self._lock:
            if worker.alive() and not self._closed and len(self._idle) < self.size:
                self._idle.append(worker)
                return
        worker.close()

    def discard(self, worker: WorkerProcess) -> None:
        worker.kill()
        worker.close(wait=0)

    def warm(self, job: Job) -> None:
        """Fill the pool with workers that each keep a kernel started ahead for jobs like ``job``."""
        while True:
            with self._lock:
                if self._closed or len(self._idle) >= self.size:
                    return
            worker = WorkerProcess(self.ahead, self.priority)
            if not worker.warm(job):
                self.discard(worker)
                return
            self.give_back(worker)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_default_pool: WorkerPool | None = None
_default_lock = threading.Lock()
_default_ahead = 0


def set_default_kernels_ahead(ahead: int) -> None:
    """Kernels ahead for the workers of ``default_pool`` (set before it is first used: a Celery worker sets it
    before its pool processes fork)."""
    global _default_ahead
    _default_ahead = ahead


def default_pool() -> WorkerPool:
    """This process's pool (a Celery pool process has its own); its workers end when this process does."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = WorkerPool(os.cpu_count() or 2, _default_ahead)
            atexit.register(_default_pool.close)
        return _default_pool


def run_in_worker_process(
    job: Job,
    *,
    pool: WorkerPool | None = None,
    on_start: Callable[[WorkerProcess], None] | None = None,
    on_end: Callable[[WorkerProcess], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Result:
    """Grade ``job`` in a worker process of ``pool`` (default: this process's) and return its Result.

    At most ``job.timeout`` seconds; the worker's whole process group is killed after that, and also when
    the caller is interrupted by an exception (Ctrl-C, a Celery soft time limit), so no grading outlives its
    caller. ``on_start``/``on_end`` see the worker (to list or kill it); ``stopped()`` true means the caller
    asked to stop, so a worker that died meanwhile is reported as interrupted.
    """
    if stopped():
        return failure_result(job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted"))
    pool = pool or default_pool()
    folder = leftovers.make_folder("job")
    worker = pool.take()
    healthy = False
    try:
        job_file, result_file = folder / "job.json", folder / "result.json"
        job_file.write_text(json.dumps(job.to_dict()))
        if on_start is not None:
            on_start(worker)
        try:
            answered = worker.grade(job, job_file, result_file)
        except subprocess.TimeoutExpired:
            return failure_result(job, INCOMPLETE, Reason(Why.WORKER_LOST, f"the grader gave up after {job.timeout:.0f} s"))
        finally:
            if on_end is not None:
                on_end(worker)
        if answered is None or not result_file.exists():
            if stopped():
                return failure_result(job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted"))
            err = worker.error_tail()
            if err:
                log.info("worker of %s: %s", job.job_id, err.decode(errors="replace")[-2000:])
            return failure_result(job, *death_reason(worker.returncode if worker.returncode is not None else -9, err, job.worker_memory_mb))
        healthy = True
        return Result.from_dict(json.loads(result_file.read_text())["result"])
    finally:
        if healthy:
            pool.give_back(worker)
        else:
            pool.discard(worker)  # timed out, died, or its caller was interrupted: never reused
        shutil.rmtree(folder, ignore_errors=True)


class LocalExecutor:
    """Up to ``workers`` submissions graded at once, each in a worker process of its own (kept from job to
    job until ``close``). ``priority``: how the workers and their kernels share the CPU with this process
    (a site's ``LOW``: its pages answer while the queue is deep; a batch keeps ``NORMAL``)."""

    name = "local"

    def __init__(self, workers: int = 1, kernels_ahead: int = 0, priority: Priority = Priority.NORMAL) -> None:
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="grader")
        self._lock = threading.Lock()
        self._workers = WorkerPool(self.workers, kernels_ahead, priority)
        self._live: set[WorkerProcess] = set()
        self._states: dict[str, JobState] = {}
        self._stop = threading.Event()

    # -- the executor interface
    def submit(self, job: Job) -> Future[Result]:
        with self._lock:
            self._states[job.job_id] = JobState(job.job_id, State.QUEUED)
        return self._pool.submit(self._run_guarded, job)

    def warm_up(self, job: Job) -> None:
        """Start the workers now, in the background, each with a kernel ahead for jobs like ``job``, so the
        first submissions do not wait for the grading stack, a kernel or TensorFlow."""
        threading.Thread(target=self._workers.warm, args=(job,), name="grader-warm-up", daemon=True).start()

    def jobs(self) -> list[JobState]:
        """The jobs queued or running now."""
        with self._lock:
            return list(self._states.values())

    def stop(self) -> None:
        """Ctrl-C: no queued job starts, running workers are killed (their jobs end as interrupted)."""
        self._stop.set()
        with self._lock:
            for worker in list(self._live):
                worker.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._workers.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._workers.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one job
    def _run_guarded(self, job: Job) -> Result:
        try:
            return self._run(job)
        except Exception as exc:  # the executor itself must never lose a submission
            log.exception("grading %s failed in the executor", job.job_id)
            return failure_result(job, REJECTED, Reason(Why.WORKER_LOST, f"grading failed: {type(exc).__name__}"))
        finally:
            with self._lock:
                self._states.pop(job.job_id, None)

    def _run(self, job: Job) -> Result:
        def started(worker: WorkerProcess) -> None:
            with self._lock:
                self._live.add(worker)
                self._states[job.job_id] = JobState(job.job_id, State.RUNNING, where=f"pid {worker.pid}")
            if self._stop.is_set():  # stop() ran between the check and the start: it did not see this one
                worker.kill()

        def ended(worker: WorkerProcess) -> None:
            with self._lock:
                self._live.discard(worker)

        return run_in_worker_process(job, pool=self._workers, on_start=started, on_end=ended, stopped=self._stop.is_set)
