"""Small helpers the report modules share: the error type, atomic file writes, score formatting."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from autograder import files
from autograder.errors import AutograderError
from autograder.grading.result import GroupResult, Result
from autograder.grading.spec import Assignment


class ReportError(AutograderError, RuntimeError):
    """A report cannot be written (bad path or database URL, results of another assignment)."""

    exit_code = 1


@dataclasses.dataclass(frozen=True)
class UploadNote:
    """An uploaded file that was not graded under an id of its own, or whose id was changed, and why."""

    file: str  # as the instructor knows it: its path in the input, or zip:member
    reason: str
    student: str = ""  # the id it was graded under, when it was


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """``files.atomic_write`` for reports: readable by others (0644); a failure is a ReportError."""
    try:
        return files.atomic_write(path, data, encoding=encoding, newline=newline, mode=0o644)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None


def fmt(x: float) -> str:
    """A score as people write it: 3, 2.5, 0.333 (no trailing zeros)."""
    if x is None or not math.isfinite(x):
        return "0"
    return f"{round(float(x), 3):g}"


def check_results(spec: Assignment, results: dict[str, Result]) -> None:
    """Refuse results that belong to another assignment (a mixed-up batch must not reach a gradebook)."""
    if not isinstance(results, dict):
        raise ReportError("results must be a dict of student id -> Result")
    for student, result in results.items():
        if not isinstance(student, str) or not student.strip():
            raise ReportError(f"student ids must be non-empty strings, got {student!r}")
        if result.assignment != spec.name:
            raise ReportError(f"the result of student '{student}' is for assignment '{result.assignment}', not '{spec.name}'")


def group_scores(spec: Assignment, result: Result) -> dict[str, GroupResult | None]:
    """grade_id -> the result's group (None when the result lacks it), in the spec's order."""
    have = {g.grade_id: g for g in result.groups}
    return {g.grade_id: have.get(g.grade_id) for g in spec.groups}
