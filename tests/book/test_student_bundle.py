"""A student's machine, end to end: the site's zip of signs_model unpacked in an empty folder, a fresh venv
with only the students' requirements.txt, the notebook run with a correct solution filled in, and the SIGNS
data downloaded from a loopback copy of the published book.

Slow: it installs TensorFlow into a new venv (from pip's cache when the project's own venv was just made)
and runs the notebook there.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import course, release
from autograder.grading.cells import grade_id, is_solution
from autograder.site import catalog

NAME = "signs_model"
SOLVED = course.ROOT / "demo" / NAME / "alice.ipynb"  # the demo's full-marks notebook


def filled_in(released: nbformat.NotebookNode, solved: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook with each solution cell's source taken from the solved one (same grade ids)."""
    answers = {grade_id(c): c.source for c in solved.cells if grade_id(c)}
    out = nbformat.from_dict(json.loads(json.dumps(released)))
    filled = 0
    for cell in out.cells:
        if is_solution(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
            filled += 1
    assert filled, "no solution cell was filled in"
    return out


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory) -> Path:
    """A new venv holding what requirements.txt names and nothing of the course's tools."""
    folder = tmp_path_factory.mktemp("student-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    requirements = course.STUDENT_HELPERS / "requirements.txt"
    proc = subprocess.run([*pip, "-r", str(requirements)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder


@pytest.mark.slow
def test_the_zip_runs_on_a_machine_with_only_the_students_packages(served_book, student_venv, tmp_path):
    # The bundle exactly as the site serves it, released with the published book's data address.
    release_dir = tmp_path / "release"
    release.write(NAME, release_dir=release_dir, data_url=f"{served_book}/data/")
    offered = catalog.load_one(course.SOURCE_DIR / NAME, release_dir)
    home = tmp_path / "student"
    home.mkdir()
    zipfile.ZipFile(io.BytesIO(offered.zip_bytes)).extractall(home)
    work = home / NAME
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ["course_data.json", "course_utils.py", "requirements.txt", "selfcheck.py", f"{NAME}.ipynb", f"{NAME}.zh.ipynb"]
    )
    python = student_venv / "bin" / "python"
    for absent in ("autograder", "nbgrader"):
        probe = subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True, cwd=work)
        assert probe.returncode != 0, f"{absent} is importable in the students' venv"

    released = nbformat.read(work / f"{NAME}.ipynb", as_version=4)
    nbformat.write(filled_in(released, nbformat.read(SOLVED, as_version=4)), work / f"{NAME}.ipynb")
    env = {
        "PATH": f"{student_venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    run = subprocess.run(
        [str(student_venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", "ran.ipynb", f"{NAME}.ipynb"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-4000:]

    ran = nbformat.read(work / "ran.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in ran.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream")
    assert not [o for c in ran.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    visible = set(re.findall(r'check\("([^"]+)"', "".join(c.source for c in released.cells if c.cell_type == "code")))
    assert visible and set(re.findall(r"^PASSED  (\S+)", printed, re.M)) == visible
    assert "FAILED" not in printed
    # The data came from the served book into the student's cache, checked against course_data.json.
    assert sorted(p.name for p in (home / ".cache" / "course-signs").iterdir()) == ["test_signs.h5", "train_signs.h5"]
