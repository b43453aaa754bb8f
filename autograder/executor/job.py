"""What an executor is asked to do (``Job``) and what it says while doing it (``JobState``).

A job is everything one grading needs and nothing of the coordinator's: the assignment, the submitted
notebook, the limits. The outcome is always a ``Result``: a worker that dies, times out or refuses the job
still yields one (``failure_result``), so no caller ever handles an executor's exception per submission.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

from autograder.errors import AutograderError
from autograder.grading import spec as spec_mod
from autograder.grading import translation
from autograder.grading.limits import Limits
from autograder.grading.result import Reason, Result, Status

# Exit status of a worker process that ran out of its own memory (the executor's reason names the limit).
OUT_OF_MEMORY = 3
# Seconds a worker gets beyond the notebook limit to start, restore, compare and hand back its result.
WORKER_GRACE_S = 120


class Priority(enum.StrEnum):
    """How grading workers and their kernels share the CPU with the process that started them."""

    NORMAL = "normal"  # the same: a batch, where grading is all the machine does
    LOW = "low"  # ten steps of nice below
    IDLE = "idle"  # Linux's SCHED_IDLE: only CPU time nothing else wants (a site's pages come first)


@dataclasses.dataclass(frozen=True)
class Job:
    """One submission to grade.

    ``notebook`` is a file on the coordinator's disk; a remote executor sends its bytes (``to_wire``), a local
    one hands the path to its worker. ``label`` is how the Result names the submission. ``fingerprint`` is the
    ``Fingerprint.to_dict()`` of the course files the coordinator grades with (None: not checked): a worker
    whose own files give another digest refuses the job instead of grading it with other tests.
    """

    job_id: str
    assignment: str  # a name under source_solutions/ or an absolute assignment folder
    notebook: Path
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: bool = True
    label: str = ""
    worker_memory_mb: int | None = None
    fingerprint: dict | None = None
    time_limit: float | None = None  # seconds for the whole job; None: the notebook limit + WORKER_GRACE_S

    @property
    def timeout(self) -> float:
        """Seconds after which the executor gives up on the job's worker."""
        if self.time_limit is not None:
            return self.time_limit
        return self.limits.notebook_timeout + WORKER_GRACE_S

    @property
    def shown_as(self) -> str:
        return self.label or str(self.notebook)

    def to_wire(self) -> dict:
        """A JSON-safe form that carries the notebook's bytes (for a worker on another machine)."""
        return {
            "job_id": self.job_id,
            "assignment": self.assignment,
            "file_name": self.notebook.name,
            "content": base64.b64encode(self.notebook.read_bytes()).decode("ascii"),
            "limits": dataclasses.asdict(self.limits),
            "sandbox": self.sandbox,
            "label": self.shown_as,
            "worker_memory_mb": self.worker_memory_mb,
            "fingerprint": self.fingerprint,
            "time_limit": self.time_limit,
        }

    @staticmethod
    def from_wire(data: dict, folder: Path) -> Job:
        """The job of ``to_wire``, its notebook written into ``folder`` (which the caller removes)."""
        name = Path(str(data["file_name"])).name or "submission.ipynb"  # a bare name: never a path
        path = folder / name
        path.write_bytes(base64.b64decode(data["content"]))
        return Job(
            job_id=str(data["job_id"]),
            assignment=str(data["assignment"]),
            notebook=path,
            limits=Limits(**data["limits"]),
            sandbox=bool(data["sandbox"]),
            label=str(data.get("label") or name),
            worker_memory_mb=data.get("worker_memory_mb"),
            fingerprint=data.get("fingerprint"),
            time_limit=data.get("time_limit"),
        )

    def to_dict(self) -> dict:
        """A JSON-safe form naming the notebook by path (for a worker process on this machine)."""
        data = dataclasses.asdict(self)
        data["notebook"] = str(self.notebook)
        return data

    @staticmethod
    def from_dict(data: dict) -> Job:
        return Job(**{**data, "notebook": Path(data["notebook"]), "limits": Limits(**data["limits"])})


class State(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"


@dataclasses.dataclass
class JobState:
    """A job the executor holds now (queued or running), for progress and status pages."""

    job_id: str
    state: State
    since: float = dataclasses.field(default_factory=time.time)
    where: str = ""  # the worker (host, process) once known


@functools.lru_cache(maxsize=64)
def _name_and_points(assignment: str) -> tuple[str, float]:
    try:
        spec = spec_mod.load(assignment)
    except spec_mod.SpecError:
        return Path(assignment).name, 0.0
    return spec.name, float(spec.max_score)


def _language(notebook: Path) -> str:
    """The language a submitted notebook says it is in, when it can be read cheaply; else the default."""
    try:
        if notebook.stat().st_size <= 8 * 2**20:
            return translation.notebook_language(json.loads(notebook.read_bytes()))
    except (OSError, ValueError, RecursionError):
        pass
    return translation.DEFAULT


def failure_result(job: Job, status: Status, reason: Reason) -> Result:
    """The Result of a job whose worker did not hand one back: score zero and the reason (its page in the
    notebook's language)."""
    name, max_score = _name_and_points(job.assignment)
    return Result(
        assignment=name,
        submission=job.shown_as,
        score=0.0,
        max_score=max_score,
        status=status,
        reasons=[reason],
        language=_language(job.notebook),
    )


class Refused(AutograderError):
    """No worker can grade the job with the coordinator's course version (its fingerprint).

    The one exception a job's Future may raise: it is not the submission's fault, so the caller must not
    store a grade for it (a zero would silently replace the student's grade); it reports the job instead.
    """

    def __init__(self, job_id: str, refusals: dict[str, list[str]]) -> None:
        self.job_id = job_id
        self.refusals = dict(refusals)  # worker (hostname) -> what differs there
        said = "; ".join(f"{worker}: {', '.join(diff[:3]) or 'another version'}" for worker, diff in sorted(refusals.items()))
        super().__init__(f"{job_id}: no worker can grade it with this course version ({said})")


class Executor(Protocol):
    """Where grading runs. Every implementation keeps the same promises:

    * ``submit`` returns at once; the Future yields the job's Result and never raises for a submission
      (a dead or timed-out worker gives a Result that says so). The one exception is ``Refused``: every
      worker that could take the job holds other course files, so there is no grade to store;
    * ``jobs`` lists what is queued and running now;
    * ``stop`` (Ctrl-C) starts nothing more and ends what runs; ``close`` waits for the submitted jobs.
    """

    name: str

    def submit(self, job: Job) -> Future[Result]: ...

    def jobs(self) -> list[JobState]: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...
