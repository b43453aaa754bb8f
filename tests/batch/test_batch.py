"""``autograder grade`` through the CLI on a tiny class: the three input shapes, odd uploads, bad input."""
from __future__ import annotations

import csv
import json
import subprocess
import zipfile

import nbformat
import pytest
import toy_course

from autograder import course

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return toy_course.make_toy(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def graded(toy_dir, tmp_path_factory):
    """One batch over a folder, an nbgrader submitted/ tree and an LMS zip, mixed as an instructor might."""
    root = tmp_path_factory.mktemp("class")
    blank, solved = toy_course.blank(toy_dir), toy_course.solved(toy_dir)

    folder = root / "uploads"
    folder.mkdir()
    nbformat.write(solved, folder / "alice.ipynb")
    nbformat.write(blank, folder / "bob_toy.ipynb")
    (folder / "carol.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    # dave handed in the notebook of another assignment
    other = nbformat.read(course.RELEASE_DIR / "tf_basics" / "tf_basics.ipynb", as_version=4)
    nbformat.write(other, folder / "dave.ipynb")

    tree = root / "submitted"
    for student, nb in (("s1", solved), ("s2", blank)):
        (tree / student / "toy").mkdir(parents=True)
        nbformat.write(nb, tree / student / "toy" / "toy.ipynb")

    archive = root / "canvas_export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doejane_12345_678901_toy.ipynb", nbformat.writes(solved))
        z.writestr("roefrank_late_2345_67890_toy.ipynb", nbformat.writes(blank))

    out = root / "out"
    proc = subprocess.run(
        toy_course.grade_cmd(toy_dir, folder, tree, archive, out=out, extra=["--unsafe", "--workers", "2"]),
        capture_output=True, text=True, timeout=500,
    )
    results = {p.stem: json.loads(p.read_text())["result"] for p in (out / "results").glob("*.json")}
    return proc, out, results


STUDENTS = {"alice", "bob", "carol", "dave", "s1", "s2", "doejane", "roefrank"}


def test_batch_succeeds_and_says_where_the_reports_are(graded):
    proc, out, _ = graded
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"graded {len(STUDENTS)} submissions of toy" in proc.stdout
    assert str(out / "grades.csv") in proc.stdout
    assert "Traceback" not in proc.stderr


def test_every_shape_gives_one_result_per_student(graded):
    _, _, results = graded
    assert set(results) == STUDENTS


@pytest.mark.parametrize("student", ["alice", "s1", "doejane"])
def test_solutions_from_each_shape_get_full_marks(graded, student):
    result = graded[2][student]
    assert result["status"] == "graded"
    assert result["score"] == result["max_score"] == 10


@pytest.mark.parametrize("student", ["bob", "s2", "roefrank"])
def test_blanks_from_each_shape_score_zero(graded, student):
    result = graded[2][student]
    assert result["status"] == "graded" and result["score"] == 0


def test_pdf_gets_a_result_with_a_clear_reason(graded):
    result = graded[2]["carol"]
    assert result["status"] == "rejected" and result["score"] == 0
    assert any("not a notebook" in r for r in result["reasons"]), result["reasons"]


def test_notebook_of_another_assignment_gets_a_result_with_a_clear_reason(graded):
    result = graded[2]["dave"]
    assert result["status"] == "rejected" and result["score"] == 0
    assert any("not a notebook of toy" in r for r in result["reasons"]), result["reasons"]


def test_reports_list_every_student_once(graded):
    from nbgrader.api import Gradebook

    _, out, results = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="course") as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions("toy")}
    assert scores == pytest.approx({s: r["score"] for s, r in results.items()})
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == sorted(STUDENTS)


def _run(args, **kw):
    return subprocess.run([str(toy_course.AUTOGRADER), "grade", *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


def test_missing_input_folder_is_a_clear_error(toy_dir, tmp_path):
    proc = _run([toy_dir, tmp_path / "no-such-folder", "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no-such-folder" in proc.stderr and "no such file or folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "results").exists()


def test_unknown_assignment_is_a_clear_error(tmp_path):
    proc = _run(["no_such_assignment", tmp_path, "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no_such_assignment" in proc.stderr and "Traceback" not in proc.stderr


def test_folder_without_submissions_is_a_clear_error(toy_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    proc = _run([toy_dir, tmp_path / "empty", "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no submissions found" in proc.stderr and "Traceback" not in proc.stderr
