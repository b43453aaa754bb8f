"""The runner: a clean working folder, the grading environment, and outcomes instead of exceptions."""

from __future__ import annotations

import dataclasses
import json

import nbformat

from autograder import course
from autograder.grading import runner
from tests.toy_course import FAST


def nb_of(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_working_folder_and_environment(tmp_path):
    nb = nb_of(
        "import os, json\n"
        "print(json.dumps({'files': sorted(os.listdir('.')), 'data': os.environ.get('COURSE_DATA_DIR'),"
        " 'seed': os.environ.get('PYTHONHASHSEED'), 'mpl': os.environ.get('MPLBACKEND'),"
        " 'tf': os.environ.get('TF_CPP_MIN_LOG_LEVEL')}))"
    )
    out, outcome = runner.run(nb, limits=FAST, data_dir=tmp_path)
    assert outcome.status == "ok"
    seen = json.loads(stdout(out.cells[0]))
    helpers = sorted(p.name for p in course.STUDENT_HELPERS.glob("*.py"))
    assert seen["files"] == sorted([runner.NOTEBOOK_NAME, *helpers])
    assert seen == {**seen, "data": str(tmp_path), "seed": "0", "mpl": "Agg", "tf": "2"}


def test_errors_do_not_stop_the_run_and_stderr_is_only_output():
    nb = nb_of("import sys; print('oops', file=sys.stderr)", "1/0", "print('after')")
    out, outcome = runner.run(nb, limits=FAST)
    assert outcome.status == "ok" and outcome.error_cells == [1]
    assert stdout(out.cells[2]) == "after\n"


def test_the_input_notebook_is_not_modified():
    nb = nb_of("print('hi')")
    runner.run(nb, limits=FAST)
    assert nb.cells[0].outputs == []


def test_a_kernel_that_cannot_be_set_up_is_an_outcome():
    def broken(workdir, data_dir, limits):
        raise RuntimeError("no kernel for you")

    out, outcome = runner.run(nb_of("x = 1", "y = 2"), limits=FAST, kernel_manager_factory=broken)
    assert outcome.status == "no_kernel" and "no kernel for you" in outcome.reason
    assert all(c.metadata["autograder"]["not_run"] for c in out.cells)


def test_a_dead_kernel_stops_at_its_cell():
    out, outcome = runner.run(nb_of("x = 1", "import os; os._exit(0)", "print('never')"), limits=FAST)
    assert outcome.status == "dead" and outcome.cell == 1
    assert out.cells[1].outputs[-1]["ename"] == "GradingStopped"
    assert out.cells[2].metadata["autograder"]["not_run"] and out.cells[2].outputs == []


def _kept_bytes(nb) -> int:
    return sum(len(json.dumps(o)) for c in nb.cells for o in c.get("outputs", []))


def test_display_updates_cannot_rewrite_earlier_cells_or_step_around_the_cap():
    """Issue #10.5: update_display_data bypassed the per-cell cap (one cell kept ~200 MB)."""
    limits = dataclasses.replace(FAST, max_output_kb=64, max_notebook_output_kb=256)
    nb = nb_of(
        "from IPython.display import display, update_display\ndisplay('small', display_id='d')",
        # a later cell rewrites the first cell's output, again and again, with 1 MB each time
        "for _ in range(20):\n    update_display('x' * 1_000_000, display_id='d')\nprint('done')",
        # and floods its own display in place
        "display('mine', display_id='e')\nfor _ in range(50):\n    update_display('y' * 100_000, display_id='e')",
    )
    out, outcome = runner.run(nb, limits=limits)
    assert outcome.status == "ok"
    assert "small" in json.dumps(out.cells[0].outputs) and "xxxx" not in json.dumps(out.cells[0].outputs)
    assert out.cells[2].metadata["autograder"]["output_cut"] and 2 in outcome.cut_cells
    assert _kept_bytes(out) < 300 * 1024


def test_the_whole_notebook_has_an_output_cap():
    limits = dataclasses.replace(FAST, max_output_kb=64, max_notebook_output_kb=256)
    cells = ["print('z' * 50_000)"] * 12  # 50 KB each: under the cell cap, 600 KB in all
    out, outcome = runner.run(nb_of(*cells), limits=limits)
    assert outcome.status == "ok"
    assert outcome.cut_cells and min(outcome.cut_cells) >= 4  # the first cells keep theirs
    assert _kept_bytes(out) < 300 * 1024
