"""Grade one submission in a process of its own and write the outcome as JSON.

The batch runs one worker process per submission, so nothing a submission does (or a crash of the
grading stack itself) can take the batch down: the parent only reads a finished JSON file, written
atomically, or turns the worker's death into a result.

Usage (internal): ``python -m autograder.batch.worker JOB.json``; the job names the assignment, the
notebook, the output file, the limits, whether to sandbox, the worker's own memory limit, and what the batch
stores beside the result (the cache key, where the upload came from).

The worker bounds its own memory (``bound_memory``): a submission whose output floods the grader's side
then ends as that student's result, not as a machine out of memory. Running out of memory anywhere in the
worker ends it with exit status ``OUT_OF_MEMORY``, which the batch turns into a result with the reason.
"""
from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

from autograder import config


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def grade_job(job: dict) -> dict:
    from autograder.grading import core

    limits = config.Limits(**job["limits"])
    result = core.grade(Path(job["notebook"]), job["assignment"], limits=limits, sandbox=job["sandbox"])
    return {"student": job["student"], "sha256": job["sha256"], "result": result.to_dict()}


def skip_unused_format_checkers() -> None:
    """Keep jsonschema from loading ``rfc3987_syntax`` in this process.

    nbformat imports jsonschema, whose format checkers import ``rfc3987_syntax`` if it is installed; that
    module builds an IRI grammar at import time: importing the grading stack took 1.9 s with it, 0.5 s without.
    Notebook schemas use no ``format`` keyword, so the IRI checker it provides is never used here, and
    jsonschema simply skips a checker whose module cannot be imported.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules makes the import fail


# Exit status of a worker that ran out of memory (the batch's reason names the limit).
OUT_OF_MEMORY = 3
RECORD_FORMAT = 2
# How the grading stack reports a MemoryError of this process while it read the kernel's messages.
_OWN_MEMORY_ERROR = "execution: MemoryError"


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


def explain_own_memory_error(record: dict, megabytes: int | None) -> None:
    """Say in the result when the worker itself (not the student's kernel) ran out of memory."""
    reasons = record["result"].setdefault("reasons", [])
    if megabytes and any(str(r).startswith(_OWN_MEMORY_ERROR) for r in reasons):
        reasons.append(
            f"the grader ran out of memory ({megabytes} MiB) while reading this notebook's output; "
            "the cells after that point were not graded"
        )


def main(argv: list[str]) -> int:
    skip_unused_format_checkers()
    job = json.loads(Path(argv[0]).read_text())
    megabytes = job.get("worker_memory_mb")
    bound_memory(megabytes)
    try:
        record = grade_job(job)
        record.update(format=RECORD_FORMAT, key=job.get("key"), upload=job.get("upload"))
        explain_own_memory_error(record, megabytes)
        write_json(Path(job["output"]), record)
    except MemoryError:
        record = None  # free what can be freed; a traceback would need memory too
        os.write(2, b"MemoryError: the grading worker reached its memory limit\n")
        return OUT_OF_MEMORY
    return 0


def job_for(
    student: str,
    notebook: Path,
    sha256: str,
    output: Path,
    assignment: str,
    limits: config.Limits,
    sandbox: bool,
    *,
    key: dict | None = None,
    upload: dict | None = None,
    worker_memory_mb: int | None = None,
) -> dict:
    return {
        "student": student,
        "notebook": str(notebook),
        "sha256": sha256,
        "output": str(output),
        "assignment": assignment,
        "limits": dataclasses.asdict(limits),
        "sandbox": sandbox,
        "key": key,
        "upload": upload,
        "worker_memory_mb": worker_memory_mb,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
