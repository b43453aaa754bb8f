"""The grading pipeline: small named steps, each taking and returning a ``State``.

read → restore → prepare → execute → collect → compare → explain → result

A pipeline is a list of step names (``DEFAULT``); ``find_step`` looks one up, ``register`` adds one, so a
caller can drop, replace or insert steps (``grade(..., steps=[...])``). When a step stops the submission
(not a notebook, another assignment) the remaining steps are skipped except ``result``, which always runs.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import logging
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from autograder.grading import cells, derive, records, runner, translation
from autograder.grading import compare as comparators
from autograder.grading.cells import nbgrader_meta
from autograder.grading.compare import Verdict
from autograder.grading.limits import Limits
from autograder.grading.records import Collected, Kind, Value
from autograder.grading.result import (
    GRADED,
    INCOMPLETE,
    PASSED_ALONE,
    REJECTED,
    VALUE_CODES,
    CheckResult,
    Code,
    GroupResult,
    Reason,
    Result,
    Status,
    Why,
    hidden_message,
    shown_exception,
)
from autograder.grading.spec import Assignment, Check

log = logging.getLogger(__name__)

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024  # far above any honest submission; keeps parsing bounded
# nbgrader metadata keys whose change alters how a cell is graded
_META_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id")


@dataclasses.dataclass
class State:
    """Everything the steps share. Steps fill it in order; ``stopped`` skips to ``result``."""

    spec: Assignment
    submission: Any  # a Path or an in-memory notebook
    label: str  # how the submission is named in the result
    limits: Limits
    source: Any  # the source notebook (trusted)
    released: Any | None  # the released version (for tampering notes); None skips those notes
    reference: dict[str, Value]
    kernel_manager_factory: runner.KernelManagerFactory | None = None
    data_dir: Path | None = None
    nb: Any = None  # the notebook as it moves through the steps
    visible_nb: Any = None  # prepare: the same notebook with the hidden tests taken out (for explain)
    preload: tuple[str, ...] = ()  # prepare: modules the source notebook imports (for kernels started ahead)
    outcome: runner.Outcome | None = None
    collected: dict[str, Collected] = dataclasses.field(default_factory=dict)
    verdicts: dict[str, Verdict] = dataclasses.field(default_factory=dict)
    exceptions: dict[str, str] = dataclasses.field(default_factory=dict)  # check -> exception type (RAISED)
    shown: dict[str, str] = dataclasses.field(default_factory=dict)  # explain: visible checks' messages
    shown_got: dict[str, str] = dataclasses.field(default_factory=dict)  # explain: their values, described
    passed_alone: set[str] = dataclasses.field(default_factory=set)  # explain: visible checks that passed there
    series: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # explain: plotted values
    status: Status = GRADED
    reasons: list[Reason] = dataclasses.field(default_factory=list)
    tampering: list[str] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    language: str = translation.DEFAULT  # read: the language the notebook says it is in (its feedback's)
    stopped: bool = False
    result: Result | None = None

    def reject(self, code: Why, text: str) -> State:
        self.status, self.stopped = REJECTED, True
        self.reasons.append(Reason(code, text))
        return self


Step = Callable[[State], State]
STEPS: dict[str, Step] = {}
DEFAULT: tuple[str, ...] = ("read", "restore", "prepare", "execute", "collect", "compare", "explain", "result")


def register(name: str) -> Callable[[Step], Step]:
    """Register ``fn`` as the step called ``name`` (replacing any step of that name)."""

    def wrap(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return wrap


def find_step(name: str) -> Step:
    try:
        return STEPS[name]
    except KeyError:
        raise KeyError(f"no pipeline step '{name}' (known: {', '.join(STEPS)})") from None


def run(state: State, steps: tuple[str, ...] | list[str] = DEFAULT) -> State:
    """Run the steps in order, timing each; ``result`` always runs last."""
    fns = [(name, find_step(name)) for name in steps]
    for name, fn in fns:
        if state.stopped and name != "result":
            continue
        start = time.perf_counter()
        state = fn(state)
        state.timings[name] = round(time.perf_counter() - start, 4)
    if state.result is None:
        state = find_step("result")(state)
    return state


# ---------------------------------------------------------------------------------------------- read


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAKE_CELL = {
    "code": nbformat.v4.new_code_cell,
    "markdown": nbformat.v4.new_markdown_cell,
    "raw": nbformat.v4.new_raw_cell,
}


def _plain_text(text: str) -> tuple[str, int]:
    """``text`` with lone surrogates (not encodable as UTF-8, so never writable or runnable) replaced by U+FFFD."""
    return _SURROGATE.subn("\ufffd", text)


def _plain_json(value: Any) -> tuple[Any, bool]:
    """A copy of metadata that JSON and UTF-8 can hold (surrogates replaced, NaN and infinities to None)."""
    if isinstance(value, str):
        text, n = _plain_text(value)
        return text, n > 0
    if isinstance(value, float) and not math.isfinite(value):
        return None, True
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            key, bad_key = _plain_json(str(k))
            out[key], bad = _plain_json(v)
            changed = changed or bad or bad_key
        return out, changed
    if isinstance(value, list):
        items = [_plain_json(v) for v in value]
        return [v for v, _ in items], any(bad for _, bad in items)
    return value, False


def _repaired_tags(tags: Any) -> list[str] | None:
    """Tags as nbformat wants them (unique strings without commas); a string is read as comma-separated."""
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        return None
    out: list[str] = []
    for tag in tags:
        for part in tag.split(",") if isinstance(tag, str) else []:
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _clean_metadata(kind: str, meta: Any, where: str, notes: list[str]) -> dict:
    """The cell's metadata with what nbformat cannot validate or write repaired or dropped, and noted.

    Only metadata is repaired: it decides nothing that runs, except the tags (the skip tag), which are kept
    where they can be read.
    """
    if not isinstance(meta, dict):
        if meta is not None:
            notes.append(f"{where}: metadata that is not a JSON object was dropped")
        return {}
    try:
        meta, changed = _plain_json(meta)
    except RecursionError:
        notes.append(f"{where}: metadata nested too deeply was dropped")
        return {}
    if changed:
        notes.append(f"{where}: metadata that cannot be written as JSON text (lone surrogates, NaN) was repaired")
    if "tags" in meta:
        tags = _repaired_tags(meta["tags"])
        if tags != meta["tags"]:
            notes.append(
                f"{where}: malformed metadata 'tags' ({type(meta['tags']).__name__}) was " + ("repaired" if tags is not None else "dropped")
            )
            if tags is None:
                del meta["tags"]
            else:
                meta["tags"] = tags
    for key in list(meta):
        try:
            _MAKE_CELL[kind](source="", metadata={key: meta[key]})
        except nbformat.ValidationError:
            notes.append(f"{where}: metadata '{key}' is not valid nbformat and was dropped")
            del meta[key]
    return meta


def _clean_cell(raw: Any, where: str = "cell", notes: list[str] | None = None):
    """A fresh cell holding only type, metadata and source: nothing else of the submission survives.

    None when the cell is unusable (not an object, unknown type, no text as source). What can be repaired
    without changing what runs is, with a note in ``notes``: malformed metadata is repaired or dropped, and
    characters that cannot be encoded (lone surrogates, which no Python can compile either) become U+FFFD.
    """
    notes = notes if notes is not None else []
    if not isinstance(raw, dict):
        return None
    kind = raw.get("cell_type")
    source = raw.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        source = "".join(source)
    if kind not in _MAKE_CELL or not isinstance(source, str):
        return None
    source, bad = _plain_text(source)
    if bad:
        notes.append(f"{where}: {bad} character(s) that are not valid text (lone surrogates) were replaced by U+FFFD")
    meta = _clean_metadata(kind, raw.get("metadata"), where, notes)
    try:
        return _MAKE_CELL[kind](source=source, metadata=meta)
    except nbformat.ValidationError:  # each key passed on its own; together they should too
        notes.append(f"{where}: metadata is not valid nbformat and was dropped")
        return _MAKE_CELL[kind](source=source, metadata={})


def _graded_ids(nb) -> set[str]:
    """grade_ids of solution and test cells (the cells that make a notebook belong to an assignment)."""
    ids = set()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if isinstance(meta.get("grade_id"), str) and (meta.get("solution") or meta.get("grade")):
            ids.add(meta["grade_id"])
    return ids


@register("read")
def read(state: State) -> State:
    """Is it an nbformat 4 notebook, and one of this assignment? Malformed cells are repaired or dropped (noted)."""
    sub = state.submission
    if isinstance(sub, (str, Path)):
        path = Path(sub)
        try:
            if path.stat().st_size > MAX_NOTEBOOK_BYTES:
                return state.reject(Why.NOT_NOTEBOOK, f"not a notebook: the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return state.reject(Why.NO_FILE, f"no such file: {path}")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            return state.reject(Why.NOT_NOTEBOOK, f"not a notebook: cannot read it as JSON ({type(exc).__name__})")
    else:
        data = sub
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return state.reject(Why.NOT_NOTEBOOK, "not a notebook: no list of cells")
    state.language = translation.notebook_language(data)
    if data.get("nbformat") != 4:
        return state.reject(Why.NOT_NOTEBOOK, f"not an nbformat 4 notebook (nbformat = {data.get('nbformat')!r})")
    cells = []
    for index, raw in enumerate(data["cells"]):
        cell = _clean_cell(raw, f"cell {index}", state.tampering)
        if cell is None:
            # Dropping a cell cannot raise a score: a graded cell dropped here is missing to restore.
            state.tampering.append(f"cell {index}: malformed (no known cell type or no text as source); dropped")
        else:
            cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    wanted = _graded_ids(state.source)
    if not any(isinstance(gid, str) and gid in wanted for gid in (nbgrader_meta(c).get("grade_id") for c in cells)):
        return state.reject(Why.OTHER_ASSIGNMENT, f"not a notebook of {state.spec.name}: none of its graded cells is present")
    state.nb = nb
    return state


# ------------------------------------------------------------------------------------------- restore


def _meta_summary(meta: dict) -> dict:
    return {k: meta.get(k) for k in _META_KEYS}


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _by_grade_id(nb) -> dict[str, Any]:
    """grade_id -> the first cell that carries it."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        gid = cells.grade_id(cell)
        if gid is not None:
            found.setdefault(gid, cell)
    return found


def _fresh_copy(cell):
    """A source cell with no outputs, ready to run."""
    restored = copy.deepcopy(cell)
    if restored.cell_type == "code":
        restored.outputs, restored.execution_count = [], None
    return restored


def _differences(gid: str, role: str, cell, released, src) -> list[str]:
    """Tampering notes for one graded cell of the submission against its released version."""
    notes = []
    meta, rel_meta = nbgrader_meta(cell), nbgrader_meta(released)
    if cell.cell_type != released.cell_type:
        notes.append(f"{gid}: {role} changed from {released.cell_type} to {cell.cell_type}")
    if _meta_summary(meta) != _meta_summary(rel_meta):
        changed = [k for k in _META_KEYS if meta.get(k) != rel_meta.get(k)]
        notes.append(f"{gid}: nbgrader metadata of the {role} changed ({', '.join(changed)})")
    # The instructor's own source (with hidden tests) is not tampering either.
    if role != "solution cell" and _norm(cell.source) not in (_norm(released.source), _norm(src.source)):
        notes.append(f"{gid}: {role} source was changed; the source version was used")
    return notes


def _restored(cell, src):
    """The source's cell; for a solution cell, with the student's code under the source's metadata."""
    restored = _fresh_copy(src)
    if cells.is_solution(src):
        restored.source = cell.source
    return restored


def _missing_notes(order, chosen, src_cells) -> list[str]:
    """Notes for graded cells the submission lacks; locked and test cells are put back (in ``chosen``)."""
    notes = []
    for gid in order:
        if gid in chosen:
            continue
        src = src_cells[gid]
        if cells.is_solution(src):
            notes.append(f"{gid}: solution cell is missing")
        else:
            notes.append(f"{gid}: {'test' if nbgrader_meta(src).get('grade') else 'locked'} cell is missing; restored from the source")
            chosen[gid] = _fresh_copy(src)
    return notes


def _assemble(order, chosen, extras, metadata):
    """Graded cells in source order, each followed by the student's extra cells that came after it."""
    out = list(extras[None])
    for gid in order:
        if gid in chosen:
            out.append(chosen[gid])
        out.extend(extras.get(gid, []))
    for i, cell in enumerate(out):  # fresh, unique ids (nbformat 4.5): a submission's ids are not trusted
        cell["id"] = f"cell-{i}"
    return nbformat.v4.new_notebook(cells=out, metadata=copy.deepcopy(metadata))


@register("restore")
def restore(state: State) -> State:
    """Rebuild the notebook from the source; keep the student's solution and extra cells; note tampering.

    Locked and test cells come from the source (with hidden tests). Solution cells keep the student's code
    under the source's metadata. Extra cells stay after the graded cell they followed. Graded cells appear
    once, in source order. Nothing a student changes here can raise a score: every difference from the
    released version becomes a note for the instructor.
    """
    src_cells = _by_grade_id(state.source)
    order = list(src_cells)
    released = _by_grade_id(state.released) if state.released is not None else {}
    notes = state.tampering
    chosen: dict[str, Any] = {}
    extras: dict[str | None, list[Any]] = {None: []}
    seen: list[str] = []
    anchor: str | None = None
    for index, cell in enumerate(state.nb.cells):
        gid = nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str) and gid in src_cells:
            src = src_cells[gid]
            role = cells.role(src)
            if gid in chosen:
                notes.append(f"{gid}: {role} appears more than once; cell {index} was dropped")
                continue
            if gid in released:
                notes.extend(_differences(gid, role, cell, released[gid], src))
            chosen[gid] = _restored(cell, src)
            seen.append(gid)
            anchor = gid
            continue
        if nbgrader_meta(cell) or "nbgrader" in cell.get("metadata", {}):
            what = f"grade_id '{gid}'" if isinstance(gid, str) else "nbgrader metadata"
            notes.append(f"cell {index}: extra cell with {what} unknown to the source; treated as a plain cell")
            cell.metadata.pop("nbgrader", None)
        extras.setdefault(anchor, []).append(cell)
    notes.extend(_missing_notes(order, chosen, src_cells))
    if seen != [g for g in order if g in seen]:
        notes.append("graded cells were reordered; the source order was used")
    state.nb = _assemble(order, chosen, extras, state.source.metadata)
    return state


# ------------------------------------------------------------------------------------------- prepare


class _ChecksToRecords(ast.NodeTransformer):
    """``check(name, value, expected, ...)`` -> ``record(name, value)``."""

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "check" and len(node.args) >= 2:
            return ast.copy_location(ast.Call(func=ast.Name("record", ast.Load()), args=node.args[:2], keywords=[]), node)
        return node


def strip_expected_values(source: str) -> str:
    """A test cell's code with the visible checks' expected values taken out.

    In the grading kernel a visible check only needs to record; the expected values shown to students
    would otherwise sit in the kernel's memory, where student code can read them (e.g. from check()'s
    stack frame) and hand them back. Unparsable code is returned unchanged (it fails as it would anyway).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    return ast.unparse(ast.fix_missing_locations(_ChecksToRecords().visit(tree))) + "\n"


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def strip_hidden_tests(source: str) -> str:
    """A test cell's code without its hidden tests (the lines from BEGIN to END HIDDEN TESTS), as released."""
    kept, hidden = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker.startswith(HIDDEN_BEGIN):
            hidden = True
        elif marker.startswith(HIDDEN_END):
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept) + "\n"


@register("source")
def source(state: State) -> State:
    """The instructor's source notebook itself (solutions and hidden tests): what the reference build runs."""
    state.nb = copy.deepcopy(state.source)
    return state


@register("drop_skipped")
def drop_skipped(state: State) -> State:
    """Drop cells tagged with the skip tag (long training runs). Graded cells carry the source's tags."""
    tag = state.spec.skip_tag
    state.nb.cells = [c for c in state.nb.cells if tag not in cells.tags(c)]
    return state


@register("prepare")
def prepare(state: State) -> State:
    """``drop_skipped``, then take the expected values out of the test cells.

    Also keeps, for ``explain``, a copy whose test cells hold no hidden tests at all: what a page shows a
    student is taken from a run of that copy.
    """
    drop_skipped(state)
    test_cells = {g.grade_id for g in state.spec.groups}
    visible = copy.deepcopy(state.nb)
    for cell, shown in zip(state.nb.cells, visible.cells):
        if cell.cell_type == "code" and nbgrader_meta(cell).get("grade_id") in test_cells:
            shown.source = strip_expected_values(strip_hidden_tests(cell.source))
            cell.source = strip_expected_values(cell.source)
    state.visible_nb = visible
    if state.source is not None:
        state.preload = runner.imports_of(state.source)
    return state


# ------------------------------------------------------------------------------------------- execute


@register("execute")
def execute(state: State) -> State:
    limits = dataclasses.replace(state.limits, cell_timeout=min(state.limits.cell_timeout, state.spec.cell_timeout))
    state.nb, state.outcome = runner.run(
        state.nb, limits=limits, kernel_manager_factory=state.kernel_manager_factory, data_dir=state.data_dir, preload=state.preload
    )
    out = state.outcome
    if out.status != "ok":
        state.status = INCOMPLETE
        where = f" (at cell {out.cell})" if out.cell is not None else ""
        state.reasons.append(Reason(out.code, f"{out.reason}{where}"))
    for index in out.timed_out_cells:
        state.reasons.append(Reason(Why.CELL_TIMEOUT, f"cell {index} ran longer than {limits.cell_timeout} s and was interrupted"))
    for index in out.cut_cells:
        state.reasons.append(
            Reason(
                Why.OUTPUT_CUT,
                f"cell {index} printed more than the output limit ({limits.max_output_kb} KiB per cell, "
                f"{limits.max_notebook_output_kb} KiB in all); the rest was cut",
            )
        )
    return state


# ------------------------------------------------------------------------------------------- collect


@register("collect")
def collect(state: State) -> State:
    state.collected = records.collect(state.nb, state.spec)
    return state


# ------------------------------------------------------------------------------------------- compare


def _judge(check: Check, value: Value, spec: Assignment, reference: Value | None, ctx_values, passed) -> Verdict:
    """One comparator call on a (derived) value; a failing derivation or comparator costs this check only."""
    ctx = comparators.Context(reference=reference, values=ctx_values, passed=passed)
    try:
        return check.comparator.judge(value, check, ctx)
    except Exception as exc:  # noqa: BLE001 - a comparator bug must cost no more than this one check
        log.warning("comparator %s failed on %s", check.compare, check.name, exc_info=exc)
        return Verdict(False, Code.GRADER_ERROR, f"could not be compared ({type(exc).__name__})")


def _derived(check: Check, value: Value, spec: Assignment) -> tuple[Value | None, Verdict | None]:
    if not check.derive or value.kind == Kind.ERROR:
        return value, None
    try:
        return derive.apply(spec.folder, check.derive, value), None
    except Exception as exc:  # noqa: BLE001 - whatever the student returned, the grader goes on
        return None, Verdict(False, Code.NOT_DERIVABLE, f"the grader could not evaluate this value ({type(exc).__name__})")


def judge_all(spec: Assignment, collected: dict[str, Collected], reference: dict[str, Value]) -> tuple[dict[str, Verdict], dict[str, str]]:
    """Verdicts of every check from what was collected: derive, compare (relative checks last), then gate
    structural checks on the group's value checks. Also returns the exception type of checks that raised."""
    verdicts: dict[str, Verdict] = {}
    exceptions: dict[str, str] = {}
    values: dict[str, Value] = {}
    pending: list[tuple[Check, Value]] = []
    for check in spec.checks():
        got = collected.get(check.name, Collected(problem="not recorded"))
        if got.value is None:
            verdicts[check.name] = Verdict(False, got.code, got.problem)
            if got.exception:
                exceptions[check.name] = got.exception
            continue
        value, failed = _derived(check, got.value, spec)
        if failed is not None:
            verdicts[check.name] = failed
            continue
        values[check.name] = value
        pending.append((check, value))
    passed: dict[str, bool] = {}
    for check, value in sorted(pending, key=lambda item: item[0].relative):
        ref = reference.get(check.name)
        if ref is not None and check.derive:
            ref, _ = _derived(check, ref, spec)
        verdict = _judge(check, value, spec, ref, values, passed)
        passed[check.name] = verdict.passed
        verdicts[check.name] = verdict
    for group in spec.groups:
        value_passed = any(verdicts[c.name].passed for c in group.checks if not c.structural)
        for c in group.checks:
            if c.structural and verdicts[c.name].passed and not value_passed:
                verdicts[c.name] = Verdict(False, Code.NEEDS_VALUE_CHECK, "counts only when a check of the values of this function passes")
    return verdicts, exceptions


@register("compare")
def compare(state: State) -> State:
    """Judge each check outside the kernel (see ``judge_all``)."""
    state.verdicts, state.exceptions = judge_all(state.spec, state.collected, state.reference)
    return state


# ------------------------------------------------------------------------------------------- explain


def _series(value: Value | None) -> list[float] | None:
    if value is None or value.kind != Kind.ARRAY or value.array is None:
        return None
    return [float(x) for x in value.array.astype(float).ravel()[:100_000]]


def _passed(state: State, check: Check) -> bool:
    return state.verdicts.get(check.name, Verdict(False, Code.NOT_GRADED)).passed


def _plot_reference_for_passes(state: State) -> None:
    """A plotted visible check that passed, judged by a comparator whose pass means "the reference value
    within the tolerance", is plotted with its reference series: the student's curve cannot differ from it
    on the page, the series is public (it is a visible check's expected value), and a correct submission
    then needs no second run. Only a recorded value is drawn so (a derived check's reference is a summary)."""
    for check in state.spec.checks():
        if not (check.visible and check.plot and not check.derive and _passed(state, check)):
            continue
        if check.comparator.pass_means_reference(check.params):
            series = _series(state.reference.get(check.name))
            if series is not None:
                state.series[check.name] = series


@register("explain")
def explain(state: State) -> State:
    """What the page may show about visible checks, from a run whose kernel never held a hidden test.

    In the graded run the whole test cell, hidden tests included, is in the kernel (input history, the
    caller's frame), so anything the student's code hands back there may carry hidden inputs. That run decides
    the points; the messages of visible checks ("expected ..., got ...", an exception's text) and the plotted
    values come from this second run of the same notebook with every hidden test removed, which is what the
    student could run at home. It runs only when there is something to show: a failed visible check, or a
    plotted one that ``_plot_reference_for_passes`` could not draw.
    """
    _plot_reference_for_passes(state)
    wanted = [c for c in state.spec.checks() if c.visible and ((c.plot and c.name not in state.series) or not _passed(state, c))]
    if not wanted or state.visible_nb is None or state.status == REJECTED:
        return state
    # After the graded run, not beside it: TensorFlow spreads one run over every core already (two at once
    # on 2 cores took longer than one after the other), and this run is needed only when there is something
    # to show.
    # One notebook timeout bounds a submission's runs together: a notebook that spent the graded run's time
    # (an endless loop, a sleep just short of the limit) gets no second full run, only what is left.
    left = int(state.limits.notebook_timeout - state.timings.get("execute", 0.0))
    if left < 1:
        return state
    limits = dataclasses.replace(state.limits, cell_timeout=min(state.limits.cell_timeout, state.spec.cell_timeout), notebook_timeout=left)
    executed, outcome = runner.run(
        state.visible_nb,
        limits=limits,
        kernel_manager_factory=state.kernel_manager_factory,
        data_dir=state.data_dir,
        preload=state.preload,
    )
    collected = records.collect(executed, state.spec)
    verdicts, _ = judge_all(state.spec, collected, state.reference)
    for check in wanted:
        graded, shown = state.verdicts.get(check.name), verdicts[check.name]
        if check.plot:
            got = collected.get(check.name)
            series = _series(got.value if got else None)
            if series is not None:
                state.series[check.name] = series
        if graded is None or graded.passed:
            continue
        if outcome.status != "ok" and check.name not in collected:
            continue  # this run stopped before the check: the graded run's fixed words stay
        if shown.passed:
            state.passed_alone.add(check.name)
            state.shown[check.name] = PASSED_ALONE
        else:
            state.shown[check.name] = shown.detail or hidden_message(shown.code)
            got = collected.get(check.name)
            # The value itself, for pages that set it beside the expected one in their own words.
            if shown.code in VALUE_CODES and not check.derive and got is not None and got.value is not None:
                state.shown_got[check.name] = got.value.describe()
    return state


# -------------------------------------------------------------------------------------------- result


def _message(check: Check, verdict: Verdict, state: State) -> str:
    if verdict.passed:
        return ""
    if check.visible and check.name in state.shown:
        return state.shown[check.name]
    # Hidden checks, and visible ones without a clean run: fixed words from the code, nothing from the kernel.
    return hidden_message(verdict.code, state.exceptions.get(check.name, ""))


@register("result")
def result(state: State) -> State:
    groups = []
    full = {}
    for group in state.spec.groups:
        checks = []
        for check in group.checks:
            verdict = state.verdicts.get(check.name, Verdict(False, Code.NOT_GRADED))
            ok = verdict.passed
            exception = state.exceptions.get(check.name, "")
            checks.append(
                CheckResult(
                    name=check.name,
                    group=group.grade_id,
                    points=check.points if ok else 0.0,
                    max_points=check.points,
                    passed=ok,
                    visible=check.visible,
                    message=_message(check, verdict, state),
                    code=verdict.code,
                    hint="" if ok else check.hint,
                    exception=shown_exception(exception) if exception else "",
                    series=state.series.get(check.name),
                    got=state.shown_got.get(check.name, "") if not ok else "",
                    passed_alone=not ok and check.name in state.passed_alone,
                )
            )
        score = sum(c.points for c in checks)
        full[group.title] = score >= group.max_points
        groups.append(
            GroupResult(
                grade_id=group.grade_id,
                title=group.title,
                score=score,
                max_score=group.max_points,
                checks=checks,
                hint=group.hint,
                blocked_by=[] if full[group.title] else [u for u in group.uses if not full.get(u, True)],
            )
        )
    state.result = Result(
        assignment=state.spec.name,
        submission=state.label,
        score=sum(g.score for g in groups),
        max_score=state.spec.max_score,
        groups=groups,
        status=state.status,
        reasons=list(state.reasons),
        tampering=list(state.tampering),
        timings=dict(state.timings),
        language=state.language,
    )
    return state
