"""Tests of the tf_basics assignment itself (the variant harness in tests/assignments/ grades the variants).

Fast tests read the source notebook, grading.toml and variants.py; slow ones run TensorFlow notebooks.
"""
from __future__ import annotations

import ast
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.grading import spec as spec_mod

NAME = "tf_basics"
FUNCTIONS = ["linear_function", "sigmoid", "cost", "one_hot_matrix", "ones", "minimize_quadratic"]
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


@pytest.fixture(scope="module")
def spec():
    return spec_mod.load(NAME)


@pytest.fixture(scope="module")
def source():
    return nbformat.read(course.SOURCE_DIR / NAME / f"{NAME}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def variants():
    path = Path(__file__).with_name("variants.py")
    module_spec = importlib.util.spec_from_file_location("tf_basics_variants", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _index(nb) -> dict[str, int]:
    return {_meta(c)["grade_id"]: i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id")}


def _called_names(code: str, func: str) -> list[str]:
    # First argument of every check(...) / record(...) call: the recorded check names.
    return re.findall(rf'\b{func}\(\s*"([^"]+)"', code)


def test_groups_are_the_graded_functions(spec):
    assert [g.grade_id for g in spec.groups] == [f"{f}_tests" for f in FUNCTIONS]
    for group in spec.groups:
        visible = [c for c in group.checks if c.visible]
        hidden = [c for c in group.checks if not c.visible]
        assert len(visible) >= 1 and len(hidden) >= 2, group.grade_id
        assert all(c.name.startswith(group.title + ".") for c in group.checks)
        assert all(c.hint for c in hidden), f"{group.grade_id}: every hidden check needs a hint"


def test_imports_cell_is_first_and_locked(source):
    first = next(c for c in source.cells if c.cell_type == "code")
    assert _meta(first).get("grade_id") == "imports" and _meta(first).get("locked") is True
    assert "from selfcheck import check, record" in first.source


def test_each_function_has_explanation_solution_and_test_cell(source, spec):
    index = _index(source)
    for func in FUNCTIONS:
        i = index[func]
        sol = source.cells[i]
        meta = _meta(sol)
        assert meta["schema_version"] == 3
        assert (meta["solution"], meta["grade"], meta["locked"]) == (True, False, False), func
        assert source.cells[i - 1].cell_type == "markdown", f"{func}: no explanation above the solution"
        tree = ast.parse(sol.source)
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert [d.name for d in defs] == [func]
        assert ast.get_docstring(defs[0]), f"{func}: no docstring"
        assert "### BEGIN SOLUTION" in sol.source and "### END SOLUTION" in sol.source
        test = source.cells[i + 1]
        tmeta = _meta(test)
        assert tmeta["grade_id"] == f"{func}_tests", f"{func}: the test cell must follow the solution"
        assert (tmeta["grade"], tmeta["solution"], tmeta["locked"]) == (True, False, True)
        assert tmeta["points"] == spec.group(f"{func}_tests").max_points


def test_test_cells_record_exactly_their_checks(source, spec):
    index = _index(source)
    for group in spec.groups:
        code = source.cells[index[group.grade_id]].source
        assert code.count(HIDDEN_BEGIN) == 1 and code.count(HIDDEN_END) == 1, group.grade_id
        visible_part, rest = code.split(HIDDEN_BEGIN)
        hidden_part = rest.split(HIDDEN_END)[0]
        # Visible tests show expected values; hidden ones only record, so they never print a reference.
        assert _called_names(visible_part, "record") == []
        assert _called_names(hidden_part, "check") == [] and "expected" not in hidden_part
        assert sorted(_called_names(visible_part, "check")) == sorted(c.name for c in group.checks if c.visible)
        assert sorted(_called_names(hidden_part, "record")) == sorted(c.name for c in group.checks if not c.visible)
        # A test cell calls only its own student function.
        others = [f for f in FUNCTIONS if f != group.title and re.search(rf"\b{f}\(", code)]
        assert others == [], f"{group.grade_id} calls {others}"


def test_variants_cover_every_function(variants):
    assert set(variants.HARDCODED) == set(FUNCTIONS)
    for func in FUNCTIONS:
        assert len(variants.WRONG.get(func, {})) >= 2, func
        assert len(variants.CORRECT.get(func, {})) >= 1, func
    sources = [(f, s) for table in (variants.WRONG, variants.CORRECT) for f, vs in table.items() for s in vs.values()]
    sources += list(variants.HARDCODED.items())
    for func, src in sources:
        defs = [n.name for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)]
        assert defs == [func], f"a variant of {func} defines {defs}"


def test_release_has_no_solutions_or_hidden_tests():
    released = nbformat.read(course.RELEASE_DIR / NAME / f"{NAME}.ipynb", as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert HIDDEN_BEGIN not in text and "hidden_" not in text
    assert "### BEGIN SOLUTION" not in text
    code = "\n".join(c.source for c in released.cells if c.cell_type == "code")
    assert code.count("raise NotImplementedError()") == len(FUNCTIONS)
    for name in ("tf.one_hot(labels, depth=C, axis=0)", "tf.math.sigmoid(z)", "sigmoid_cross_entropy_with_logits(labels"):
        assert name not in code
    assert (course.RELEASE_DIR / NAME / "selfcheck.py").is_file()


@pytest.mark.slow
def test_solution_self_checks_pass_in_plain_jupyter_with_one_thread(tmp_path, monkeypatch):
    """A student with the solution sees PASSED for every visible check, with TensorFlow on one thread."""
    from nbclient import NotebookClient

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    shutil.copy(course.STUDENT_HELPERS / "selfcheck.py", tmp_path)
    nb = nbformat.read(course.SOURCE_DIR / NAME / f"{NAME}.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    stdout = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout")
    n_visible = sum(c.visible for c in spec_mod.load(NAME).checks())
    assert "FAILED" not in stdout
    assert stdout.count("PASSED") == n_visible


@pytest.mark.slow
def test_solution_gets_full_marks_with_one_thread(monkeypatch):
    """Reference values were built with the default thread count; one thread must still pass every check."""
    from autograder.grading.core import grade

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    result = grade(course.SOURCE_DIR / NAME / f"{NAME}.ipynb", NAME)
    failed = [(c.name, c.message) for c in result.checks if not c.passed]
    assert failed == [] and result.score == result.max_score == 23


@pytest.mark.slow
def test_released_notebook_scores_zero():
    from autograder.grading.core import grade

    result = grade(course.RELEASE_DIR / NAME / f"{NAME}.ipynb", NAME)
    assert result.status == "graded"
    assert result.score == 0 and len(result.checks) == 23
    assert all("NotImplementedError" in c.message for c in result.checks)
