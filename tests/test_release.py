"""Release: nbgrader's student version, deterministic, written whole, and checked up to date."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import cli, course, release
from tests.toy_course import TOY


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    shutil.copytree(TOY, folder / "toy")
    return folder


def test_release_strips_solutions_and_hidden_tests_and_keeps_locked_cells():
    source = nbformat.read(TOY / "toy.ipynb", as_version=4)
    released = release.released_notebook(TOY / "toy.ipynb")
    text = "\n".join(c.source for c in released.cells)
    assert "### BEGIN SOLUTION" not in text and "10.0 ** rng.uniform" not in text
    assert "raise NotImplementedError()" in text
    assert "HIDDEN TESTS" not in text and 'record("scale.hidden"' not in text
    assert 'check("scale.visible"' in text
    assert [c.cell_type for c in released.cells] == [c.cell_type for c in source.cells]
    assert released.cells[1].source == source.cells[1].source  # the locked imports cell, unchanged


def test_release_is_deterministic():
    fresh = release._generate((TOY / "toy.ipynb").read_text(), "toy")  # bypasses every cache
    assert fresh == release.released_text(TOY / "toy.ipynb")


def test_write_then_compare(source_dir, tmp_path):
    out = tmp_path / "assignments"
    target = release.write("toy", source_dir, out)
    helpers = sorted(p.name for p in course.STUDENT_HELPERS.glob("*.py"))
    assert sorted(p.name for p in target.iterdir()) == sorted(["toy.ipynb", *helpers])
    assert release.compare("toy", source_dir, out) == []
    (target / "toy.ipynb").write_text((target / "toy.ipynb").read_text().replace("scale", "scal"))
    (target / helpers[0]).unlink()
    (target / "notes.txt").write_text("stray")
    problems = release.compare("toy", source_dir, out)
    assert any("toy.ipynb: differs" in p for p in problems)
    assert any(f"{helpers[0]}: missing" in p for p in problems)
    assert any("notes.txt: not part of the release" in p for p in problems)
    release.write("toy", source_dir, out)
    assert release.compare("toy", source_dir, out) == [f"{target / 'notes.txt'}: not part of the release"]


def test_cli_rejects_unknown_assignments(capsys):
    assert cli.main(["release", "--check", "--assignments", "no_such_assignment"]) == 2
    assert "unknown assignment(s): no_such_assignment" in capsys.readouterr().err


@pytest.mark.parametrize("name", course.assignment_names())
def test_committed_release_is_up_to_date(name):
    problems = release.compare(name)
    assert problems == [], "run `autograder release`:\n" + "\n".join(problems)
