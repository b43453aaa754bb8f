"""nbgrader's course folder around the gradebook, so that formgrader works on what ``autograder grade`` wrote.

The output folder becomes formgrader's course root (start Jupyter there):

  nbgrader_config.py                            ours while its first line is MARKER: points nbgrader at the
                                                gradebook
  source/<assignment>/README.md                 formgrader lists an assignment only when its source folder
                                                exists; the source notebook itself is never copied here
  submitted/<student>/<assignment>/<nb>.ipynb   the upload as the student sent it (formgrader counts these)
  autograded/<student>/<assignment>/<nb>.ipynb  what formgrader shows and nbgrader's generate_feedback renders
                                                into feedback/<student>/<assignment>/<nb>.html

``timestamp.txt`` beside both notebooks repeats the gradebook's submission time when there is one: formgrader
counts a submission as autograded only when the two agree.

The autograded notebook goes to students (generate_feedback), so it holds nothing they did not have: it is the
submission rebuilt by the grader's own ``read`` and ``restore`` steps (the student's solution and extra cells,
the instructor's locked and test cells with nbgrader's metadata, so formgrader puts the gradebook's points on
the test cells by grade_id), with every hidden test cut out exactly as the ``explain`` step cuts it. Nothing
a student wrote is rendered as HTML in the instructor's formgrader page (which holds the server's token):
no outputs from the student, and Markdown cells other than the released ones are shown as text. Each
test cell gets one text output: the autograder's checks with what the student's feedback page shows about
them (visible checks' messages, hidden checks' fixed codes and hints). An upload the grader rejected becomes
the released notebook with a note saying why.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import nbformat

from autograder.grading import cells as cells_mod
from autograder.grading import pipeline
from autograder.grading import spec as spec_mod
from autograder.grading.limits import Limits
from autograder.grading.result import Result, hidden_message
from autograder.grading.spec import Assignment
from autograder.report.common import ReportError, atomic_write, check_results, fmt, group_scores

log = logging.getLogger(__name__)

MARKER = "# Written by `autograder grade`; rewritten on every run while this line is here (delete it to keep your own edits)."
CONFIG = "nbgrader_config.py"
SOURCE, SUBMITTED, AUTOGRADED = "source", "submitted", "autograded"
TIMESTAMP = "timestamp.txt"
MAX_MESSAGE_CHARS = 2000  # as on the feedback page: a submission must not blow up the notebook


def notebook_file(spec: Assignment) -> str:
    """nbgrader's name of the notebook: its stem (the gradebook's notebook name) plus .ipynb."""
    return f"{Path(spec.notebook).stem}.ipynb"


def _config_text(out: Path, db_url: str, course_id: str) -> str:
    from sqlalchemy.engine import make_url

    lines = [
        MARKER,
        "# This folder is an nbgrader course root: run `jupyter lab` here and open Nbgrader > Formgrader.",
        "import os",
        "",
        "c = get_config()  # noqa: F821",
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))",
        f"c.CourseDirectory.course_id = {course_id!r}",
    ]
    url = make_url(db_url)
    local = url.get_backend_name() == "sqlite" and url.database and Path(url.database).resolve() == (out / "gradebook.db").resolve()
    if local:  # relative to this file, so the folder can be moved
        lines.append("c.CourseDirectory.db_url = 'sqlite:///' + os.path.join(c.CourseDirectory.root, 'gradebook.db')")
    elif url.password:
        lines.append("# The gradebook's URL holds a password, so it is not written here: set c.CourseDirectory.db_url yourself.")
    else:
        lines.append(f"c.CourseDirectory.db_url = {db_url!r}")
    lines.append("")
    return "\n".join(lines)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, text)


def write_config(out: Path, db_url: str, course_id: str = "course") -> None:
    """nbgrader_config.py for formgrader; one without MARKER on its first line is the instructor's and is kept."""
    path = out / CONFIG
    if path.exists():
        try:
            first = path.read_text(encoding="utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError):
            first = []
        if first != [MARKER]:
            log.warning("%s is not ours (its first line is not our marker): left as it is", path)
            return
    _write_if_changed(path, _config_text(out, db_url, course_id))


# ------------------------------------------------------------------------------------ the autograded notebook


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " \u2026 (cut)"


def check_lines(spec: Assignment, result: Result, grade_id: str) -> str:
    """The text a test cell shows: its checks as the feedback page shows them (no hidden test's output)."""
    group = group_scores(spec, result).get(grade_id)
    spec_group = next(g for g in spec.groups if g.grade_id == grade_id)
    if group is None:
        return f"autograder: 0 / {fmt(spec_group.max_points)} points (not graded: {', '.join(result.reasons) or result.status})\n"
    spec_checks = {c.name: c for c in spec_group.checks}
    lines = [f"autograder: {fmt(group.score)} / {fmt(group.max_score)} points"]
    for check in group.checks:
        spec_check = spec_checks.get(check.name)
        # The spec decides what is hidden; a Result cannot make a hidden check visible (as on the page).
        visible = check.visible and spec_check is not None and spec_check.visible
        mark = "passed" if check.passed else "FAILED"
        line = f"  {mark}  {check.name} ({'visible' if visible else 'hidden'}): {fmt(check.points)} / {fmt(check.max_points)}"
        if not check.passed:
            detail = _cut(check.message) if visible else hidden_message(check.code, check.exception)
            hint = spec_check.hint if spec_check is not None else ""
            line += f"\n      {detail}" + (f"\n      hint: {hint}" if hint else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _released(spec: Assignment):
    from autograder import release

    try:
        return release.released_notebook(spec.notebook_path, spec.name)
    except Exception as exc:  # nbgrader's errors are of many kinds; the instructor needs the file and the cause
        raise ReportError(f"cannot release {spec.notebook_path} to compare with: {exc.__class__.__name__}: {exc}") from None


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _as_text(markdown: str) -> str:
    """A student's Markdown shown as text: nbgrader's templates render Markdown cells unsanitized (raw HTML,
    javascript: links), and formgrader's page holds the server's token. A fence longer than any run of
    backticks inside cannot be closed by the text, and a fenced block renders everything literally."""
    longest = max((len(run) for run in re.findall(r"`+", markdown)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"*Markdown written by the student, shown as text:*\n\n{fence}text\n{markdown}\n{fence}"


def _rejected_notebook(released, reasons: list[str]):
    nb = copy.deepcopy(released)
    why = "; ".join(reasons) or "it could not be read"
    note = nbformat.v4.new_markdown_cell(
        "**autograder:** this upload was not graded, so this is the blank released notebook:\n\n```text\n" + why.replace("`", "'") + "\n```"
    )
    nb.cells.insert(0, note)
    return nb


def autograded_notebook(spec: Assignment, upload: Path, result: Result, source=None, released=None):
    """The notebook formgrader shows for ``result``: the upload rebuilt as graded, hidden tests cut out.

    Markdown cells as released stay Markdown; any other (a student's) is shown as text (see ``_as_text``).
    """
    source = source if source is not None else spec_mod.read_source(spec)
    released = released if released is not None else _released(spec)
    course_text = {_norm(c.source) for c in released.cells if c.cell_type == "markdown"}
    state = pipeline.State(
        spec=spec, submission=Path(upload), label=str(upload), limits=Limits(), source=source, released=None, reference={}
    )
    state = pipeline.read(state)
    if not state.stopped:
        state = pipeline.restore(state)
    if state.stopped:
        nb = _rejected_notebook(released, state.reasons)
    else:
        nb = state.nb
        for cell in nb.cells:
            if cell.cell_type == "markdown" and _norm(cell.source) not in course_text:
                cell.source = _as_text(cell.source)
            elif cell.cell_type == "raw":  # rendered as is by nbconvert when marked as HTML
                cell.metadata.pop("format", None)
                cell.metadata.pop("raw_mimetype", None)
            cell.pop("attachments", None)  # images a Markdown cell carries: not shown as text anyway
    tests = {g.grade_id for g in spec.groups}
    for cell in nb.cells:
        gid = cells_mod.grade_id(cell)
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if gid is None or cells_mod.is_solution(cell):
            continue
        # Locked and test cells are the instructor's: only what the released notebook shows may remain.
        cell.source = pipeline.strip_hidden_tests(cell.source)
        if gid in tests:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=check_lines(spec, result, gid))]
    nb.nbformat_minor = max(nb.get("nbformat_minor", 0), 5)  # cell ids need nbformat 4.5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


# ------------------------------------------------------------------------------------------- the folder


def _stamp_text(stamp: dt.datetime) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC")  # the gradebook's naive UTC, as nbgrader parses it


def _set_timestamp(folder: Path, stamp: dt.datetime | None) -> None:
    path = folder / TIMESTAMP
    if stamp is None:
        path.unlink(missing_ok=True)
    else:
        _write_if_changed(path, _stamp_text(stamp))


def _copy_upload(upload: Path, target: Path) -> None:
    try:
        if target.exists() and (upload.samefile(target) or upload.read_bytes() == target.read_bytes()):
            return
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(upload, tmp)
        tmp.chmod(0o644)
        tmp.replace(target)
    except OSError as exc:
        raise ReportError(f"cannot copy {upload} to {target}: {exc.strerror or exc}") from None


def _readme(spec: Assignment) -> str:
    return (
        f"# {spec.name}\n\n"
        f"This folder only makes formgrader list the assignment. Its source (solutions and hidden tests) stays in\n"
        f"source_solutions/{spec.name}/ of the course repository and is never copied into this folder.\n\n"
        "The scores come from `autograder grade`: do not run nbgrader's generate_assignment or autograde here.\n"
        "Manual scores and comments given in formgrader are kept when the class is graded again.\n"
    )


def write_course(
    out: Path,
    spec: Assignment,
    results: dict[str, Result],
    uploads: dict[str, Path],
    timestamps: dict[str, dt.datetime | None],
    *,
    db_url: str,
    course_id: str = "course",
) -> None:
    """Write the course folder in ``out`` for ``results`` (student id -> Result) and their ``uploads``
    (student id -> the submitted notebook). ``timestamps`` are the gradebook's (``write_gradebook``'s return).
    Rewriting is idempotent: files are replaced only when their content changes."""
    check_results(spec, results)
    missing = sorted(set(results) - set(uploads))
    if missing:
        raise ReportError(f"no upload given for the result of {', '.join(missing[:5])}")
    out = Path(out)
    try:
        (out / SOURCE / spec.name).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create {out / SOURCE / spec.name}: {exc.strerror or exc}") from None
    _write_if_changed(out / SOURCE / spec.name / "README.md", _readme(spec))
    write_config(out, db_url, course_id)
    try:
        source = spec_mod.read_source(spec)
    except spec_mod.SpecError as exc:
        raise ReportError(str(exc)) from None
    released = _released(spec) if results else None
    name = notebook_file(spec)
    for student in sorted(results):
        stamp = timestamps.get(student)
        submitted = out / SUBMITTED / student / spec.name
        autograded = out / AUTOGRADED / student / spec.name
        for folder in (submitted, autograded):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ReportError(f"cannot create {folder}: {exc.strerror or exc}") from None
            _set_timestamp(folder, stamp)
        _copy_upload(Path(uploads[student]), submitted / name)
        nb = autograded_notebook(spec, Path(uploads[student]), results[student], source, released)
        _write_if_changed(autograded / name, nbformat.writes(nb) + "\n")
