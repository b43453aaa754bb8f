"""The stored reference values of an assignment: ``source_solutions/<name>/reference.json``.

Written by ``autograder reference build`` (``autograder/reference.py``), read by the grader, outside the
kernel only. ``{"format": 1, "assignment", "meta": {created, python, numpy, tensorflow}, "values": {check:
encoded value}}``; values use the encoding of ``selfcheck.encode`` and are validated by ``records.decode``.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder import errors, files
from autograder.grading import records
from autograder.grading.records import MalformedRecord, Value
from autograder.grading.spec import Assignment

FORMAT = 1


class ReferenceValuesError(errors.AutograderError, RuntimeError):
    """The reference values cannot be built, or the stored file is missing or invalid."""

    exit_code = 1


def write(spec: Assignment, doc: dict) -> Path:
    """Store a reference document (never a half-written file)."""
    return files.atomic_write_json(spec.reference_path, doc, indent=1, sort_keys=True)


def load(spec: Assignment) -> dict[str, Value]:
    """Decoded reference values of ``spec``; ReferenceValuesError names what is missing or malformed."""
    path = spec.reference_path
    if not path.is_file():
        raise ReferenceValuesError(f"no reference values at {path}: run `autograder reference build --assignments {spec.name}`")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        raw = doc["values"]
        values = {name: records.decode(payload) for name, payload in raw.items()}
    except (OSError, ValueError, KeyError, TypeError, MalformedRecord) as exc:
        raise ReferenceValuesError(f"{path}: not a valid reference file ({type(exc).__name__}: {exc})") from None
    missing = [c.name for c in spec.checks() if c.needs_reference and c.name not in values]
    if missing:
        raise ReferenceValuesError(
            f"{path}: no reference value for {', '.join(missing)}: run `autograder reference build --assignments {spec.name}`"
        )
    return values
