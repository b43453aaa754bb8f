"""The scores land in nbgrader's real gradebook: nbgrader's own `export` command reads them back."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.report import ReportError, write_gradebook
from autograder.report.gradebook import Person, RosterError, person_from_name, read_roster

NBGRADER = Path(sys.executable).parent / "nbgrader"


def nbgrader_export(db_url: str, folder: Path) -> list[dict[str, str]]:
    """Run the real `nbgrader export` CLI in a fresh course folder and read its CSV."""
    out = folder / "export.csv"
    (folder / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'course'\n")
    proc = subprocess.run(
        [str(NBGRADER), "export", f"--db={db_url}", f"--to={out}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_nbgrader_export_reads_one_row_per_student_with_the_score(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    results = {
        "alice": result_of(),
        "bob": result_of({"scale.hidden": "wrong values", "count_positive.visible": "wrong value"}),
        "carol": result_of({c.name: "not recorded" for c in toy.checks()}, status="incomplete"),
    }
    write_gradebook(db, toy, results)
    course = tmp_path / "course"
    course.mkdir()
    rows = nbgrader_export(db, course)
    assert sorted(r["student_id"] for r in rows) == ["alice", "bob", "carol"]
    by_student = {r["student_id"]: r for r in rows}
    assert {s: float(r["score"]) for s, r in by_student.items()} == {"alice": 10.0, "bob": 8.0, "carol": 0.0}
    assert all(float(r["max_score"]) == 10.0 for r in rows)
    assert all(r["assignment"] == "toy" for r in rows)


def test_notebook_cells_match_the_spec_and_the_source(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(db, toy, {"alice": result_of()})
    with Gradebook(db, course_id="course") as gb:
        nb = gb.find_notebook("toy", "toy")
        assert {c.name: c.max_score for c in nb.grade_cells} == {
            "scale_tests": 3.0,
            "draw_rates_tests": 5.0,
            "count_positive_tests": 2.0,
        }
        assert all(c.cell_type == "code" for c in nb.grade_cells)
        # the solution cells of the source notebook (formgrader shows one comment box per solution cell)
        assert sorted(c.name for c in nb.solution_cells) == ["count_positive", "draw_rates", "scale"]
        assert gb.find_assignment("toy").max_score == 10.0
        assert gb.find_assignment("toy").course_id == "course"
        grade = gb.find_grade("scale_tests", "toy", "toy", "alice")
        assert (grade.auto_score, grade.score, grade.needs_manual_grade) == (3.0, 3.0, False)
        gb.engine.dispose()


def test_writing_twice_keeps_one_submission_per_student_and_updates_scores(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(db, toy, {"alice": result_of(), "bob": result_of({"scale.visible": "x"})})
    # regraded: alice now loses a hidden check, bob is fixed, dave is new
    write_gradebook(
        db,
        toy,
        {"alice": result_of({"draw_rates.sample": "x"}), "bob": result_of(), "dave": result_of()},
    )
    with Gradebook(db, course_id="course") as gb:
        subs = gb.assignment_submissions("toy")
        assert sorted(s.student.id for s in subs) == ["alice", "bob", "dave"]
        assert {s.student.id: s.score for s in subs} == {"alice": 9.0, "bob": 10.0, "dave": 10.0}
        assert gb.find_grade("draw_rates_tests", "toy", "toy", "alice").auto_score == 4.0
        assert len(gb.students) == 3
        assert len(gb.assignments) == 1
        assert len(gb.find_notebook("toy", "toy").grade_cells) == 3
        gb.engine.dispose()
    rows = nbgrader_export(db, tmp_path)
    assert len(rows) == 3


def test_a_manual_score_from_formgrader_is_kept_and_flagged_for_review(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(db, toy, {"alice": result_of({"scale.visible": "x"})})
    with Gradebook(db, course_id="course") as gb:
        grade = gb.find_grade("scale_tests", "toy", "toy", "alice")
        grade.manual_score = 3.0
        gb.db.commit()
        gb.engine.dispose()
    write_gradebook(db, toy, {"alice": result_of({"scale.visible": "x", "scale.hidden": "y"})})
    with Gradebook(db, course_id="course") as gb:
        grade = gb.find_grade("scale_tests", "toy", "toy", "alice")
        assert (grade.auto_score, grade.manual_score, grade.needs_manual_grade) == (1.0, 3.0, True)
        gb.engine.dispose()


def test_the_gradebook_folder_is_created(tmp_path, toy, result_of):
    path = tmp_path / "new" / "deeper" / "gradebook.db"
    write_gradebook(f"sqlite:///{path}", toy, {"alice": result_of()})
    assert path.is_file()


def test_a_changed_assignment_with_submissions_is_refused_clearly(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(db, toy, {"alice": result_of()})
    smaller = dataclasses.replace(toy, groups=toy.groups[:2])
    alice = result_of()
    alice.groups = alice.groups[:2]
    with pytest.raises(ReportError, match="count_positive_tests.*new gradebook"):
        write_gradebook(db, smaller, {"alice": alice})
    with Gradebook(db, course_id="course") as gb:  # nothing was changed
        assert len(gb.find_notebook("toy", "toy").grade_cells) == 3
        gb.engine.dispose()


def test_a_changed_assignment_without_submissions_is_rebuilt(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    smaller = dataclasses.replace(toy, groups=toy.groups[:2])
    write_gradebook(db, smaller, {})
    write_gradebook(db, toy, {"alice": result_of()})
    with Gradebook(db, course_id="course") as gb:
        assert len(gb.find_notebook("toy", "toy").grade_cells) == 3
        assert gb.find_submission("toy", "alice").score == 10.0
        gb.engine.dispose()


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_bad_database_urls_give_a_clear_error(tmp_path, toy, result_of, url):
    with pytest.raises(ReportError, match="gradebook|database URL"):
        write_gradebook(url, toy, {"alice": result_of()})


def test_results_of_another_assignment_are_refused(tmp_path, toy, result_of):
    other = result_of()
    other.assignment = "tf_basics"
    with pytest.raises(ReportError, match="alice.*tf_basics"):
        write_gradebook(f"sqlite:///{tmp_path / 'gb.db'}", toy, {"alice": other})
    assert not (tmp_path / "gb.db").exists()


def test_a_new_gradebook_carries_nbgrader_schema_revision(tmp_path, toy, result_of):
    # The schema comes from autograder.gradebook_schema (tested there); the report must use it.
    import sqlite3

    from autograder import gradebook_schema

    write_gradebook(f"sqlite:///{tmp_path / 'gb.db'}", toy, {"alice": result_of()})
    with sqlite3.connect(tmp_path / "gb.db") as conn:
        stamped = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(gradebook_schema.alembic_head(),)]


# ------------------------------------------------------------------------------------- names and the roster


def _people(db: str) -> dict[str, tuple]:
    with Gradebook(db, course_id="course") as gb:
        people = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
        gb.engine.dispose()
    return people


@pytest.mark.parametrize(
    "text",
    [
        'id,name,email\nalice,Alice Liddell,alice@example.org\nbob,"Builder, Bob",\ncarol,Carol,\n',
        "\ufeffID, First Name ,Last_Name,Email\nalice,Alice,Liddell,alice@example.org\nbob,Bob,Builder,\ncarol,,Carol,\n",
    ],
)
def test_a_roster_of_either_shape_names_the_students(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    people = read_roster(path)
    assert people == {
        "alice": Person("Alice", "Liddell", "alice@example.org"),
        "bob": Person("Bob", "Builder", None),
        "carol": Person(None, "Carol", None),
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,email\nalice,a@b.org\n", "header must name"),
        ("name,email\nAlice,a@b.org\n", "header must name"),
        ("id,name\nalice,Alice A\nALICE,Alice B\n", "line 3: the id 'ALICE' is also on line 2"),
        ("id,name,email\nalice,Alice A,not-an-address\n", "line 2: 'not-an-address' is not an email"),
        ("id,name\n,Nobody\n", "line 2: no id"),
        ("", "empty"),
    ],
)
def test_a_broken_roster_is_a_usage_error_naming_the_line(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(RosterError, match=message) as info:
        read_roster(path)
    assert info.value.exit_code == 2 and str(path) in str(info.value)


def test_names_roster_first_then_guessed_then_the_id_never_none(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(
        db,
        toy,
        {"alice": result_of(), "Jane_Doe": result_of(), "s123@uni.example": result_of()},
        roster={"alice": Person("Alice", "Liddell", "alice@example.org"), "dave": Person("Dave", "Quiet", None)},
        guessed={"Jane_Doe": Person("Jane", "Doe"), "alice": Person("Wrong", "Guess")},
    )
    assert _people(db) == {
        "alice": ("Alice", "Liddell", "alice@example.org"),
        "Jane_Doe": ("Jane", "Doe", None),
        "s123@uni.example": ("", "s123@uni.example", "s123@uni.example"),  # formgrader shows "s123@uni.example, "
        "dave": ("Dave", "Quiet", None),  # on the roster, no upload
    }
    with Gradebook(db, course_id="course") as gb:  # dave has no submission: nbgrader export lists him with none
        assert sorted(s.student.id for s in gb.assignment_submissions("toy")) == ["Jane_Doe", "alice", "s123@uni.example"]
        gb.engine.dispose()


def test_names_typed_in_formgrader_stay_unless_a_roster_says_otherwise(tmp_path, toy, result_of):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    write_gradebook(db, toy, {"Jane_Doe": result_of(), "bob": result_of()}, guessed={"Jane_Doe": Person("Jane", "Doe")})
    with Gradebook(db, course_id="course") as gb:
        gb.update_or_create_student("Jane_Doe", first_name="Janet", last_name="Doe-Smith")
        gb.update_or_create_student("bob", first_name="Bob", last_name="Builder")
        gb.engine.dispose()
    write_gradebook(db, toy, {"Jane_Doe": result_of(), "bob": result_of()}, guessed={"Jane_Doe": Person("Jane", "Doe")})
    assert _people(db)["Jane_Doe"] == ("Janet", "Doe-Smith", None)
    assert _people(db)["bob"] == ("Bob", "Builder", None)
    write_gradebook(db, toy, {"bob": result_of()}, roster={"bob": Person("Robert", "Builder", "rb@example.org")})
    assert _people(db)["bob"] == ("Robert", "Builder", "rb@example.org")


@pytest.mark.parametrize(
    "name, person",
    [
        ("Jane Doe", Person("Jane", "Doe")),
        ("  Anna   Maria van Berg ", Person("Anna Maria van", "Berg")),
        ("Doe, Jane", Person("Jane", "Doe")),
        ("doejane", None),
        ("Doe,", None),
    ],
)
def test_a_name_from_an_upload_is_split_only_when_it_has_parts(name, person):
    assert person_from_name(name) == person
