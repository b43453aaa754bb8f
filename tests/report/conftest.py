"""Hand-made Results for the toy assignment: the report layer is tested without running any notebook."""

from __future__ import annotations

import pytest

from autograder.grading import spec as spec_mod
from autograder.grading.result import GRADED, CheckResult, Code, GroupResult, Result
from tests.toy_course import TOY


@pytest.fixture(scope="session")
def toy() -> spec_mod.Assignment:
    return spec_mod.load(TOY)


def make_result(
    spec: spec_mod.Assignment,
    failed: dict[str, str] | None = None,
    *,
    status: str = GRADED,
    reasons: list[str] | None = None,
    tampering: list[str] | None = None,
    submission: str = "submissions/student.ipynb",
) -> Result:
    """A Result in which the checks named in ``failed`` (name -> message) fail and all others pass.

    A failed check gets its hint from the spec in its own field and the code WRONG_VALUES, as the result step
    writes them.
    """
    failed = failed or {}
    groups = []
    for g in spec.groups:
        checks = []
        for c in g.checks:
            ok = c.name not in failed
            message = "" if ok else failed[c.name]
            checks.append(
                CheckResult(
                    c.name,
                    g.grade_id,
                    c.points if ok else 0.0,
                    c.points,
                    ok,
                    c.visible,
                    message,
                    code=Code.PASSED if ok else (Code.NOT_RECORDED if message.startswith("not recorded") else Code.WRONG_VALUES),
                    hint="" if ok else c.hint,
                )
            )
        groups.append(GroupResult(g.grade_id, g.title, sum(x.points for x in checks), g.max_points, checks, g.hint))
    return Result(
        assignment=spec.name,
        submission=submission,
        score=sum(x.score for x in groups),
        max_score=spec.max_score,
        groups=groups,
        status=status,
        reasons=list(reasons or []),
        tampering=list(tampering or []),
        timings={"execute": 1.5, "compare": 0.01},
    )


@pytest.fixture
def result_of(toy):
    """make_result bound to the toy spec."""
    return lambda failed=None, **kw: make_result(toy, failed, **kw)


# ------------------------------------------------------------------ a toy class graded by `autograder grade`

JANE = "Jane_Doe"  # a Moodle-style upload folder "Jane Doe_4711_assignsubmission_file_" gives this id
# HTML in a student's Markdown cell that would run in formgrader's page (which holds the server's token)
EVIL_MARKDOWN = (
    '<img src="x" onerror="document.title=\'pwned\'"><script>document.title="pwned"</script> [x](javascript:void(document.title="pwned"))'
)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """A toy class graded by the real CLI with a roster, into ``out`` (formgrader's course root).

    Jane sends a solved notebook in a Moodle-style folder (name from the folder, not in the roster), bob a
    blank one, carol one whose ``scale`` is wrong; the roster names bob and carol and lists dave, who sent
    nothing. After grading, the instructor sets a due date in the gradebook (as formgrader does) and the
    class is graded again, unchanged: the reports are rewritten over the first ones.
    """
    import subprocess

    import nbformat

    from tests import toy_course

    root = tmp_path_factory.mktemp("formgrader")
    toy_dir = toy_course.make_toy(root)
    uploads = root / "uploads"
    (uploads / "Jane Doe_4711_assignsubmission_file_").mkdir(parents=True)
    nbformat.write(toy_course.solved(toy_dir), uploads / "Jane Doe_4711_assignsubmission_file_" / "toy.ipynb")
    nbformat.write(toy_course.blank(toy_dir), uploads / "bob.ipynb")
    carol = toy_course.solved(toy_dir)
    for cell in carol.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale":
            cell.source = "def scale(x, a):\n    return a + np.asarray(x, dtype=np.float64)\n"
    carol.cells.append(nbformat.v4.new_markdown_cell(f"My notes {EVIL_MARKDOWN}"))  # a hostile student's Markdown
    nbformat.write(carol, uploads / "carol_toy.ipynb")
    roster = root / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\nbob,Bob,Builder,bob@example.org\nCarol,Carol Ann,King,ck@example.org\ndave,Dave,Quiet,\n"
    )
    out = root / "out"
    cmd = toy_course.grade_cmd(toy_dir, uploads, out=out, extra=["--unsafe", "--workers", "2", "--roster", str(roster)])
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    import datetime as dt

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="course") as gb:
        gb.update_or_create_assignment("toy", duedate=dt.datetime(2031, 5, 17, 12, 0))
        gb.engine.dispose()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    return {"root": root, "toy": toy_dir, "out": out, "uploads": uploads, "log": first.stdout + first.stderr + again.stdout + again.stderr}
