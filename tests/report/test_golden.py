"""Golden files: one feedback page and one grades.csv, byte for byte (issue #12.7).

A change to what students or instructors read shows up here as a diff to review. After an intended change,
rewrite them with ``UPDATE_GOLDEN=1 pytest tests/report/test_golden.py`` and commit the new files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.grading.result import Code, Reason, Why
from autograder.report import csv_export, feedback

GOLDEN = Path(__file__).resolve().parent / "golden"


def _result(result_of):
    r = result_of(
        {
            "scale.visible": "wrong values: expected [3. 6.] (shape (2,)), got [4. 7.] (shape (2,)) (largest difference 1)",
            "scale.hidden": "wrong values",
            "count_positive.hidden": "the test stopped with an exception (ValueError)",
        },
        reasons=[Reason(Why.CELL_TIMEOUT, "cell 9 ran longer than 20 s and was interrupted")],
    )
    hidden = r.check("count_positive.hidden")
    hidden.code, hidden.exception = Code.RAISED, "ValueError"
    r.group("count_positive_tests").blocked_by = ["scale"]
    return r


@pytest.mark.parametrize("name", ["feedback.html", "grades.csv"])
def test_golden(name, toy, result_of, tmp_path):
    result = _result(result_of)
    if name == "feedback.html":
        text = feedback.render_feedback(toy, result, {"scale.visible": [3.0, 6.0]}, student="ada")
    else:
        path = csv_export.write_grades_csv(tmp_path / name, toy, {"ada": result, "bob": result_of()})
        text = Path(path).read_text()
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert golden.is_file(), f"no golden file {golden}: run with UPDATE_GOLDEN=1 once"
    assert text == golden.read_text(), f"{name} differs from {golden}: review the change, then UPDATE_GOLDEN=1"
