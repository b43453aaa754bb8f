"""The local executor: a pool of worker processes on this machine (the default; nothing to set up).

``run_in_worker_process`` grades one job the only way any executor grades: ``python -m
autograder.executor.worker`` in a session of its own, so a timeout kills the worker and everything it
started, and Ctrl-C (which the terminal does not send to other sessions) is passed on by ``stop``. A worker
that dies, runs out of memory or overruns its time yields a Result that says so (``failure_result``); the
Future never raises for a submission. The Celery executor's task calls the same function on its machine.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from autograder.executor.job import OUT_OF_MEMORY, Job, JobState, State, failure_result
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


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_in_worker_process(
    job: Job,
    *,
    on_start: Callable[[subprocess.Popen], None] | None = None,
    on_end: Callable[[subprocess.Popen], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Result:
    """Grade ``job`` in a worker process of its own (a new session) and return its Result.

    At most ``job.timeout`` seconds; the worker's whole process group is killed after that, and also when
    the caller is interrupted by an exception (Ctrl-C, a Celery soft time limit), so no grading outlives its
    caller. ``on_start``/``on_end`` see the process (to list or kill it); ``stopped()`` true means the caller
    asked to stop, so a worker that died meanwhile is reported as interrupted.
    """
    if stopped():
        return failure_result(job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted"))
    folder = Path(tempfile.mkdtemp(prefix="ag-job-"))
    try:
        job_file, result_file = folder / "job.json", folder / "result.json"
        job_file.write_text(json.dumps(job.to_dict()))
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.executor.worker", str(job_file), str(result_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        if on_start is not None:
            on_start(proc)
        try:
            _, err = proc.communicate(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return failure_result(job, INCOMPLETE, Reason(Why.WORKER_LOST, f"the grader gave up after {job.timeout:.0f} s"))
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            if on_end is not None:
                on_end(proc)
        if stopped() and proc.returncode != 0:
            return failure_result(job, REJECTED, Reason(Why.INTERRUPTED, "the batch was interrupted"))
        if proc.returncode != 0 or not result_file.exists():
            if err:
                log.info("worker of %s: %s", job.job_id, err.decode(errors="replace")[-2000:])
            return failure_result(job, *death_reason(proc.returncode, err, job.worker_memory_mb))
        return Result.from_dict(json.loads(result_file.read_text())["result"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class LocalExecutor:
    """Up to ``workers`` submissions graded at once, each in a worker process of its own."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="grader")
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self._states: dict[str, JobState] = {}
        self._stop = threading.Event()

    # -- the executor interface
    def submit(self, job: Job) -> Future[Result]:
        with self._lock:
            self._states[job.job_id] = JobState(job.job_id, State.QUEUED)
        return self._pool.submit(self._run_guarded, job)

    def jobs(self) -> list[JobState]:
        """The jobs queued or running now."""
        with self._lock:
            return list(self._states.values())

    def stop(self) -> None:
        """Ctrl-C: no queued job starts, running workers are killed (their jobs end as interrupted)."""
        self._stop.set()
        with self._lock:
            for proc in list(self._live):
                _kill_group(proc)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

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
        def started(proc: subprocess.Popen) -> None:
            with self._lock:
                self._live.add(proc)
                self._states[job.job_id] = JobState(job.job_id, State.RUNNING, where=f"pid {proc.pid}")
            if self._stop.is_set():  # stop() ran between the check and the start: it did not see this one
                _kill_group(proc)

        def ended(proc: subprocess.Popen) -> None:
            with self._lock:
                self._live.discard(proc)

        return run_in_worker_process(job, on_start=started, on_end=ended, stopped=self._stop.is_set)
