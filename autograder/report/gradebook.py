"""Scores into nbgrader's own gradebook, so ``nbgrader export`` and formgrader's gradebook views keep working.

The database gets what ``nbgrader generate_assignment`` + ``nbgrader autograde`` would put there for the
score side: the assignment, its notebook (named after the notebook's stem), one grade cell per check group
(name = the group's grade_id, max_score = the group's points), the solution cells of the source notebook,
the students, one submission per student and each grade's ``auto_score``. Source cells (used only by
nbgrader's own autograde to restore cells) are not written: this grader restores cells itself.

Students get names (formgrader lists "last name, first name"): a roster's (``read_roster``) are written
every time; names guessed from the uploads (an LMS folder named "Jane Doe_...") and, failing those, the
student id as last name fill in only what the gradebook lacks, so names typed in formgrader stay. A roster's
students who sent nothing are added too (``nbgrader export`` lists them with no score).

Writing twice is safe: every object is found and updated, never added twice. Like nbgrader, a manual
score given in formgrader is kept (it overrides the auto score there) and the cell is marked for review;
comments and the assignment's due date set in formgrader are kept as well.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from autograder import gradebook_schema
from autograder.errors import UsageError
from autograder.grading import spec as spec_mod
from autograder.grading.result import Result
from autograder.grading.spec import Assignment
from autograder.report.common import ReportError, check_results, group_scores

# nbgrader's Student columns are VARCHAR(128); SQLite does not enforce it, other databases do.
MAX_FIELD = 128


class RosterError(UsageError):
    """The roster CSV cannot be read (missing columns, duplicate ids, not a CSV)."""


@dataclasses.dataclass(frozen=True)
class Person:
    """What the gradebook knows about a student besides the id; None: unknown."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


def person_from_name(name: str) -> Person | None:
    """A display name split as people write it: "Jane Doe", "Anna Maria van Berg" (the last word is the last
    name), "Doe, Jane". None when the text is no name of several words (an id like "doejane" or "s123")."""
    text = " ".join(name.split())
    if "," in text:
        last, _, first = (part.strip() for part in text.partition(","))
        return Person(first_name=first, last_name=last) if first and last else None
    words = text.split(" ")
    if len(words) < 2:
        return None
    return Person(first_name=" ".join(words[:-1]), last_name=words[-1])


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _field(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value[:MAX_FIELD] or None


def read_roster(path: str | Path) -> dict[str, Person]:
    """Student id -> Person from a CSV with the columns id,name,email or id,first_name,last_name,email.

    Column names are matched ignoring case and spaces; email is optional, other columns are ignored. A name
    of one word becomes the last name. Raises RosterError naming the file and the row.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often start the file with a BOM
    except FileNotFoundError:
        raise RosterError(f"roster {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster {path}: cannot read it as UTF-8 text ({exc.__class__.__name__})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise RosterError(f"roster {path}: the file is empty (expected a header: id,name,email or id,first_name,last_name,email)")
    header = [re.sub(r"[\s_-]+", "_", h.strip().lower()) for h in rows[0]]
    column = {name: i for i, name in reversed(list(enumerate(header)))}
    split = "first_name" in column or "last_name" in column
    if "id" not in column or not (split or "name" in column):
        raise RosterError(
            f"roster {path}: the header must name the columns id,name,email or id,first_name,last_name,email; it is {','.join(rows[0])}"
        )
    people: dict[str, Person] = {}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = column.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        sid = cell("id")
        if not sid:
            raise RosterError(f"roster {path}, line {line}: no id")
        if sid.casefold() in seen:
            raise RosterError(f"roster {path}, line {line}: the id '{sid}' is also on line {seen[sid.casefold()]}")
        seen[sid.casefold()] = line
        if split:
            person = Person(_field(cell("first_name")), _field(cell("last_name")))
        else:
            name = cell("name")
            guess = person_from_name(name)
            person = Person(_field(guess.first_name), _field(guess.last_name)) if guess else Person(None, _field(name))
        email = cell("email")
        if email and not _EMAIL.match(email):
            raise RosterError(f"roster {path}, line {line}: '{email}' is not an email address")
        people[sid] = dataclasses.replace(person, email=_field(email))
    return people


def _set_person(student, known: Person | None, guessed: Person | None) -> None:
    """Write a roster's fields; fill only empty ones from a guess, then from the id (never "None, None")."""
    for name in ("first_name", "last_name", "email"):
        value = getattr(known, name) if known is not None else None
        if value is not None:
            setattr(student, name, value)
        elif getattr(student, name) is None and guessed is not None and getattr(guessed, name) is not None:
            setattr(student, name, _field(getattr(guessed, name)))
    if student.last_name is None:
        student.last_name = student.id[:MAX_FIELD]
    if student.first_name is None:
        student.first_name = ""  # formgrader shows "last, first" and "None" for a missing part
    if student.email is None and _EMAIL.match(student.id):
        student.email = student.id


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
    roster: dict[str, Person] | None = None,
    guessed: dict[str, Person] | None = None,
) -> dict[str, dt.datetime | None]:
    """Record ``results`` (student id -> Result) in the nbgrader gradebook at ``db_url`` (any SQLAlchemy URL).

    ``timestamps`` (student id -> submission time), when given, set the submissions' timestamps, which
    nbgrader uses for late penalties. ``roster`` (student id -> Person, ids as in ``results``) sets names and
    emails, and adds its students who have no result; ``guessed`` names fill in only empty fields (see the
    module's docstring). Returns each result's submission timestamp as the gradebook now holds it (naive
    UTC, or None), which nbgrader's course folder must repeat in ``timestamp.txt``. Raises ReportError with
    a readable message on a bad URL or database.
    """
    from nbgrader.api import Grade, InvalidEntry, MissingEntry
    from sqlalchemy.exc import SAWarning, SQLAlchemyError

    check_results(spec, results)
    solution_ids, kernelspec = _source_cells(spec)
    stamps = {s: _timestamp(t) for s, t in (timestamps or {}).items()}
    roster = roster or {}
    guessed = guessed or {}
    nb_name = notebook_name(spec)
    held: dict[str, dt.datetime | None] = {}
    with _open(db_url, course_id) as gb:
        try:
            gb.update_or_create_assignment(spec.name)  # a due date set in formgrader stays
            _sync_notebook(gb, spec, solution_ids, kernelspec)
            notebook = gb.find_notebook(nb_name, spec.name)
            cells = {c.name: c for c in notebook.grade_cells}
            for student in sorted(set(roster) - set(results)):
                _set_person(gb.update_or_create_student(student), roster[student], None)
            gb.db.commit()
            for student in sorted(results):
                groups = group_scores(spec, results[student])
                _set_person(gb.update_or_create_student(student), roster.get(student), guessed.get(student))
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
                _add_missing_comments(gb, notebook, submitted_nb)
                held[student] = submission.timestamp
                gb.db.commit()  # one transaction per student: a failure leaves whole submissions only
        except (SQLAlchemyError, InvalidEntry) as exc:
            gb.db.rollback()
            first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise ReportError(f"cannot write the gradebook {db_url}: {first}") from None
    return held


def _add_missing_comments(gb, notebook, submitted_nb) -> None:
    """One comment row per solution cell, as nbgrader's own submissions have (formgrader and
    generate_feedback look them up); a submission made before a cell existed lacks it. Comments are kept."""
    from nbgrader.api import Comment

    have = {c.cell_id for c in submitted_nb.comments}
    for cell in notebook.solution_cells:
        if cell.id not in have:
            gb.db.add(Comment(cell_id=cell.id, notebook=submitted_nb))
