"""`autograder grade-one`: a readable table or JSON; exit 0 whenever a result was produced."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder import cli
from autograder.grading import sandbox
from tests.toy_course import replaced

WRONG_COUNT = "def count_positive(x):\n    return 0\n"


@pytest.fixture
def submission(tmp_path, source_nb):
    path = tmp_path / "student.ipynb"
    nbformat.write(replaced(source_nb, "count_positive", WRONG_COUNT), path)
    return path


def test_table(submission, toy_dir, capsys):
    code = cli.main(["grade-one", str(submission), "--assignment", str(toy_dir), "--unsafe", "--format", "table"])
    out = capsys.readouterr().out
    assert code == 0
    assert "total" in out and "8/10" in out
    line = next(line for line in out.splitlines() if line.startswith("count_positive.visible"))
    assert "0/1" in line and "NO" in line and "expected 2, got 0" in line


def test_json(submission, toy_dir, capsys):
    code = cli.main(["grade-one", str(submission), "--assignment", str(toy_dir), "--unsafe", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["score"] == 8 and data["max_score"] == 10 and data["status"] == "graded"
    assert {g["grade_id"]: g["score"] for g in data["groups"]}["count_positive_tests"] == 0


def test_sandboxed_by_default(submission, toy_dir, capsys):
    code = cli.main(["grade-one", str(submission), "--assignment", str(toy_dir), "--format", "json"])
    captured = capsys.readouterr()
    if sandbox.available():
        assert code == 0 and json.loads(captured.out)["score"] == 8
    else:
        assert code == 2 and "sandbox" in captured.err


def test_clear_errors_without_traceback(tmp_path, toy_dir, capsys):
    assert cli.main(["grade-one", str(tmp_path / "nope.ipynb"), "--assignment", str(toy_dir), "--unsafe"]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "empty.ipynb"
    path.write_text("")
    assert cli.main(["grade-one", str(path), "--assignment", "no_such_assignment", "--unsafe"]) == 2
    err = capsys.readouterr().err
    assert "no grading spec" in err and "Traceback" not in err
    assert cli.main(["grade-one", str(path), "--assignment", str(toy_dir), "--unsafe"]) == 0
    assert "not a notebook" in capsys.readouterr().out
