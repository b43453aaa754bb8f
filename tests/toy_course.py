"""The toy assignment (numpy only, a second or two per notebook): the one place tests get it from.

``TOY`` is ``tests/fixtures/toy``. ``make_toy(folder)`` copies it and records its reference values there, so
``autograder grade <folder>/toy ...`` grades against it; ``blank`` and ``solved`` are its released notebook
and the released notebook with the source's answers pasted in (``fill_in`` does that for any pair).
``replaced`` and ``with_extra`` build submissions cell by cell; ``FAST`` are limits that keep failure
cases quick.
"""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import nbformat

from autograder import config, reference, release
from autograder.grading import spec as spec_mod

TOY = Path(__file__).resolve().parent / "fixtures" / "toy"
# Recorded values count towards the output cap (the toy records ~130 KB in one cell). Small limits keep
# the failure cases (timeouts, floods) fast; the toy needs well under a second per cell.
FAST = config.Limits(cell_timeout=5, notebook_timeout=60, max_output_kb=256)
AUTOGRADER = Path(sys.executable).with_name("autograder")


def make_toy(folder: Path) -> Path:
    target = folder / "toy"
    shutil.copytree(TOY, target)
    toy = spec_mod.load(target)
    reference.write(toy, reference.build(toy))
    return target


def copy_as(toy_dir: Path, name: str) -> Path:
    """A second assignment: the toy (with its reference values) under another name, beside it."""
    target = toy_dir.parent / name
    shutil.copytree(toy_dir, target)
    spec_file = target / "grading.toml"
    spec_file.write_text(spec_file.read_text().replace('name = "toy"', f'name = "{name}"', 1))
    assert spec_mod.load(target).name == name
    return target


def blank(toy_dir: Path):
    return release.released_notebook(toy_dir / "toy.ipynb", "toy")


def answers(source) -> dict[str, str]:
    """grade_id -> source of every solution cell of a source notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def fill_in(released, source):
    """A copy of ``released`` with the answers of ``source`` pasted into its solution cells (a model student)."""
    found = answers(source)
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in found:
            cell.source = found[gid]
    return nb


def solved(toy_dir: Path):
    return fill_in(blank(toy_dir), nbformat.read(toy_dir / "toy.ipynb", as_version=4))


def cell_index(nb, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def replaced(nb, grade_id: str, source: str):
    """A copy of ``nb`` whose cell ``grade_id`` has ``source``."""
    nb = copy.deepcopy(nb)
    nb.cells[cell_index(nb, grade_id)].source = source
    return nb


def with_extra(nb, after: str, source: str):
    """A copy of ``nb`` with a plain code cell inserted after the cell ``after``."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(cell_index(nb, after) + 1, nbformat.v4.new_code_cell(source))
    return nb


def grade_cmd(toy_dir: Path, *inputs, out: Path, extra=()) -> list[str]:
    return [str(AUTOGRADER), "grade", str(toy_dir), *map(str, inputs), "--out", str(out), *extra]
