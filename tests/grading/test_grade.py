"""grade() end to end on the toy assignment: scores, cheats, tampering, crashes, timeouts, bad input."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograder import config
from autograder.grading import core, pipeline
from autograder.grading.result import GRADED, INCOMPLETE, REJECTED, Code, Result, Why
from tests.toy_course import FAST, cell_index, replaced, with_extra

WRONG_SCALE = "def scale(x, a):\n    return a * np.asarray(x, dtype=np.float64) + 1.0\n"


def scores(result: Result) -> dict[str, float]:
    return {g.grade_id: g.score for g in result.groups}


def test_source_scores_full_marks(grade, source_nb, toy):
    result = grade(source_nb)
    assert result.status == GRADED
    assert result.max_score == toy.max_score == 10
    assert result.score == 10, [c for c in result.checks if not c.passed]


def test_released_version_scores_zero(grade, released_nb):
    result = grade(released_nb)
    assert result.status == GRADED
    assert result.score == 0
    visible = result.check("scale.visible")
    assert "NotImplementedError" in visible.message
    assert result.tampering == []


def test_correct_submission_full_marks_and_no_tampering_notes(grade, solved):
    result = grade(solved)
    assert result.score == 10
    assert result.tampering == []
    assert set(result.timings) >= {"read", "restore", "prepare", "execute", "collect", "compare"}


def test_stderr_and_warnings_do_not_matter(grade, solved):
    noisy = (
        "def count_positive(x):\n"
        "    import sys, warnings\n"
        "    print('W0000 some library log line', file=sys.stderr)\n"
        "    warnings.warn('deprecated')\n"
        "    return int(np.sum(np.asarray(x) > 0))\n"
    )
    result = grade(replaced(solved, "count_positive", noisy))
    assert result.score == 10 and result.reasons == []


def test_wrong_answer_costs_only_its_group_and_hidden_messages_reveal_nothing(grade, solved):
    result = grade(replaced(solved, "scale", WRONG_SCALE))
    # wrong values, right shape: scale.hidden_shape is structural (a guessable shape) and counts only
    # beside a passed value check, so the whole group scores zero (issue #10, class 6)
    assert scores(result) == {"scale_tests": 0, "draw_rates_tests": 5, "count_positive_tests": 2}
    assert result.check("scale.hidden_shape").code == Code.NEEDS_VALUE_CHECK
    visible = result.check("scale.visible")
    assert "expected" in visible.message and "[4. 7.]" in visible.message  # visible: expected vs got
    hidden = result.check("scale.hidden")
    assert not hidden.passed
    # the reference is -0.5 * arange(6): none of its numbers may appear in a hidden check's feedback
    for secret in ("-0.5", "-2.5", "-1.5", "expected"):
        assert secret not in hidden.message
    assert hidden.message == "wrong values" and hidden.code == Code.WRONG_VALUES
    assert hidden.hint == "Check the sign and that the whole array is scaled."


def test_missing_record_scores_zero_with_reason(grade, solved):
    partial = (
        "def scale(x, a):\n"
        "    if np.ndim(x) > 1:\n"
        "        raise ValueError('only vectors')\n"
        "    return a * np.asarray(x, dtype=np.float64)\n"
    )
    result = grade(replaced(solved, "scale", partial))
    assert result.check("scale.visible").passed
    hidden = result.check("scale.hidden")
    assert not hidden.passed and hidden.code == Code.RAISED and "ValueError" in hidden.message
    assert "only vectors" not in hidden.message  # a hidden check names the exception type only
    assert scores(result)["scale_tests"] == 1


def test_duplicate_record_fails_the_check(grade, solved):
    cheat = "def scale(x, a):\n    record('scale.visible', np.array([3.0, 6.0]))\n    return a * np.asarray(x, dtype=np.float64)\n"
    result = grade(replaced(solved, "scale", cheat))
    assert "recorded more than once" in result.check("scale.visible").message
    assert not result.check("scale.visible").passed
    assert result.check("scale.hidden").passed


def test_records_outside_test_cells_and_foreign_names_are_ignored(grade, solved):
    nb = replaced(solved, "scale", WRONG_SCALE)
    # a student cell recording the right visible value, and a student function recording another group's name
    nb = with_extra(nb, "scale", "record('scale.visible', np.array([3.0, 6.0]))")
    nb = replaced(
        nb,
        "count_positive",
        "def count_positive(x):\n    record('scale.hidden', 0)\n    return int(np.sum(np.asarray(x) > 0))\n",
    )
    result = grade(nb)
    # nothing counts from those records: WRONG_SCALE keeps only its structural shape check, which is gated
    assert scores(result) == {"scale_tests": 0, "draw_rates_tests": 5, "count_positive_tests": 2}
    assert result.check("scale.visible").code == Code.WRONG_VALUES


def test_lying_objects_are_judged_by_their_plain_values(grade, solved):
    liar = (
        "class Liar:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __ne__(self, other):\n"
        "        return False\n"
        "class LyingArray(np.ndarray):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "def scale(x, a):\n"
        "    return Liar()\n"
        "def count_positive(x):\n"
        "    return np.zeros(3).view(LyingArray)\n"
    )
    result = grade(replaced(replaced(solved, "scale", liar), "count_positive", "pass"))
    assert scores(result)["scale_tests"] == 0
    assert scores(result)["count_positive_tests"] == 0
    assert "could not be recorded" in result.check("scale.hidden").message


def test_patched_numpy_and_checker_in_the_kernel_change_nothing(grade, solved):
    patch = (
        "import selfcheck\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "selfcheck.check = check = lambda name, value, expected, **k: print('PASSED', name) or True\n"
    )
    nb = with_extra(replaced(solved, "scale", WRONG_SCALE), "imports", patch)
    result = grade(nb)
    assert scores(result)["scale_tests"] == 0  # as without the patches (the shape check alone counts nothing)
    assert not result.check("scale.hidden").passed
    # check() calls in test cells become record() calls before the run, so replacing check changes nothing
    assert scores(result)["draw_rates_tests"] == 5
    assert result.check("draw_rates.shape").passed


# --- tampering: restored from the source, reported, never raising a score -------------------------


def _tamper_changed_test_cell(nb):
    i = cell_index(nb, "scale_tests")
    nb.cells[i].source = "record('scale.visible', np.array([3.0, 6.0]))"
    return nb, "scale_tests: test cell source was changed"


def _tamper_points(nb):
    nb.cells[cell_index(nb, "scale_tests")].metadata.nbgrader["points"] = 100
    nb.cells[cell_index(nb, "draw_rates_tests")].metadata.nbgrader["grade"] = False
    return nb, "scale_tests: nbgrader metadata of the test cell changed (points)"


def _tamper_deleted(nb):
    del nb.cells[cell_index(nb, "scale_tests")]
    return nb, "scale_tests: test cell is missing; restored from the source"


def _tamper_duplicated(nb):
    nb.cells.append(copy.deepcopy(nb.cells[cell_index(nb, "scale_tests")]))
    return nb, "scale_tests: test cell appears more than once"


def _tamper_solution_as_test(nb):
    meta = nb.cells[cell_index(nb, "scale")].metadata.nbgrader
    meta.update(grade=True, solution=False, points=5)
    return nb, "scale: nbgrader metadata of the solution cell changed"


def _tamper_reordered(nb):
    i = cell_index(nb, "count_positive_tests")
    nb.cells.insert(0, nb.cells.pop(i))
    return nb, "graded cells were reordered"


# Scores do not depend on the explain step (it only writes messages): skipping it saves a kernel run.
NO_EXPLAIN = tuple(step for step in pipeline.DEFAULT if step != "explain")


@pytest.fixture(scope="module")
def honest_baseline(toy, solved):
    honest = replaced(solved, "scale", WRONG_SCALE)
    return honest, core.grade(honest, toy, limits=FAST, steps=NO_EXPLAIN)


@pytest.mark.parametrize(
    "tamper",
    [_tamper_changed_test_cell, _tamper_points, _tamper_deleted, _tamper_duplicated, _tamper_solution_as_test, _tamper_reordered],
    ids=lambda f: f.__name__.removeprefix("_tamper_"),
)
def test_tampering_is_reported_and_never_raises_the_score(grade, solved, tamper, honest_baseline):
    honest, baseline = honest_baseline
    tampered, note = tamper(copy.deepcopy(honest))
    result = grade(tampered, steps=NO_EXPLAIN)
    assert any(note in t for t in result.tampering), result.tampering
    assert result.score == baseline.score == 7  # WRONG_SCALE: scale_tests scores 0 (its shape check alone counts nothing)
    assert result.max_score == 10
    assert scores(result) == scores(baseline)


def test_malformed_metadata_in_extra_cells_is_noted_not_fatal(grade, solved):
    nb = with_extra(solved, "scale", "y = 1")
    nb.cells[cell_index(nb, "scale") + 1].metadata["nbgrader"] = "grade me"
    nb = with_extra(nb, "imports", "z = 2")
    nb.cells[cell_index(nb, "imports") + 1].metadata["nbgrader"] = {"grade_id": ["scale_tests"], "grade": True, "points": 50}
    result = grade(nb)
    assert result.score == 10
    assert sum("extra cell with" in t for t in result.tampering) == 2


# --- failures of the run become results -------------------------------------------------------------


def test_a_crash_becomes_a_result(grade, solved):
    crash = "def count_positive(x):\n    import os\n    os._exit(1)\n"
    result = grade(replaced(solved, "count_positive", crash))
    assert result.status == INCOMPLETE
    assert any(r.code == Why.KERNEL_DIED and "kernel died" in r for r in result.reasons)
    assert scores(result) == {"scale_tests": 3, "draw_rates_tests": 5, "count_positive_tests": 0}


def test_a_cell_timeout_interrupts_that_cell_only(grade, solved):
    # Sleeps rather than spins: an interrupt ends either the same way, and the cell runs into its timeout
    # twice (the graded run and the run that explains the failure), 10 s of a core in a spin.
    slow = "def draw_rates(n, seed):\n    import time\n    while True:\n        time.sleep(0.05)\n"
    result = grade(replaced(solved, "draw_rates", slow))
    assert result.status == GRADED
    assert any(r.code == Why.CELL_TIMEOUT and "interrupted" in r for r in result.reasons)
    assert scores(result) == {"scale_tests": 3, "draw_rates_tests": 0, "count_positive_tests": 2}


def test_the_notebook_timeout_stops_the_run(grade, solved):
    limits = config.Limits(cell_timeout=60, notebook_timeout=6)
    nb = with_extra(solved, "scale_tests", "import time\ntime.sleep(120)")
    result = grade(nb, limits=limits)
    assert result.status == INCOMPLETE
    assert any(r.code == Why.NOTEBOOK_TIMEOUT and "longer than 6 s" in r for r in result.reasons)
    assert scores(result) == {"scale_tests": 3, "draw_rates_tests": 0, "count_positive_tests": 0}
    assert "stopped before" in result.check("count_positive.hidden").message
    assert result.timings["execute"] < 30
    # One timeout bounds the submission: no second run (to explain the failed visible checks) after it.
    assert result.timings["explain"] < 1


def test_an_output_flood_is_cut_while_running(toy, solved):
    flood = "def count_positive(x):\n    for _ in range(20000):\n        print('x' * 1000)\n    return int(np.sum(np.asarray(x) > 0))\n"
    state = core.make_state(replaced(solved, "count_positive", flood), toy, limits=FAST)
    state = pipeline.run(state)
    result = state.result
    assert any(r.code == Why.OUTPUT_CUT and "printed more than the output limit (256 KiB per cell" in r for r in result.reasons)
    assert scores(result)["count_positive_tests"] == 0
    assert "output was cut" in result.check("count_positive.visible").message
    cell = state.nb.cells[cell_index(state.nb, "count_positive_tests")]
    assert len(json.dumps(cell.outputs)) < 2 * 256 * 1024  # the 20 MB never reached memory


# --- input that is not gradable -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a notebook"),
        (b"def f(): pass\n", "not a notebook"),
        (b'{"cells": "none"}', "not a notebook"),
        (json.dumps({"nbformat": 3, "worksheets": [], "cells": []}).encode(), "not an nbformat 4 notebook"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_rejected(grade, tmp_path, content, reason):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    result = grade(path)
    assert result.status == REJECTED
    assert result.score == 0 and result.max_score == 10
    assert reason in result.reasons[0]
    assert "execute" not in result.timings


def test_a_notebook_of_another_assignment_is_rejected(grade, tmp_path):
    other = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "def sigmoid(z): pass", metadata={"nbgrader": {"grade_id": "sigmoid", "solution": True, "grade": False}}
            )
        ]
    )
    path = tmp_path / "other.ipynb"
    nbformat.write(other, path)
    result = grade(path)
    assert result.status == REJECTED
    assert "not a notebook of toy" in result.reasons[0] and result.reasons[0].code == Why.OTHER_ASSIGNMENT


def test_grading_a_file_and_json_round_trip(grade, solved, tmp_path):
    path = tmp_path / "student.ipynb"
    nbformat.write(replaced(solved, "scale", WRONG_SCALE), path)
    result = grade(path)
    assert result.submission == str(path)
    again = Result.from_json(result.to_json())
    assert again == result
    assert again.check("scale.visible").passed is False


def test_steps_are_named_and_selectable(grade, source_nb):
    assert pipeline.find_step("restore") is pipeline.restore
    with pytest.raises(KeyError, match="no pipeline step 'nope'"):
        pipeline.find_step("nope")
    result = grade(source_nb, steps=("read", "restore", "result"))  # no execution: nothing recorded
    assert result.score == 0
    assert set(result.timings) == {"read", "restore"}


def test_sandboxed_grading_gives_the_same_result(grade, solved):
    from autograder.grading import sandbox

    if not sandbox.available():
        pytest.skip("bubblewrap sandbox not available here")
    nb = replaced(solved, "scale", WRONG_SCALE)
    assert scores(grade(nb, sandbox=True)) == scores(grade(nb))


def test_expected_values_never_enter_the_grading_kernel():
    from autograder.grading.pipeline import strip_expected_values

    cell = 'y = f(3)\ncheck("f.visible", y, expected=[0.25, 0.5], rtol=1e-3)\ncheck("f.other", g(y), [9.0])\n'
    stripped = strip_expected_values(cell)
    assert "0.25" not in stripped and "9.0" not in stripped and "check(" not in stripped
    assert "record('f.visible', y)" in stripped and "record('f.other', g(y))" in stripped
    assert strip_expected_values("def broken(:\n") == "def broken(:\n"


def test_a_group_names_the_failed_function_it_uses(toy_copy, source_nb):
    """Issue #11.12: when a group lost points and a function it uses lost points too, the result says so."""
    from autograder import reference
    from autograder.grading import spec as spec_mod

    text = (toy_copy / "grading.toml").read_text()
    text = text.replace(
        'grade_id = "count_positive_tests"\ntitle = "count_positive"',
        'grade_id = "count_positive_tests"\ntitle = "count_positive"\nuses = ["scale"]',
    )
    (toy_copy / "grading.toml").write_text(text)
    toy = spec_mod.load(toy_copy)
    assert toy.group("count_positive_tests").uses == ("scale",)
    reference.write(toy, reference.build(toy))
    wrong_count = "def count_positive(x):\n    return int(np.sum(np.asarray(x) >= 0))\n"
    both_wrong = replaced(replaced(source_nb, "scale", WRONG_SCALE), "count_positive", wrong_count)
    result = core.grade(both_wrong, toy, limits=FAST, check_tampering=False)
    assert result.group("count_positive_tests").blocked_by == ["scale"]
    only_scale = core.grade(replaced(source_nb, "scale", WRONG_SCALE), toy, limits=FAST, check_tampering=False)
    assert only_scale.group("count_positive_tests").blocked_by == []  # full marks: nothing to explain
