"""Grade jobs in a process of the grader's own and hand back each Result as JSON.

Every executor grades in worker processes, so nothing a submission does (or a crash of the grading stack
itself) can take the coordinator down: the parent only reads a finished JSON file, written atomically, or
turns the worker's death into a result. A worker never runs student code itself: each job's notebook runs
in a kernel of its own (sandboxed), started for that job alone.

Usage (internal):

* ``python -m autograder.executor.worker JOB.json RESULT.json`` grades one job and exits;
* ``python -m autograder.executor.worker --serve [--ahead N] [--priority P]`` is a long-lived worker: it reads one request per line on
  stdin, ``{"job": "JOB.json", "result": "RESULT.json"}``, grades it and answers with one line on stdout,
  ``{"job_id": ..., "retire": bool}``; a request with ``"warm": true`` grades nothing and only starts a
  kernel ahead for jobs like that one; it ends at EOF, or after a job when it says ``retire`` (its memory
  grew past ``RETIRE_RSS_MB``, or it served ``MAX_JOBS``). With ``--ahead N`` it keeps N kernels started
  ahead for the next jobs (``runner.keep_kernels_ahead``), so a job starts without waiting for a kernel or its
  imports: for a site, where the machine is idle between uploads. A batch keeps the machine busy anyway and
  is faster without (the kernels left over at its end are work for nothing).

JOB.json is ``Job.to_dict()``. RESULT.json gets ``{"result": Result.to_dict()}``.

The worker bounds its own memory (``bound_memory``): a submission whose output floods the grader's side
then ends as that student's result, not as a machine out of memory. Running out of memory anywhere in the
worker ends it with exit status ``OUT_OF_MEMORY``, which the executor turns into a result with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
from pathlib import Path

from autograder.executor.job import OUT_OF_MEMORY, Job, Priority
from autograder.files import atomic_write_json
from autograder.grading.result import Reason, Why

log = logging.getLogger(__name__)


def warm_for(job: Job) -> None:
    """Start the kernel kept ahead for jobs like ``job`` (its notebook is not read)."""
    from autograder.grading import core, runner

    state = core.make_state(job.notebook, job.assignment, limits=job.limits, sandbox=job.sandbox, check_tampering=False)
    runner.start_ahead(
        limits=state.limits,
        kernel_manager_factory=state.kernel_manager_factory,
        data_dir=state.data_dir,
        preload=runner.imports_of(state.source),
    )


def grade_job(job: Job) -> dict:
    """The job's Result as a dict (the one runner contract: ``grade()``)."""
    from autograder.grading import core

    result = core.grade(job.notebook, job.assignment, limits=job.limits, sandbox=job.sandbox, label=job.shown_as)
    return result.to_dict()


def bound_memory(megabytes: int | None) -> None:
    """Cap this process's data memory (RLIMIT_DATA) at ``megabytes`` MiB; 0 or None leaves it unbounded.

    RLIMIT_DATA, not RLIMIT_AS: it counts the memory actually written to, so thread stacks and large
    reserved ranges cost nothing. Only the soft limit is set: a sandboxed kernel's prlimit runs after
    dropping root and can only lower a hard limit, so it still gets its own memory_mb. An unsandboxed
    (--unsafe) kernel is a child of this process and inherits the bound.
    """
    if not megabytes or megabytes <= 0:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = megabytes * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def explain_own_memory_error(result: dict, megabytes: int | None) -> None:
    """Say in the result when the worker itself (not the student's kernel) ran out of memory."""
    reasons = [Reason.of(r) for r in result.get("reasons", [])]
    if megabytes and any(r.code == Why.GRADER_MEMORY for r in reasons):
        reasons.append(
            Reason(
                Why.GRADER_MEMORY,
                f"the grader ran out of memory ({megabytes} MiB) while reading this notebook's output; "
                "the cells after that point were not graded",
            )
        )
        result["reasons"] = [r.to_dict() for r in reasons]


# A long-lived worker retires after a job once its own memory passed this (a flood the runner cut still
# leaves the process larger), or after this many jobs; the executor starts a fresh one in its place.
RETIRE_RSS_MB = 1024
MAX_JOBS = 200


def grade_to(job: Job, result_file: Path) -> int:
    """Grade ``job`` into ``result_file``; the exit status a one-job worker would have."""
    bound_memory(job.worker_memory_mb)
    try:
        result = grade_job(job)
        explain_own_memory_error(result, job.worker_memory_mb)
        atomic_write_json(result_file, {"result": result}, indent=1)
    except MemoryError:
        result = None  # free what can be freed; a traceback would need memory too
        os.write(2, b"MemoryError: the grading worker reached its memory limit\n")
        return OUT_OF_MEMORY
    return 0


def _own_rss_mb() -> float:
    """The memory this process holds now, in MiB. Not getrusage's peak: Linux carries the parent's peak
    across fork and exec, so a worker started by a large process would look large from its first job."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def serve(requests, answers, ahead: int = 0) -> int:
    """Grade one request per line of ``requests``, answering each on ``answers`` (see the module's text),
    with ``ahead`` kernels kept started for the next jobs."""
    from autograder.grading import runner

    runner.keep_kernels_ahead(count=ahead)
    served = 0
    try:
        for line in requests:
            if not line.strip():
                continue
            request = json.loads(line)
            job = Job.from_dict(json.loads(Path(request["job"]).read_text()))
            if request.get("warm"):  # no job: only start a kernel ahead for jobs like it
                bound_memory(job.worker_memory_mb)
                try:
                    warm_for(job)
                except Exception:  # a course that cannot be graded: its jobs will say so
                    log.warning("could not start a kernel ahead for %s", job.assignment, exc_info=True)
                answers.write(json.dumps({"job_id": job.job_id, "retire": False}) + "\n")
                answers.flush()
                runner.wait_ahead(until_readable=requests.fileno())
                continue
            status = grade_to(job, Path(request["result"]))
            if status != 0:
                return status
            served += 1
            # Past half its bound, the next job could run out where a fresh worker would not.
            bound = min(RETIRE_RSS_MB, job.worker_memory_mb / 2 if job.worker_memory_mb else RETIRE_RSS_MB)
            retire = served >= MAX_JOBS or _own_rss_mb() > bound
            answers.write(json.dumps({"job_id": job.job_id, "retire": retire}) + "\n")
            answers.flush()
            if retire:
                break
            runner.wait_ahead(until_readable=requests.fileno())  # idle: let the kernels ahead finish starting
    finally:
        runner.keep_kernels_ahead(False)
    return 0


def lower_priority(priority: Priority) -> None:
    """Run this process (and what it starts) below its parent for the CPU."""
    if priority == Priority.IDLE:
        # Not nice 19: weights add up, and a few runnable kernels at nice 19 together still take a share of a
        # core from a web server that wants it; SCHED_IDLE ones take next to nothing.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    elif priority == Priority.LOW:
        os.nice(10)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        options = dict(zip(argv[1::2], argv[2::2]))  # --ahead N --priority P
        ahead = int(options.get("--ahead", 0))
        lower_priority(Priority(options.get("--priority", Priority.NORMAL)))  # the kernels it starts inherit it
        # The answers get stdout to themselves: whatever else writes to fd 1 goes to stderr instead.
        answers = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        return serve(sys.stdin, answers, ahead)
    return grade_to(Job.from_dict(json.loads(Path(argv[0]).read_text())), Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
