"""The output folder: one per assignment, never another assignment's (issue #11, item 2), and nbgrader's
tools run in it never overwrite our files nor ours theirs (item 3)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import nbformat
import pytest

from tests.toy_course import AUTOGRADER, copy_as, make_toy, solved

# the layout of the output folder (autograder/batch/batch.py), spelled out so that a rename shows here
MARKER, GRADES_CSV, SUMMARY, FEEDBACK = "autograder.json", "autograder-grades.csv", "autograder-summary.html", "autograder-feedback"
# what nbgrader writes in a course folder, besides the gradebook both sides share
NBGRADER_NAMES = {"grades.csv", "feedback", "autograded", "submitted", "release", "source", "nbgrader_config.py"}

pytestmark = pytest.mark.timeout(600)
NBGRADER = AUTOGRADER.with_name("nbgrader")


def tree(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its SHA-256 and mtime, so that any write shows."""
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def grade(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AUTOGRADER), "grade", *map(str, args), "--unsafe", "--workers", "2"], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Two assignments (the toy and a copy called toy2), a class of two, graded with the default --out."""
    root = tmp_path_factory.mktemp("course")
    toy = make_toy(root)
    toy2 = copy_as(toy, "toy2")
    subs = root / "subs"
    subs.mkdir()
    nbformat.write(solved(toy), subs / "alice.ipynb")
    nbformat.write(solved(toy), subs / "bob.ipynb")
    first = grade(toy, subs, cwd=root)
    assert first.returncode == 0, first.stderr[-3000:]
    return {"root": root, "toy": toy, "toy2": toy2, "subs": subs, "out": root / "grading" / "toy"}


@pytest.mark.slow
def test_the_default_output_is_one_folder_per_assignment(course):
    root = course["root"]
    out = course["out"]
    assert (out / "autograder-grades.csv").is_file() and (out / "results" / "alice.json").is_file()
    before = tree(out)
    second = grade(course["toy2"], course["subs"], cwd=root)
    assert second.returncode == 0, second.stderr[-3000:]
    assert (root / "grading" / "toy2" / "autograder-grades.csv").is_file()
    assert str(root / "grading" / "toy2" / "autograder-grades.csv") in second.stdout
    assert tree(out) == before  # the first assignment's results are untouched


@pytest.mark.parametrize("how", ["marker", "results only"])
def test_a_folder_of_another_assignment_is_refused_and_nothing_is_written(course, tmp_path, how):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(course["out"], out)
    if how == "results only":  # as an older version of the grader left it
        (out / MARKER).unlink()
    before = tree(out)
    proc = grade(course["toy2"], course["subs"], "--out", out, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{out} holds" in proc.stderr and "assignment 'toy'" in proc.stderr and "toy2" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_foreign_folder_is_refused(course, tmp_path):
    (tmp_path / "gradebook.db").write_bytes(b"an nbgrader course's own gradebook")
    proc = grade(course["toy"], course["subs"], "--out", tmp_path, cwd=tmp_path)
    assert proc.returncode == 2
    assert "not empty and was not written by `autograder grade`" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.db"]


@pytest.mark.slow
def test_nbgrader_export_in_the_output_folder_and_our_rerun_leave_each_other_alone(course):
    out = course["out"]
    ours = {name: (out / name).read_bytes() for name in (GRADES_CSV, SUMMARY)}
    pages = tree(out / FEEDBACK)
    # what an instructor does: nbgrader's own export, run where the gradebook is
    export = subprocess.run([str(NBGRADER), "export"], cwd=out, capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr[-3000:]
    theirs = (out / "grades.csv").read_text()
    assert theirs.startswith("assignment,duedate,timestamp,student_id")
    assert "toy,,,alice," in theirs and "toy,,,bob," in theirs
    assert {name: (out / name).read_bytes() for name in ours} == ours
    assert tree(out / FEEDBACK) == pages
    # and our rerun (which writes every report again) keeps nbgrader's file
    again = grade(course["toy"], course["subs"], cwd=course["root"])
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "grades.csv").read_text() == theirs
    # nbgrader's export wrote grades.csv; we wrote the course layout formgrader reads (never a file nbgrader writes)
    assert {p.name for p in out.iterdir()} & NBGRADER_NAMES == {"grades.csv", "nbgrader_config.py", "source", "submitted", "autograded"}
    from autograder.batch import batch

    assert (batch.MARKER, batch.GRADES_CSV, batch.SUMMARY, batch.FEEDBACK) == (MARKER, GRADES_CSV, SUMMARY, FEEDBACK)
    assert not NBGRADER_NAMES & {batch.MARKER, batch.GRADES_CSV, batch.SUMMARY, batch.FEEDBACK, batch.RESULTS, batch.EXTRACTED}
