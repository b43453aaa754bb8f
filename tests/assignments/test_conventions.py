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
import io
import re
import shutil
import textwrap
import tokenize
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
    # functions a test cell may define: inputs handed to the student's function (e.g. a hidden objective)
    test_inputs: tuple[str, ...] = ()


LAYOUTS = {
    "batch_norm": Layout(
        ("batchnorm_forward", "batchnorm_backward", "update_running_averages", "batchnorm_inference"),
        extras_need_data=True,
        extras_print="with batch norm: train accuracy",
    ),
    "hyperparameter_search": Layout(
        ("sample_log_uniform", "sample_momentum_beta", "random_search", "narrow_space", "coarse_to_fine"),
        helpers={"random_search": ["sample_params"]},
        given=("toy_objective",),
        extras_need_data=True,
        extras_print="validation accuracy",
        test_inputs=("_objective",),
    ),  # the hidden objectives the searches minimise
    # The full SIGNS training of the extras takes minutes; the benchmarks run it.
    "signs_model": Layout(
        ("initialize_parameters", "forward_propagation", "compute_cost", "model"), graded_needs_data=True, min_hidden=1
    ),  # three of its groups have a single hidden check
    "softmax": Layout(
        ("softmax", "softmax_cost", "softmax_backward", "train_softmax"),
        given=("make_blobs", "training_accuracy"),
        extras_print="training accuracy",
    ),
    "tf_basics": Layout(
        ("linear_function", "sigmoid", "cost", "one_hot_matrix", "ones", "minimize_quadratic"), untagged_demos=("a = tf.constant(",)
    ),
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
    free = [c.source for c in source.cells if c.cell_type == "code" and not _meta(c) and spec.skip_tag not in c.metadata.get("tags", [])]
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


def _test_cells(layout, source, spec):
    index = _index(source)
    return [(group, source.cells[index[group.grade_id]].source) for group in spec.groups]


def test_test_cells_define_no_implementations(layout, source, spec):
    """No function, lambda or class in a test cell, but declared inputs, which compute no graded output.

    A helper defined in the grading kernel is callable by the student's code: one that computes a correct
    answer (a cache, tape gradients, an accuracy) would hand out points to a blank function (issue #10, class 4).
    """
    student = {n for f in layout.functions for n in _own(layout, f)} | set(layout.given)
    for group, code in _test_cells(layout, source, spec):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, (ast.Lambda, ast.ClassDef)):
                pytest.fail(f"{group.grade_id}: a test cell defines a {type(node).__name__.lower()}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.name in layout.test_inputs, f"{group.grade_id}: defines {node.name}() (list inputs in Layout.test_inputs)"
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not used & (student | {"tf"}), f"{group.grade_id}: input {node.name} uses {sorted(used & (student | {'tf'}))}"


def _raw(node, raw_names: set[str], calls: set[str]) -> bool:
    """Whether an expression is what student code returned, untouched: a call of a student function, a name
    bound to one, an item of those by a constant index, or a tuple/list of such."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in calls
    if isinstance(node, ast.Name):
        return node.id in raw_names
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and _raw(node.value, raw_names, calls)
    if isinstance(node, (ast.Tuple, ast.List)):
        return bool(node.elts) and all(_raw(e, raw_names, calls) for e in node.elts)
    return False


def _targets(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _targets(e)]
    return []


def test_recorded_values_are_raw_outputs(layout, source, spec):
    """Test cells record what the student's function returned, nothing computed from it in the kernel.

    An object whose arithmetic lies would make any derived number come out there; derived quantities are
    computed by the grader from the plain recorded values (``derive`` in grading.toml; issue #10, class 3).
    """
    calls = {n for f in layout.functions for n in _own(layout, f)}
    recording = re.compile(rf"^(record|{layout.visible_calls})$")
    for group, code in _test_cells(layout, source, spec):
        raw_names: set[str] = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, (ast.Assign, ast.For)):
                value = node.value if isinstance(node, ast.Assign) else None
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n for t in targets for n in _targets(t)]
                if value is not None and _raw(value, raw_names, calls):
                    raw_names.update(names)
                else:
                    raw_names.difference_update(names)
        # a second pass: names bound later in loops (``_m, _v = f(_m, _v)``) are raw wherever they are recorded
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and recording.match(node.func.id):
                assert len(node.args) >= 2, f"{group.grade_id}: {node.func.id}() without a value"
                value = node.args[1]
                assert _raw(value, raw_names, calls), (
                    f"{group.grade_id}: records {ast.unparse(value)!r}, which is computed in the kernel; record the "
                    "function's own output and let the grader derive the rest (derive = ... in grading.toml)"
                )


# Locked check_* helpers of a notebook and the comparator each stands for in the grader.
HELPER_COMPARATORS = {
    "check_log_uniform": "log_uniform",
    "check_one_minus_beta": "log_uniform",
    "check_search": "in_range",
    "check_same": "same_as",
    "check_at_most": "in_range",
}


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def test_self_checks_judge_as_the_grader_does(layout, source, spec):
    """Issue #11.5: every visible check's local verdict uses the grader's comparator and tolerances, so a
    student never sees PASSED where the grader scores 0. check() is allclose with its rtol/atol keywords
    (defaults those of selfcheck.check); a check_* helper stands for one comparator."""
    import inspect

    from autograder.grading import reference_store
    from autograder.grading.records import Kind
    from autograder.student import selfcheck

    refs = reference_store.load(spec)
    defaults = {k: v.default for k, v in inspect.signature(selfcheck.check).parameters.items() if k in ("rtol", "atol")}
    seen = set()
    for _group, code in _test_cells(layout, source, spec):
        for node in ast.walk(ast.parse(code)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            func, name = node.func.id, _literal(node.args[0])
            if not isinstance(name, str) or not (func == "check" or func in HELPER_COMPARATORS):
                continue
            check = spec.check(name)
            seen.add(name)
            if func != "check":
                assert check.compare == HELPER_COMPARATORS[func], f"{name}: {func}() but compare = {check.compare!r}"
                continue
            if check.compare == "equal" and (check.structural or refs[name].kind in (Kind.STR, Kind.NONE)):
                continue  # text, a shape, dtype names: check() compares them exactly, as equal does
            assert check.compare == "allclose", f"{name}: the notebook's check() is allclose, grading.toml says {check.compare!r}"
            given = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg in ("rtol", "atol")}
            local = {**defaults, **given}
            grader = {k: check.params[k] for k in ("rtol", "atol")}
            assert local == grader, f"{name}: the notebook self-checks with {local}, the grader with {grader}"
    assert seen == {c.name for c in spec.checks() if c.visible}


def test_guessable_checks_are_structural(spec):
    """A check whose right answer is a guessable constant (text, a flag, a shape) is marked structural, so it
    counts only beside a passed value check of its group (issue #10, class 6)."""
    from autograder import reference
    from autograder.grading.compare import is_structural_reference

    values = reference.load(spec)
    for check in spec.checks():
        ref = values.get(check.name)
        if ref is None or check.derive:
            continue
        assert is_structural_reference(ref) == check.structural, (
            f"{check.name}: reference {ref.describe()} {'is' if is_structural_reference(ref) else 'is not'} a guessable constant; "
            f"set structural = {str(is_structural_reference(ref)).lower()}"
        )


def test_variants_cover_every_function(layout, variants):
    assert set(variants.HARDCODED) == set(layout.functions)
    for func in layout.functions:
        assert len(variants.WRONG.get(func, {})) >= 4, f"{func}: at least four plausible wrong implementations"
        assert len(variants.CORRECT.get(func, {})) >= 1, func
    sources = [(f, s) for table in (variants.WRONG, variants.CORRECT) for f, vs in table.items() for s in vs.values()]
    sources += list(variants.HARDCODED.items())
    for func, src in sources:
        # A variant replaces the whole solution cell: it defines the function and no stray extras.
        defined = _defined(src)
        assert func in defined and set(defined) <= set(_own(layout, func)), f"a variant of {func} defines {defined}"
        assert len(defined) == len(set(defined)), f"a variant of {func} defines a function twice: {defined}"
    for (_func, _label), groups in getattr(variants, "WRONG_ALSO_FAILS", {}).items():
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


def test_tensorflow_start_up_log_is_silenced_for_students(source):
    """Issue #11.13: TensorFlow's start-up log lines must not fill the first outputs a student sees. The
    grader sets TF_CPP_MIN_LOG_LEVEL itself; a student's Jupyter does not, so the cell that first imports
    TensorFlow sets it before the import."""
    for cell in source.cells:
        if cell.cell_type != "code" or not re.search(r"^\s*(import tensorflow|from tensorflow)", cell.source, re.M):
            continue
        before = cell.source[: re.search(r"^\s*(import tensorflow|from tensorflow)", cell.source, re.M).start()]
        assert 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")' in before, (
            'the first TensorFlow import needs os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2") before it'
        )
        break


# ------------------------------------------------------------------ hints (issue #11.11)
# A hint names the idea that was missed; it never quotes the solution's code nor an input only the hidden
# tests use. Code is compared as tokens, so spacing, comments and quoting do not matter. A shared run of
# HINT_MAX_SHARED_TOKENS + 1 tokens or more counts as quoting: a bare name (`tf.one_hot`: 3 tokens) or an
# argument (`axis=0`: 3) is allowed, `sqrt(var + eps)` (6) or `tf.one_hot(labels, depth=C, axis=0)` (14) is not.
HINT_MAX_SHARED_TOKENS = 4
HINT_MIN_RENAMED_TOKENS = 8
_OPERATORS = {"=", "+", "-", "*", "/", "**", "@", "(", ")"}
_TOKEN = re.compile(
    r'"[^"\n]*"|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[A-Za-z_]\w*'
    r"|\*\*|//|==|!=|<=|>=|[-+*/%@=<>()\[\]{},.:;~^&|]"
)


def _norm_token(token: str) -> str:
    if token[0] in "\"'" or token[:2].lower() in ('f"', "f'", 'r"', "r'"):  # a string: its text only
        return "STR:" + token.lstrip("fFrRbBuU")[1:-1]
    if token[0].isdigit() or (token[0] == "." and token[1:2].isdigit()):
        return repr(float(token))  # 0.01, .01 and 1e-2 are one number
    return token


def _text_tokens(text: str) -> list[str]:
    """Tokens of prose or code: names, numbers, double-quoted strings, operators (anything else is skipped)."""
    return [_norm_token(t) for t in _TOKEN.findall(text)]


def _solution_blocks(source) -> list[str]:
    """The code between every ### BEGIN SOLUTION / ### END SOLUTION of a notebook."""
    blocks = []
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        for part in cell.source.split(SOLUTION_BEGIN)[1:]:
            blocks.append(textwrap.dedent(part.split(SOLUTION_END)[0].strip("\n")))
    return blocks


def _solution_lines(source) -> list[list[str]]:
    """Every logical line of solution code as tokens, comments and layout dropped (a statement that spans
    several physical lines is one line)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = []
    for block in _solution_blocks(source):
        line: list[str] = []
        for tok in tokenize.generate_tokens(io.StringIO(block + "\n").readline):
            if tok.type == tokenize.NEWLINE and line:
                lines.append(line)
                line = []
            elif tok.type not in skip:
                line.append(_norm_token(tok.string))
        if line:
            lines.append(line)
    return lines


def _longest_shared_run(a: list[str], b: list[str]) -> list[str]:
    best, lengths = (0, 0), [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        previous, lengths = lengths, [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                lengths[j] = previous[j - 1] + 1
                best = max(best, (lengths[j], i))
    return a[best[1] - best[0] : best[1]]


def _hidden_only_numbers(source) -> set[float]:
    """Literal numbers of the hidden tests that the released notebook never shows (hidden inputs)."""
    hidden, shown = set(), set()

    def numbers(code: str) -> set[float]:
        found = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                found.add(abs(float(node.value)))
        return found

    for cell in source.cells:
        if cell.cell_type == "markdown":
            shown |= {abs(float(t)) for t in _text_tokens(cell.source) if t[0].isdigit()}
            continue
        code = cell.source
        if HIDDEN_BEGIN in code:
            before, rest = code.split(HIDDEN_BEGIN)
            inside, after = rest.split(HIDDEN_END)
            hidden |= numbers(inside)
            shown |= numbers(before + after)
        else:
            shown |= numbers(code)
    return hidden - shown


def _abstract(tokens: list[str]) -> list[str]:
    # Every name becomes one symbol, so a solution line with its variables renamed still matches.
    return ["NAME" if re.fullmatch(r"[A-Za-z_]\w*", t) else t for t in tokens]


def hint_problems(hint: str, solution_lines: list[list[str]], hidden_numbers: set[float]) -> list[str]:
    """Why a hint gives the answer away: a run of solution code it quotes (also with other names), a hidden
    input it names."""
    problems = []
    tokens = _text_tokens(hint)
    for line in solution_lines:
        run = _longest_shared_run(tokens, line)
        if len(run) > HINT_MAX_SHARED_TOKENS:
            problems.append(f"quotes the solution line {' '.join(line)!r}: {' '.join(run)!r}")
            continue
        # The same line with other names (`h = shrink * (high - low) / 2` for `half = shrink * (hi - lo) / 2`):
        # a longer run that holds operators, so prose (names and commas) never matches.
        run = _longest_shared_run(_abstract(tokens), _abstract(line))
        if len(run) >= HINT_MIN_RENAMED_TOKENS and sum(t in _OPERATORS for t in run) >= 3:
            problems.append(f"quotes the solution line {' '.join(line)!r} with other names: {' '.join(run)!r}")
    for token in tokens:
        if token[0].isdigit() and float(token) in hidden_numbers:
            problems.append(f"names {token}, an input only the hidden tests use")
    return problems


def _all_hints(spec) -> list[tuple[str, str]]:
    hints = []
    for group in spec.groups:
        hints.append((group.grade_id, group.hint))
        hints += [(check.name, check.hint) for check in group.checks if check.hint]
    return hints


def test_hints_do_not_give_the_answer_away(source, spec):
    """Issue #11.11: no group or check hint quotes a piece of the solution code or a hidden input."""
    lines, hidden = _solution_lines(source), _hidden_only_numbers(source)
    assert lines, "no solution code found"
    problems = [f"{where}: {p}" for where, hint in _all_hints(spec) for p in hint_problems(hint, lines, hidden)]
    assert problems == []


def _code_tokens(code: str) -> list[str]:
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return [_norm_token(t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in skip]


def _signatures(source) -> dict[str, list[str]]:
    """Parameter names of every function the notebook defines."""
    found = {}
    for cell in source.cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.FunctionDef):
                    found[node.name] = [a.arg for a in node.args.args]
    return found


def _solution_expressions(source) -> list[list[str]]:
    """The whole expression of every solution statement (an assignment's value, a call, a returned value) as
    tokens, when it has more than HINT_MAX_SHARED_TOKENS tokens. A call of a notebook function with its own
    parameter names (`sample_params(space, rng)`) reads as its signature, which an exercise names: left out."""
    signatures, found = _signatures(source), []
    for block in _solution_blocks(source):
        for node in ast.walk(ast.parse(block)):
            value = getattr(node, "value", None)
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and not value.keywords
                and [getattr(a, "id", None) for a in value.args] == signatures.get(value.func.id)
            ):
                continue
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)) and node.value:
                tokens = _code_tokens(ast.unparse(node.value))
                if len(tokens) > HINT_MAX_SHARED_TOKENS:
                    found.append(tokens)
    return found


def _contains(tokens: list[str], part: list[str]) -> bool:
    return any(tokens[i : i + len(part)] == part for i in range(len(tokens) - len(part) + 1))


def markdown_problems(text: str, solution_expressions: list[list[str]]) -> list[str]:
    """Why an explanation gives the answer away: it writes out the whole expression of a solution line."""
    tokens = _text_tokens(text)
    return [f"writes out the solution expression {' '.join(e)!r}" for e in solution_expressions if _contains(tokens, e)]


def test_explanations_do_not_write_out_solution_lines(source):
    """Issue #11.11: the notebook's explanations may say more than a feedback hint (which function, which
    axis, which order), but never write out what a solution line computes: `tf.one_hot` with its arguments
    named in prose is fine, `tf.one_hot(labels, depth=C, axis=0)` is the answer."""
    expressions = _solution_expressions(source)
    assert expressions, "no solution code found"
    problems = [
        f"markdown cell {i}: {p}"
        for i, cell in enumerate(source.cells)
        if cell.cell_type == "markdown"
        for p in markdown_problems(cell.source, expressions)
    ]
    assert problems == []


_ONE_HOT_SOLUTION = """\
def one_hot_matrix(labels, C):
    ### BEGIN SOLUTION
    one_hot = tf.one_hot(labels, depth=C, axis=0)  # classes down the rows
    ### END SOLUTION
    return one_hot
"""
_ONE_HOT_TESTS = """\
check("one_hot_matrix.visible", one_hot_matrix(np.array([1, 2, 0]), 4), expected=np.eye(4)[:, [1, 2, 0]])
### BEGIN HIDDEN TESTS
record("one_hot_matrix.hidden", one_hot_matrix(np.array([5, 0, 3]), 8))
### END HIDDEN TESTS
"""


def _synthetic_notebook(markdown: str = "Implement `one_hot_matrix(labels, C)`."):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(markdown),
        nbformat.v4.new_code_cell(_ONE_HOT_SOLUTION),
        nbformat.v4.new_code_cell(_ONE_HOT_TESTS),
    ]
    return nb


@pytest.mark.parametrize(
    "hint",
    [
        "tf.one_hot(labels, depth=C, axis=0)",  # the solution line
        "Use one_hot = tf.one_hot( labels,depth = C , axis=0 ).",  # with other spacing, in a sentence
        "Call tf.one_hot(labels, depth=C) with the right axis.",  # a substantial piece of it
        "tf.one_hot(y, depth=n, axis=0)",  # the same line with other names
        "Column i belongs to label i; the hidden test uses 8 classes.",  # a hidden input
    ],
)
def test_hint_check_rejects_a_hint_that_gives_the_answer_away(hint):
    nb = _synthetic_notebook()
    assert hint_problems(hint, _solution_lines(nb), _hidden_only_numbers(nb)) != []


@pytest.mark.parametrize(
    "hint",
    [
        "Classes run down the rows (axis 0) and examples along the columns; take the number of rows from C.",
        "tf.one_hot does the work; choose its axis so that each column is one example.",
        "Labels start at class 0, and there are 4 classes in the visible test.",  # a visible input may be named
    ],
)
def test_hint_check_accepts_a_hint_that_names_the_idea(hint):
    nb = _synthetic_notebook()
    assert hint_problems(hint, _solution_lines(nb), _hidden_only_numbers(nb)) == []


def test_explanation_check_rejects_the_solution_line_and_accepts_the_idea():
    nb = _synthetic_notebook()
    expressions = _solution_expressions(nb)
    bad = "Return `tf.one_hot(labels, depth=C, axis=0)`."
    good = "`tf.one_hot(indices, depth, axis=...)` does the work; choose the axis so that classes run down the rows."
    assert markdown_problems(bad, expressions) != []
    assert markdown_problems(good, expressions) == []
    # the exercise naming the function's own signature is not its solution
    assert markdown_problems("Implement `one_hot_matrix(labels, C)`.", expressions) == []
