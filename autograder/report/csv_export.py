"""The grades CSV: one row per student, one column per check group, then total, max, status and reasons.

The batch writes it as ``autograder-grades.csv``, a name nbgrader's ``export`` (``grades.csv``) never
writes. Uploads that are not notebooks get a row with empty score cells, so that a spreadsheet's
averages leave them out, and their reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from pathlib import Path

from autograder.grading.result import Result
from autograder.grading.spec import Assignment
from autograder.report.common import atomic_write, check_results, fmt, group_scores

MAX_REASONS_CHARS = 300  # the CSV is for a spreadsheet; the full story is in the feedback pages
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def group_columns(spec: Assignment) -> list[str]:
    """Column titles of the groups: their titles, made unique with the grade_id where two share one."""
    titles = [g.title for g in spec.groups]
    taken = {"student", "total", "max", "status", "reasons"}
    return [f"{g.title} ({g.grade_id})" if titles.count(g.title) > 1 or g.title in taken else g.title for g in spec.groups]


def short_reasons(result: Result, limit: int = MAX_REASONS_CHARS) -> str:
    """The result's reasons on one line, cut to ``limit`` characters."""
    text = "; ".join(" ".join(r.split()) for r in result.reasons)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def grades_csv_text(spec: Assignment, results: dict[str, Result], *, unscored: Collection[str] = ()) -> str:
    """The CSV text (students in id order); students in ``unscored`` get empty score cells."""
    check_results(spec, results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *group_columns(spec), "total", "max", "status", "reasons"])
    for student in sorted(results):
        result = results[student]
        groups = group_scores(spec, result)
        if student in unscored:
            scores = [""] * (len(groups) + 1)
        else:
            scores = [*(fmt(g.score) if g is not None else "0" for g in groups.values()), fmt(result.score)]
        writer.writerow(
            [
                _text(student),
                *scores,
                fmt(spec.max_score),
                result.status,
                _text(short_reasons(result)),
            ]
        )
    return out.getvalue()


def write_grades_csv(path: str | Path, spec: Assignment, results: dict[str, Result], *, unscored: Collection[str] = ()) -> Path:
    """Write the CSV atomically (UTF-8, one row per student); return its path.

    ``unscored``: students whose upload was not a notebook (no scores, left out of averages).
    """
    return atomic_write(path, grades_csv_text(spec, results, unscored=unscored), newline="")
