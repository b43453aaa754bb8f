"""The toy course as the site sees it, shared by the site's tests (conftest) and its benchmarks
(``benchmarks/site_bench.py``): the course folders, a wrong notebook, the password the accounts get, and the
small HTTP helpers both need. Numpy only; nothing here starts a server."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import nbformat

from autograder import course
from tests import toy_course

PASSWORD = "correct horse battery"


def make_course(root: Path) -> tuple[Path, Path]:
    """root/source_solutions/toy (with reference values) and root/assignments/toy (the release), like the repository."""
    source = root / "source_solutions"
    source.mkdir(parents=True)
    toy_dir = toy_course.make_toy(source)
    release = root / "assignments" / "toy"
    release.mkdir(parents=True)
    nbformat.write(toy_course.blank(toy_dir), release / "toy.ipynb")
    for helper in sorted(course.STUDENT_HELPERS.glob("*.py")):
        shutil.copy(helper, release / helper.name)
    return source, root / "assignments"


def wrong(toy_dir: Path):
    """The solved toy notebook with ``scale`` summing instead of scaling (loses the scale group's 3 points)."""
    nb = toy_course.solved(toy_dir)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale":
            cell.source = "def scale(x, a):\n    return a * np.sum(x)\n"
    return nb


def notebook_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
