"""Scores into nbgrader's own gradebook, so ``nbgrader export`` and formgrader's gradebook views keep working.

The database gets what ``nbgrader generate_assignment`` + ``nbgrader autograde`` would put there for the
score side: the assignment, its notebook (named after the notebook's stem), one grade cell per check group
(name = the group's grade_id, max_score = the group's points), the solution cells of the source notebook,
the students, one submission per student and each grade's ``auto_score``. Source cells (used only by
nbgrader's own autograde to restore cells) are not written: this grader restores cells itself.

Writing twice is safe: every object is found and updated, never added twice. Like nbgrader, a manual
score given in formgrader is kept (it overrides the auto score there) and the cell is marked for review.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

from autograder import gradebook_schema
from autograder.grading import spec as spec_mod
from autograder.grading.result import Result
from autograder.grading.spec import Assignment
from autograder.report.common import ReportError, check_results, group_scores


def notebook_name(spec: Assignment) -> str:
    """nbgrader names a notebook by its file stem."""
    return Path(spec.notebook).stem


def _source_cells(spec: Assignment) -> tuple[list[str] | None, dict]:
    """(solution cell grade_ids, kernelspec) of the source notebook; (None, {}) when the spec has none."""
    if not spec.notebook_path.is_file():
        return None, {}
    try:
        nb = spec_mod.read_source(spec)
    except spec_mod.SpecError as exc:
        raise ReportError(str(exc)) from None
    ids = []
    for cell in nb.cells:
        meta = spec_mod.nbgrader_meta(cell)
        # Cells that are both graded and solutions are manually graded answers; this course has none.
        if meta.get("solution") and not meta.get("grade") and meta.get("grade_id"):
            ids.append(str(meta["grade_id"]))
    kernelspec = nb.metadata.get("kernelspec", {})
    return ids, dict(kernelspec) if isinstance(kernelspec, dict) else {}


def _prepare_sqlite(db_url: str) -> None:
    """Create the folder of a SQLite file (SQLite itself only says 'unable to open database file')."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise ReportError(f"not a database URL: {db_url!r} (expected e.g. sqlite:////path/to/gradebook.db)") from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().resolve().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"cannot create the gradebook folder {folder}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _open(db_url: str, course_id: str) -> Iterator:
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SQLAlchemyError

    _prepare_sqlite(db_url)
    try:
        gradebook_schema.create_schema(db_url)
        gb = Gradebook(db_url, course_id=course_id)
    except SQLAlchemyError as exc:
        raise ReportError(f"cannot open the gradebook {db_url}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # e.g. a driver that is not installed
        raise ReportError(f"cannot open the gradebook {db_url}: {exc.__class__.__name__}: {exc}") from None
    try:
        yield gb
    finally:
        gb.close()
        gb.engine.dispose()  # close() keeps the connection pool (and the SQLite file) open


def _sync_notebook(gb, spec: Assignment, solution_ids: list[str] | None, kernelspec: dict) -> None:
    """Make the notebook's grade and solution cells those of the spec and the source notebook."""
    from nbgrader.api import MissingEntry

    name = notebook_name(spec)
    want_grades = [g.grade_id for g in spec.groups]
    try:
        notebook = gb.find_notebook(name, spec.name)
    except MissingEntry:
        notebook = None
    if notebook is not None:
        have_grades = {c.name for c in notebook.grade_cells}
        have_solutions = {c.name for c in notebook.solution_cells}
        if solution_ids is None:  # no source notebook to read: keep what nbgrader recorded
            solution_ids = sorted(have_solutions)
        changed = have_grades != set(want_grades) or have_solutions != set(solution_ids)
        if changed and notebook.submissions:
            # Existing submissions hold one grade per cell; nbgrader refuses to reshape them, and so do we.
            added = sorted((set(want_grades) | set(solution_ids)) - (have_grades | have_solutions))
            removed = sorted((have_grades | have_solutions) - (set(want_grades) | set(solution_ids)))
            raise ReportError(
                f"the gradebook's notebook '{name}' of '{spec.name}' has other graded cells than grading.toml "
                f"and the source notebook (new: {', '.join(added) or 'none'}; gone: {', '.join(removed) or 'none'}) "
                "and already holds submissions; use a new gradebook (--db-url) for the changed assignment"
            )
        if changed:
            gb.remove_notebook(name, spec.name)
            notebook = None
    if notebook is None:
        gb.add_notebook(name, spec.name, kernelspec=json.dumps(kernelspec))
    for group in spec.groups:
        gb.update_or_create_grade_cell(group.grade_id, name, spec.name, max_score=float(group.max_points), cell_type="code")
    for sid in solution_ids or []:
        gb.update_or_create_solution_cell(sid, name, spec.name)


def _timestamp(value) -> dt.datetime | None:
    from nbgrader import utils

    if value is None:
        return None
    try:
        return utils.parse_utc(value)
    except Exception:
        raise ReportError(f"not a timestamp: {value!r}") from None


def write_gradebook(
    db_url: str,
    spec: Assignment,
    results: dict[str, Result],
    course_id: str = "course",
    *,
    timestamps: dict[str, dt.datetime | str] | None = None,
) -> None:
    """Record ``results`` (student id -> Result) in the nbgrader gradebook at ``db_url`` (any SQLAlchemy URL).

    ``timestamps`` (student id -> submission time), when given, set the submissions' timestamps, which
    nbgrader uses for late penalties. Raises ReportError with a readable message on a bad URL or database.
    """
    from nbgrader.api import Grade, InvalidEntry, MissingEntry
    from sqlalchemy.exc import SAWarning, SQLAlchemyError

    check_results(spec, results)
    solution_ids, kernelspec = _source_cells(spec)
    stamps = {s: _timestamp(t) for s, t in (timestamps or {}).items()}
    nb_name = notebook_name(spec)
    with _open(db_url, course_id) as gb:
        try:
            gb.update_or_create_assignment(spec.name)
            _sync_notebook(gb, spec, solution_ids, kernelspec)
            cells = {c.name: c for c in gb.find_notebook(nb_name, spec.name).grade_cells}
            for student in sorted(results):
                groups = group_scores(spec, results[student])
                gb.update_or_create_student(student)
                try:
                    submission = gb.find_submission(spec.name, student)
                except MissingEntry:
                    with warnings.catch_warnings():
                        # nbgrader's add_submission builds its rows before adding them to the session;
                        # SQLAlchemy warns about that, harmlessly.
                        warnings.simplefilter("ignore", SAWarning)
                        submission = gb.add_submission(spec.name, student)
                if student in stamps:
                    submission.timestamp = stamps[student]
                submitted_nb = gb.find_submission_notebook(nb_name, spec.name, student)
                for grade_id, group in groups.items():
                    try:
                        grade = gb.find_grade(grade_id, nb_name, spec.name, student)
                    except MissingEntry:  # e.g. a submission added by another tool before this cell existed
                        grade = Grade(cell_id=cells[grade_id].id, notebook=submitted_nb)
                        gb.db.add(grade)
                    grade.auto_score = float(group.score) if group is not None else 0.0
                    # A manual score from formgrader wins there; flag it so the instructor sees the new score.
                    grade.needs_manual_grade = grade.manual_score is not None
                gb.db.commit()  # one transaction per student: a failure leaves whole submissions only
        except (SQLAlchemyError, InvalidEntry) as exc:
            gb.db.rollback()
            first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise ReportError(f"cannot write the gradebook {db_url}: {first}") from None
