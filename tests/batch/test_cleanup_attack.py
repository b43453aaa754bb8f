"""A submission that leaves a folder tree no ordinary cleanup can remove must not cost anyone else points.

Issue #10, class 1: thousands of nested folders made the cleanup raise (RecursionError), the worker died, the
folder stayed, and every later grader's leftovers sweep raised the same error before grading anything. Here
the tree is built by the submission itself, in the sandbox, as the first of a batch; the solved submissions
after it, in the same batch and in a later ``grade-one``, must score full marks, and no working folder stays.
"""

from __future__ import annotations

import json
import os
import subprocess

import nbformat
import pytest

from autograder.grading import sandbox
from tests import toy_course

pytestmark = [
    pytest.mark.slow,  # a sandboxed batch and a grade-one: half a minute
    pytest.mark.timeout(600),
    pytest.mark.skipif(not sandbox.available(), reason="bubblewrap is not usable here"),
]

DEEP_TREE = """
import os as _os
_base = _os.getcwd()
for _ in range(1500):  # deeper than the recursion limit
    _os.mkdir("d")
    _os.chdir("d")
open("leaf.txt", "w").write("x")
_os.chdir(_base)
"""


def attacker(toy_dir):
    nb = toy_course.solved(toy_dir)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale":
            cell.source = DEEP_TREE + "\n" + cell.source
    return nb


def test_deep_tree_costs_nobody_else(tmp_path):
    toy_dir = toy_course.make_toy(tmp_path / "course")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    nbformat.write(attacker(toy_dir), uploads / "a_attacker.ipynb")
    for name in ("b_ann", "c_ben", "d_cat"):
        nbformat.write(toy_course.solved(toy_dir), uploads / f"{name}.ipynb")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    out = tmp_path / "out"
    proc = subprocess.run(
        toy_course.grade_cmd(toy_dir, uploads, out=out, extra=["--workers", "1"]),
        capture_output=True,
        text=True,
        timeout=500,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text())["result"] for p in (out / "results").glob("*.json")}
    for student in ("b_ann", "c_ben", "d_cat"):
        assert results[student]["score"] == results[student]["max_score"], results[student]
    # The attacker gets a result of its own (its 1500 mkdir calls may run into the toy's 20 s cell limit on a
    # loaded machine, so its score is not asserted: the guarantee is about everyone else).
    assert results["a_attacker"]["status"] in ("graded", "incomplete")
    assert not [p.name for p in temp.iterdir() if p.name.startswith("ag-")], "a working folder was left behind"

    # A later grade-one, in the same temporary directory, grades normally.
    solved = tmp_path / "later.ipynb"
    nbformat.write(toy_course.solved(toy_dir), solved)
    one = subprocess.run(
        [str(toy_course.AUTOGRADER), "grade-one", str(solved), "--assignment", str(toy_dir), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    result = json.loads(one.stdout)
    assert result["score"] == result["max_score"]
