"""Helpers for building submissions from the toy notebooks (imported by tests and conftest)."""
from __future__ import annotations

import copy

import nbformat

from autograder import config

# Recorded values count towards the output cap (the toy records ~130 KB in one cell). Small limits keep
# the failure cases (timeouts, floods) fast; the toy needs well under a second per cell.
FAST = config.Limits(cell_timeout=5, notebook_timeout=60, max_output_kb=256)

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
