"""Every assignment follows the conventions of docs/architecture.md ("Assignment conventions").

Parametrized over every source_solutions/<name>/ with a grading.toml; LAYOUTS below says what each one
grades. Fast tests read the source notebook, grading.toml, variants.py and the release; slow ones run the
notebook. Tests of one assignment only (and the variant harness, test_variants.py) live in its own folder.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.grading import spec as spec_mod

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "raise NotImplementedError()"


@dataclasses.dataclass(frozen=True)
class Layout:
    functions: tuple[str, ...]  # graded functions in notebook order
    helpers: dict = dataclasses.field(default_factory=dict)  # function -> helpers its solution cell also defines
    given: tuple[str, ...] = ()  # locked functions of the notebook a test cell may call besides its own
    visible_calls: str = r"check\w*"  # recording calls of visible tests: check(...) and locked check_* helpers
    graded_needs_data: bool = False  # the graded cells load the SIGNS files
    extras_need_data: bool = False  # the skip-grading cells load the SIGNS files
    extras_print: str | None = None  # a line the skip-grading cells print; None: no extras test here
    untagged_demos: tuple[str, ...] = ()  # how free, untagged demo cells start (grading runs them; they are cheap)
    min_hidden: int = 2  # hidden checks each group has at least


LAYOUTS = {
    "batch_norm": Layout(
        ("batchnorm_forward", "batchnorm_backward", "update_running_averages", "batchnorm_inference"),
        extras_need_data=True, extras_print="with batch norm: train accuracy"),
    "hyperparameter_search": Layout(
        ("sample_log_uniform", "sample_momentum_beta", "random_search", "narrow_space", "coarse_to_fine"),
        helpers={"random_search": ["sample_params"]}, given=("toy_objective",),
        extras_need_data=True, extras_print="validation accuracy"),
    # The full SIGNS training of the extras takes minutes; the benchmarks run it.
    "signs_model": Layout(
        ("initialize_parameters", "forward_propagation", "compute_cost", "model"), graded_needs_data=True,
        min_hidden=1),  # three of its groups have a single hidden check
    "softmax": Layout(
        ("softmax", "softmax_cost", "softmax_backward", "train_softmax"), given=("make_blobs",),
        extras_print="training accuracy"),
    "tf_basics": Layout(
        ("linear_function", "sigmoid", "cost", "one_hot_matrix", "ones", "minimize_quadratic"),
        untagged_demos=("a = tf.constant(",)),
}
ASSIGNMENTS = course.assignment_names()
WITH_EXTRAS = [n for n in ASSIGNMENTS if n in LAYOUTS and LAYOUTS[n].extras_print]


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def layout(name) -> Layout:
    if name not in LAYOUTS:
        pytest.fail(f"source_solutions/{name}/ has no entry in LAYOUTS of tests/assignments/test_conventions.py")
    return LAYOUTS[name]


@pytest.fixture(scope="module")
def spec(name):
    return spec_mod.load(name)


@pytest.fixture(scope="module")
def source(name):
    return nbformat.read(course.SOURCE_DIR / name / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def released(name):
    return nbformat.read(course.RELEASE_DIR / name / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def variants(name):
    path = Path(__file__).with_name(name) / "variants.py"
    assert path.is_file(), f"tests/assignments/{name}/variants.py is missing"
    module_spec = importlib.util.spec_from_file_location(f"{name}_variants", path)
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


def _own(layout: Layout, func: str) -> list[str]:
    return [func, *layout.helpers.get(func, [])]


def test_every_layout_is_an_assignment():
    assert sorted(set(LAYOUTS) - set(ASSIGNMENTS)) == [], "LAYOUTS names assignments without a grading.toml"


def test_groups_are_the_graded_functions(layout, spec):
    assert [g.grade_id for g in spec.groups] == [f"{f}_tests" for f in layout.functions]
    for group in spec.groups:
        hidden = [c for c in group.checks if not c.visible]
        assert any(c.visible for c in group.checks) and len(hidden) >= layout.min_hidden, group.grade_id
        assert all(c.name.startswith(group.title + ".") for c in group.checks)
        assert all(c.hint for c in hidden), f"{group.grade_id}: every hidden check needs a hint"
        assert group.hint, f"{group.grade_id}: no group hint"


def test_imports_cell_is_first_and_locked(source):
    first = next(c for c in source.cells if c.cell_type == "code")
    assert _meta(first).get("grade_id") == "imports" and _meta(first).get("locked") is True
    assert "from selfcheck import check, record" in first.source


def test_each_function_has_explanation_solution_and_test_cell(layout, source, spec):
    index = _index(source)
    for func in layout.functions:
        i = index[func]
        sol, meta = source.cells[i], _meta(source.cells[i])
        assert meta["schema_version"] == 3
        assert (meta["solution"], meta["grade"], meta["locked"]) == (True, False, False), func
        assert source.cells[i - 1].cell_type == "markdown", f"{func}: no explanation above the solution"
        body = ast.parse(sol.source).body
        assert all(isinstance(n, ast.FunctionDef) for n in body), f"{func}: the solution cell holds only functions"
        assert sorted(_defined(sol.source)) == sorted(_own(layout, func))
        for node in body:
            assert ast.get_docstring(node), f"{func}: {node.name} has no docstring"
        assert sol.source.count(SOLUTION_BEGIN) == sol.source.count(SOLUTION_END) >= 1
        tmeta = _meta(source.cells[i + 1])
        assert tmeta["grade_id"] == f"{func}_tests", f"{func}: the test cell must follow the solution"
        assert (tmeta["grade"], tmeta["solution"], tmeta["locked"]) == (True, False, True)
        assert tmeta["points"] == spec.group(f"{func}_tests").max_points


def test_other_code_cells_are_locked_or_skipped(layout, source, spec):
    # Given code is locked; free code cells are ungraded extras that grading drops (or listed cheap demos).
    free = [c.source for c in source.cells
            if c.cell_type == "code" and not _meta(c) and spec.skip_tag not in c.metadata.get("tags", [])]
    demos = [s for s in free if s.startswith(layout.untagged_demos)]
    assert [s[:80] for s in free if s not in demos] == []
    assert len(demos) == len(layout.untagged_demos), "a demo listed in LAYOUTS is gone: update LAYOUTS"


def test_test_cells_record_exactly_their_checks(layout, source, spec):
    index = _index(source)
    student = {n for f in layout.functions for n in _own(layout, f)}
    for group in spec.groups:
        code = source.cells[index[group.grade_id]].source
        assert code.count(HIDDEN_BEGIN) == 1 and code.count(HIDDEN_END) == 1, group.grade_id
        visible_part, rest = code.split(HIDDEN_BEGIN)
        hidden_part = rest.split(HIDDEN_END)[0]
        # Visible tests show expected values; hidden ones only record, so they never print a reference.
        assert _recorded(visible_part, "record") == []
        assert _recorded(hidden_part, layout.visible_calls) == [] and "expected" not in hidden_part
        assert "print(" not in hidden_part
        assert sorted(_recorded(visible_part, layout.visible_calls)) == sorted(c.name for c in group.checks if c.visible)
        assert sorted(_recorded(hidden_part, "record")) == sorted(c.name for c in group.checks if not c.visible)
        # A test cell calls only its own student function (and given code).
        others = student - set(_own(layout, group.title)) - set(layout.given)
        called = sorted(n for n in others if re.search(rf"\b{n}\(", code))
        assert called == [], f"{group.grade_id} calls {called}"


def test_variants_cover_every_function(layout, variants):
    assert set(variants.HARDCODED) == set(layout.functions)
    for func in layout.functions:
        assert len(variants.WRONG.get(func, {})) >= 2, func
        assert len(variants.CORRECT.get(func, {})) >= 1, func
    sources = [(f, s) for table in (variants.WRONG, variants.CORRECT) for f, vs in table.items() for s in vs.values()]
    sources += list(variants.HARDCODED.items())
    for func, src in sources:
        # A variant replaces the whole solution cell: it defines the function and no stray extras.
        defined = _defined(src)
        assert func in defined and set(defined) <= set(_own(layout, func)), f"a variant of {func} defines {defined}"
        assert len(defined) == len(set(defined)), f"a variant of {func} defines a function twice: {defined}"
    for (func, _label), groups in getattr(variants, "WRONG_ALSO_FAILS", {}).items():
        assert all(g in {f"{f}_tests" for f in layout.functions} for g in groups)


def test_release_has_no_solutions_or_hidden_tests(name, source, released):
    text = "\n".join(c.source for c in released.cells)
    code = "\n".join(c.source for c in released.cells if c.cell_type == "code")
    assert HIDDEN_BEGIN not in text and "hidden_" not in text and SOLUTION_BEGIN not in text
    blocks = sum(c.source.count(SOLUTION_BEGIN) for c in source.cells)
    assert code.count(STUB) == blocks
    # The release changes only code: explanations (which may quote the stub) stay as written.
    markdown = [[c.source for c in nb.cells if c.cell_type == "markdown"] for nb in (source, released)]
    assert markdown[0] == markdown[1]
    for helper in ("selfcheck.py", "course_utils.py"):
        assert (course.RELEASE_DIR / name / helper).is_file()


def _run_plain(nb, tmp_path, monkeypatch, timeout=300) -> str:
    """Execute ``nb`` as a student would in Jupyter, helpers beside it, TensorFlow on one thread; its stdout."""
    from nbclient import NotebookClient

    for helper in ("selfcheck.py", "course_utils.py"):
        shutil.copy(course.STUDENT_HELPERS / helper, tmp_path)
    for var, value in (("TF_NUM_INTRAOP_THREADS", "1"), ("TF_NUM_INTEROP_THREADS", "1"), ("TF_CPP_MIN_LOG_LEVEL", "2")):
        monkeypatch.setenv(var, value)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout")


def _use_data(monkeypatch) -> None:
    data = course.datasets_dir()
    if not (data / "train_signs.h5").is_file():
        pytest.skip("the SIGNS data is not built (autograder data build)")
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))


@pytest.mark.slow
def test_solution_self_checks_pass_in_plain_jupyter(layout, source, spec, tmp_path, monkeypatch):
    """A student with the solution sees PASSED for every visible check (ungraded extras left out)."""
    if layout.graded_needs_data:
        _use_data(monkeypatch)
    nb = copy.deepcopy(source)
    nb.cells = [c for c in nb.cells if spec.skip_tag not in c.metadata.get("tags", [])]
    stdout = _run_plain(nb, tmp_path, monkeypatch)
    assert "FAILED" not in stdout
    assert stdout.count("PASSED") == sum(c.visible for c in spec.checks())


@pytest.mark.slow
def test_released_notebook_scores_zero(name, spec):
    from autograder.grading.core import grade

    result = grade(course.RELEASE_DIR / name / f"{name}.ipynb", name)
    assert result.status == "graded"
    assert result.score == 0 and len(result.checks) == len(list(spec.checks()))
    assert all("NotImplementedError" in c.message for c in result.checks)


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_EXTRAS, indirect=True)
def test_ungraded_part_runs(layout, source, spec, tmp_path, monkeypatch):
    """The skip-grading cells (plots, SIGNS training) run after the solution and print no errors."""
    if layout.extras_need_data or layout.graded_needs_data:
        _use_data(monkeypatch)
    else:
        monkeypatch.setenv("COURSE_DATA_DIR", str(course.datasets_dir()))
    nb = copy.deepcopy(source)
    stdout = _run_plain(nb, tmp_path, monkeypatch, timeout=900)
    errors = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    extras = [c for c in nb.cells if spec.skip_tag in c.metadata.get("tags", [])]
    assert extras and all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in extras)
    assert layout.extras_print in stdout
