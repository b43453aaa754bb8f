"""Tests of the batch_norm assignment itself (tests/assignments/test_variants.py grades its variants).

Fast tests read the source notebook, grading.toml, variants.py and the release; slow ones run the notebook.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.grading import spec as spec_mod

NAME = "batch_norm"
# Graded functions in notebook order; each one's solution cell may also define the helpers listed.
FUNCTIONS = ["batchnorm_forward", "batchnorm_backward", "update_running_averages", "batchnorm_inference"]
HELPERS = {}
# Functions (or helpers) a test cell may call besides its own: given, locked code of the notebook.
GIVEN = []
# Recording calls allowed in visible test code: check(...) and the notebook's locked check_* helpers.
VISIBLE_CALLS = r"check\w*"
# Whether the ungraded cells need the SIGNS data, and a line they print.
NEEDS_DATA = True
EXPECTED_OUTPUT = "with batch norm: train accuracy"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@pytest.fixture(scope="module")
def spec():
    return spec_mod.load(NAME)


@pytest.fixture(scope="module")
def source():
    return nbformat.read(course.SOURCE_DIR / NAME / f"{NAME}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def variants():
    path = Path(__file__).with_name("variants.py")
    module_spec = importlib.util.spec_from_file_location(f"{NAME}_variants", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _index(nb) -> dict[str, int]:
    return {_meta(c)["grade_id"]: i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id")}


def _recorded(code: str, call: str) -> list[str]:
    # The check names passed as first argument to each recording call.
    return re.findall(rf'\b(?:{call})\(\s*"([^"]+)"', code)


def _defined(code: str) -> list[str]:
    return [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]


def test_groups_are_the_graded_functions(spec):
    assert [g.grade_id for g in spec.groups] == [f"{f}_tests" for f in FUNCTIONS]
    for group in spec.groups:
        hidden = [c for c in group.checks if not c.visible]
        assert any(c.visible for c in group.checks) and len(hidden) >= 2, group.grade_id
        assert all(c.name.startswith(group.title + ".") for c in group.checks)
        assert all(c.hint for c in hidden), f"{group.grade_id}: every hidden check needs a hint"
        assert group.hint, f"{group.grade_id}: no group hint"


def test_imports_cell_is_first_and_locked(source):
    first = next(c for c in source.cells if c.cell_type == "code")
    assert _meta(first).get("grade_id") == "imports" and _meta(first).get("locked") is True
    assert "from selfcheck import check, record" in first.source


def test_each_function_has_explanation_solution_and_test_cell(source, spec):
    index = _index(source)
    for func in FUNCTIONS:
        i = index[func]
        sol, meta = source.cells[i], _meta(source.cells[i])
        assert meta["schema_version"] == 3
        assert (meta["solution"], meta["grade"], meta["locked"]) == (True, False, False), func
        assert source.cells[i - 1].cell_type == "markdown", f"{func}: no explanation above the solution"
        assert sorted(_defined(sol.source)) == sorted([func, *HELPERS.get(func, [])])
        for node in ast.parse(sol.source).body:
            assert ast.get_docstring(node), f"{func}: {node.name} has no docstring"
        assert sol.source.count("### BEGIN SOLUTION") == sol.source.count("### END SOLUTION") >= 1
        test, tmeta = source.cells[i + 1], _meta(source.cells[i + 1])
        assert tmeta["grade_id"] == f"{func}_tests", f"{func}: the test cell must follow the solution"
        assert (tmeta["grade"], tmeta["solution"], tmeta["locked"]) == (True, False, True)
        assert tmeta["points"] == spec.group(f"{func}_tests").max_points


def test_other_code_cells_are_locked_or_skipped(source, spec):
    # Given code is locked; free code cells are ungraded extras that grading drops.
    for cell in source.cells:
        if cell.cell_type == "code" and not _meta(cell):
            assert spec.skip_tag in cell.metadata.get("tags", []), cell.source[:80]


def test_test_cells_record_exactly_their_checks(source, spec):
    index = _index(source)
    own = {f: [f, *HELPERS.get(f, [])] for f in FUNCTIONS}
    for group in spec.groups:
        code = source.cells[index[group.grade_id]].source
        assert code.count(HIDDEN_BEGIN) == 1 and code.count(HIDDEN_END) == 1, group.grade_id
        visible_part, rest = code.split(HIDDEN_BEGIN)
        hidden_part = rest.split(HIDDEN_END)[0]
        # Visible tests show expected values; hidden ones only record, so they never print a reference.
        assert _recorded(visible_part, "record") == []
        assert _recorded(hidden_part, VISIBLE_CALLS) == [] and "expected" not in hidden_part
        assert "print(" not in hidden_part
        assert sorted(_recorded(visible_part, VISIBLE_CALLS)) == sorted(c.name for c in group.checks if c.visible)
        assert sorted(_recorded(hidden_part, "record")) == sorted(c.name for c in group.checks if not c.visible)
        # A test cell calls only its own student function (and given code).
        student = {n for f in FUNCTIONS for n in own[f]} - set(own[group.title]) - set(GIVEN)
        called = sorted(n for n in student if re.search(rf"\b{n}\(", code))
        assert called == [], f"{group.grade_id} calls {called}"


def test_variants_cover_every_function(variants):
    assert set(variants.HARDCODED) == set(FUNCTIONS)
    for func in FUNCTIONS:
        assert len(variants.WRONG.get(func, {})) >= 2, func
        assert len(variants.CORRECT.get(func, {})) >= 1, func
    sources = [(f, s) for table in (variants.WRONG, variants.CORRECT) for f, vs in table.items() for s in vs.values()]
    sources += list(variants.HARDCODED.items())
    for func, src in sources:
        assert func in _defined(src), f"a variant of {func} does not define it"
    for (func, _label), groups in getattr(variants, "WRONG_ALSO_FAILS", {}).items():
        assert all(g in {f"{f}_tests" for f in FUNCTIONS} for g in groups)


def test_release_has_no_solutions_or_hidden_tests(source):
    released = nbformat.read(course.RELEASE_DIR / NAME / f"{NAME}.ipynb", as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert HIDDEN_BEGIN not in text and "hidden_" not in text and "### BEGIN SOLUTION" not in text
    blocks = sum(c.source.count("### BEGIN SOLUTION") for c in source.cells)
    assert text.count("raise NotImplementedError()") == blocks
    for name in ("selfcheck.py", "course_utils.py"):
        assert (course.RELEASE_DIR / NAME / name).is_file()


def _run_plain(nb, tmp_path, timeout=300):
    """Execute ``nb`` as a student would in Jupyter, helpers beside it, TensorFlow on one thread."""
    from nbclient import NotebookClient

    for helper in ("selfcheck.py", "course_utils.py"):
        shutil.copy(course.STUDENT_HELPERS / helper, tmp_path)
    env = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout")


@pytest.mark.slow
def test_solution_self_checks_pass_in_plain_jupyter(source, spec, tmp_path):
    """A student with the solution sees PASSED for every visible check (ungraded extras left out)."""
    import copy

    nb = copy.deepcopy(source)
    nb.cells = [c for c in nb.cells if spec.skip_tag not in c.metadata.get("tags", [])]
    stdout = _run_plain(nb, tmp_path)
    assert "FAILED" not in stdout
    assert stdout.count("PASSED") == sum(c.visible for c in spec.checks())


@pytest.mark.slow
def test_released_notebook_scores_zero(spec):
    from autograder.grading.core import grade

    result = grade(course.RELEASE_DIR / NAME / f"{NAME}.ipynb", NAME)
    assert result.status == "graded"
    assert result.score == 0 and len(result.checks) == len(list(spec.checks()))
    assert all("NotImplementedError" in c.message for c in result.checks)


@pytest.mark.slow
def test_ungraded_part_runs_on_the_signs_data(source, spec, tmp_path, monkeypatch):
    """The skip-grading cells (plots, SIGNS training) run after the solution and print no errors."""
    import copy

    data = course.datasets_dir()
    if NEEDS_DATA and not (data / "train_signs.h5").is_file():
        pytest.skip("the SIGNS data is not built (autograder data build)")
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    nb = copy.deepcopy(source)
    stdout = _run_plain(nb, tmp_path, timeout=900)
    errors = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    extras = [c for c in nb.cells if spec.skip_tag in c.metadata.get("tags", [])]
    assert extras and all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in extras)
    assert EXPECTED_OUTPUT in stdout
