"""Grade one submission in a process of its own and write the outcome as JSON.

The batch runs one worker process per submission, so nothing a submission does (or a crash of the
grading stack itself) can take the batch down: the parent only reads a finished JSON file, written
atomically, or turns the worker's death into a result.

Usage (internal): ``python -m autograder.batch.worker JOB.json``; the job names the assignment, the
notebook, the output file, the limits and whether to sandbox.
"""
from __future__ import annotations

import dataclasses
import json
import os
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


def main(argv: list[str]) -> int:
    skip_unused_format_checkers()
    job = json.loads(Path(argv[0]).read_text())
    write_json(Path(job["output"]), grade_job(job))
    return 0


def job_for(student: str, notebook: Path, sha256: str, output: Path, assignment: str, limits: config.Limits, sandbox: bool) -> dict:
    return {
        "student": student,
        "notebook": str(notebook),
        "sha256": sha256,
        "output": str(output),
        "assignment": assignment,
        "limits": dataclasses.asdict(limits),
        "sandbox": sandbox,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
