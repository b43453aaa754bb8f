"""The output folder is an nbgrader course: nbgrader's own API and generate_feedback work on it, and nothing
a student can receive from it holds a hidden test or a solution."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grading import pipeline
from autograder.grading import spec as spec_mod
from autograder.report import nbgrader_course, write_gradebook
from tests.report.conftest import JANE, TOY

NBGRADER = Path(sys.executable).parent / "nbgrader"
STUDENTS = ["Jane_Doe", "bob", "carol"]


def _hidden_lines(toy) -> list[str]:
    """The lines of the source's hidden tests, whitespace removed (as they would survive any rendering)."""
    found = []
    for cell in spec_mod.read_source(toy).cells:
        inside = False
        for line in cell.source.splitlines():
            if pipeline.HIDDEN_BEGIN in line:
                inside = True
            elif pipeline.HIDDEN_END in line:
                inside = False
            elif inside and line.strip():
                found.append("".join(line.split()))
    assert len(found) == 7
    return found


def _solution_lines(toy) -> list[str]:
    found = []
    for cell in spec_mod.read_source(toy).cells:
        m = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        if m:
            found += ["".join(line.split()) for line in m.group(1).splitlines() if line.strip()]
    assert found
    return found


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _squeezed_text(page: str) -> str:
    """An HTML page's text without tags and whitespace: highlighted code reads as one string again."""
    parser = _Text()
    parser.feed(page)
    return "".join("".join(parser.parts).split())


def _leaks(text: str, toy, *, solutions: bool) -> list[str]:
    squeezed = "".join(text.split())
    wanted = _hidden_lines(toy) + (_solution_lines(toy) if solutions else []) + ["BEGINHIDDENTESTS", "ENDHIDDENTESTS"]
    return [w for w in wanted if w in squeezed]


def _grades(db_url: str, student: str) -> dict[str, float]:
    with Gradebook(db_url, course_id="course") as gb:
        sub = gb.find_submission_notebook("toy", "toy", student)
        scores = {g.name: g.score for g in sub.grades}
        gb.engine.dispose()
    return scores


# ------------------------------------------------------------------------------- after `autograder grade`


def test_the_output_folder_has_nbgrader_course_layout(graded_course):
    out, uploads = graded_course["out"], graded_course["uploads"]
    for student in STUDENTS:
        assert (out / "autograded" / student / "toy" / "toy.ipynb").is_file()
        assert (out / "submitted" / student / "toy" / "toy.ipynb").is_file()
    # the submitted copy is the upload as the student sent it
    assert (out / "submitted" / "carol" / "toy" / "toy.ipynb").read_bytes() == (uploads / "carol_toy.ipynb").read_bytes()
    assert sorted(p.name for p in (out / "source" / "toy").iterdir()) == ["README.md"]  # no source notebook
    assert (out / "nbgrader_config.py").read_text().splitlines()[0] == nbgrader_course.MARKER
    assert not (out / "autograded" / "dave").exists()  # on the roster, but sent nothing


def test_names_come_from_the_roster_else_from_the_upload_never_none(graded_course):
    with Gradebook(f"sqlite:///{graded_course['out'] / 'gradebook.db'}", course_id="course") as gb:
        people = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
        gb.engine.dispose()
    assert people == {
        JANE: ("Jane", "Doe", None),  # from her Moodle folder "Jane Doe_4711_..."; not on the roster
        "bob": ("Bob", "Builder", "bob@example.org"),
        "carol": ("Carol Ann", "King", "ck@example.org"),  # the roster says "Carol": ids match ignoring case
        "dave": ("Dave", "Quiet", None),  # on the roster without an upload: listed, as nbgrader would
    }
    assert "1 students are not in the roster" in graded_course["log"] and JANE in graded_course["log"]


def test_the_autograded_notebook_carries_nbgrader_metadata_and_the_students_code(graded_course):
    toy = spec_mod.load(graded_course["toy"])
    nb = nbformat.read(graded_course["out"] / "autograded" / "carol" / "toy" / "toy.ipynb", as_version=4)
    nbformat.validate(nb)
    meta = {c.metadata["nbgrader"]["grade_id"]: (c, c.metadata["nbgrader"]) for c in nb.cells if "nbgrader" in c.metadata}
    for group in toy.groups:
        cell, m = meta[group.grade_id]
        assert (m["grade"], m["solution"], m["points"]) == (True, False, group.max_points)
    assert {gid for gid, (_, m) in meta.items() if m.get("solution")} == {"scale", "draw_rates", "count_positive"}
    assert "a + np.asarray(x" in meta["scale"][0].source  # carol's own (wrong) code
    out_text = "".join(o["text"] for o in meta["scale_tests"][0].outputs)
    assert out_text.startswith("autograder: 0 / 3 points") and "FAILED  scale.hidden (hidden)" in out_text
    assert "".join(o["text"] for o in meta["draw_rates_tests"][0].outputs).startswith("autograder: 5 / 5 points")
    assert [c for c in nb.cells if c.cell_type == "code" and c.outputs and "nbgrader" not in c.metadata] == []


def test_no_autograded_notebook_holds_a_hidden_test_or_a_solution_the_student_did_not_write(graded_course):
    toy = spec_mod.load(graded_course["toy"])
    out = graded_course["out"]
    for student in STUDENTS:
        text = (out / "autograded" / student / "toy" / "toy.ipynb").read_text()
        assert _leaks(json.dumps(nbformat.reads(text, 4).dict()), toy, solutions=student == "bob") == [], student


def test_nbgrader_generate_feedback_works_and_shows_no_hidden_test(graded_course, tmp_path):
    course = tmp_path / "moved"  # the folder may be moved: our config finds the gradebook beside itself
    shutil.copytree(graded_course["out"], course)
    ours = sorted(p.name for p in (course / "autograder-feedback").iterdir())
    proc = subprocess.run([str(NBGRADER), "generate_feedback", "toy"], cwd=course, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    toy = spec_mod.load(graded_course["toy"])
    expected = {JANE: 10.0, "bob": 0.0, "carol": 7.0}
    for student, score in expected.items():
        page = (course / "feedback" / student / "toy" / "toy.html").read_text()
        text = _squeezed_text(html.unescape(page))
        assert f"toy(Score:{score}/10.0)" in text, student
        assert _leaks(text, toy, solutions=student == "bob") == [], student
        assert "autograder:" in page  # the check lines reach the student too
        # a student's Markdown is shown as text: no live tag, attribute or link of hers
        assert not re.search(r"<img[^>]*onerror|<script>document|href=.javascript:", page, re.I), student
    assert '&lt;script&gt;document.title="pwned"&lt;/script&gt;' in (course / "feedback" / "carol" / "toy" / "toy.html").read_text()
    assert sorted(p.name for p in (course / "autograder-feedback").iterdir()) == ours  # ours untouched
    assert sorted(p.name for p in (course / "feedback").iterdir()) == sorted(expected)


def test_nbgrader_api_sees_the_assignment_its_submissions_and_names(graded_course):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    out = graded_course["out"]
    config = PyFileConfigLoader("nbgrader_config.py", str(out)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    (assignment,) = api.get_assignments()
    assert (assignment["name"], assignment["num_submissions"], assignment["max_score"]) == ("toy", 3, 10.0)
    assert assignment["duedate"].startswith("2031-05-17")
    assert api.get_autograded_students("toy") == set(STUDENTS)
    subs = {s["student"]: s for s in api.get_submissions("toy")}
    assert {s: (x["last_name"], x["first_name"], x["score"], x["autograded"]) for s, x in subs.items()} == {
        JANE: ("Doe", "Jane", 10.0, True),
        "bob": ("Builder", "Bob", 0.0, True),
        "carol": ("King", "Carol Ann", 7.0, True),
    }
    assert [n["name"] for n in api.get_student_notebook_submissions("carol", "toy")] == ["toy"]
    assert api.get_student_notebook_submissions("carol", "toy")[0]["id"] is not None  # not "file missing"


# ------------------------------------------------------------------------------ the module on its own


@pytest.fixture
def course(tmp_path, toy, result_of):
    """Hand-made results for two students and their uploads, written once."""
    from tests import toy_course

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    nbformat.write(toy_course.solved(TOY), uploads / "alice.ipynb")
    nbformat.write(toy_course.blank(TOY), uploads / "bob.ipynb")
    out = tmp_path / "out"
    db = f"sqlite:///{out / 'gradebook.db'}"
    results = {"alice": result_of(), "bob": result_of({c.name: "not recorded" for c in toy.checks()})}
    paths = {"alice": uploads / "alice.ipynb", "bob": uploads / "bob.ipynb"}

    def write(results=results, timestamps=None):
        stamps = write_gradebook(db, toy, results, timestamps=timestamps)
        nbgrader_course.write_course(out, toy, results, paths, stamps, db_url=db)
        return stamps

    write()
    return {"out": out, "db": db, "write": write, "results": results, "paths": paths}


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "gradebook.db"
    }


def test_writing_twice_rewrites_nothing_and_keeps_the_graders_work(course, result_of):
    before = _snapshot(course["out"])
    with Gradebook(course["db"], course_id="course") as gb:
        grade = gb.find_grade("scale_tests", "toy", "toy", "bob")
        grade.manual_score = 2.5
        gb.find_comment("scale", "toy", "toy", "bob").manual_comment = "close: read the docstring again"
        gb.db.commit()
        gb.engine.dispose()
    course["write"]()
    assert _snapshot(course["out"]) == before  # same bytes, not even touched
    with Gradebook(course["db"], course_id="course") as gb:
        assert gb.find_grade("scale_tests", "toy", "toy", "bob").score == 2.5
        assert gb.find_comment("scale", "toy", "toy", "bob").comment == "close: read the docstring again"
        assert len(gb.find_submission("toy", "bob").notebooks[0].comments) == 3
        gb.engine.dispose()


def test_a_regrade_rewrites_the_check_lines(course, result_of):
    path = course["out"] / "autograded" / "alice" / "toy" / "toy.ipynb"
    assert "autograder: 3 / 3 points" in path.read_text()
    course["write"]({**course["results"], "alice": result_of({"scale.visible": "wrong values: expected 3, got 4"})})
    text = path.read_text()
    assert "autograder: 2 / 3 points" in text and "wrong values: expected 3, got 4" in text
    assert _grades(course["db"], "alice")["scale_tests"] == 2.0


def test_an_instructors_own_nbgrader_config_is_kept(course):
    config = course["out"] / "nbgrader_config.py"
    config.write_text("c = get_config()\nc.CourseDirectory.course_id = 'course'\n")
    course["write"]()
    assert config.read_text() == "c = get_config()\nc.CourseDirectory.course_id = 'course'\n"


def test_submission_times_are_repeated_where_nbgrader_compares_them(course):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    when = dt.datetime(2030, 1, 2, 3, 4, 5, 678)
    stamps = course["write"](timestamps={"alice": when})
    assert stamps == {"alice": when, "bob": None}
    out = course["out"]
    for kind in ("submitted", "autograded"):
        assert (out / kind / "alice" / "toy" / "timestamp.txt").is_file()
        assert not (out / kind / "bob" / "toy" / "timestamp.txt").exists()
    config = PyFileConfigLoader("nbgrader_config.py", str(out)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.get_submitted_timestamp("toy", "alice") == when
    assert api.get_autograded_students("toy") == {"alice", "bob"}  # nbgrader checks the two times agree


def test_a_rejected_upload_shows_the_released_notebook_and_why(tmp_path, toy, result_of):
    upload = tmp_path / "eve.ipynb"
    upload.write_text("{ this is not json")
    result = result_of({c.name: "not graded" for c in toy.checks()}, status="rejected", reasons=["not a notebook"])
    nb = nbgrader_course.autograded_notebook(toy, upload, result)
    assert nb.cells[0].cell_type == "markdown" and "not a notebook: cannot read it as JSON" in nb.cells[0].source
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata["nbgrader"]["grade_id"] for c in tests] == [g.grade_id for g in toy.groups]
    assert _leaks(json.dumps(nb.dict()), toy, solutions=True) == []
