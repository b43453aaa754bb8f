"""A submission that reads the hidden tests out of its own kernel finds none of them on any page (issue #10.2).

While a test cell runs, its whole source is in the kernel: IPython's input history holds it, hidden tests
included (after ``prepare`` the markers are gone but the calls are there). A student function can return it,
raise it, print it, name files after it or encode it in a shape. Points come from that run; what pages show
comes from a second run without hidden tests (pipeline step ``explain``), or from the grader's fixed codes.
"""

from __future__ import annotations

import pytest

from autograder.grading.result import Code
from autograder.report import csv_export, feedback
from tests.toy_course import FAST, replaced

# Pieces of the toy's hidden tests: inputs that appear nowhere in the released notebook.
SECRETS = ("arange", "reshape(2", "linspace", "2000, 7", "ones((4", "draw_rates(3", "scale.hidden_shape'")

# Reads every cell source this kernel ran so far, the running one included.
HISTORY = """
def _history():
    ip = get_ipython()
    return "\\n".join(ip.user_ns.get("In", []))


def _secret():
    text = _history()
    at = text.find("rec" + "ord('")  # the test cell's own calls, as the grader rewrote them
    return text[at:at + 180] if at >= 0 else text[-180:]
"""

ATTACKS = {
    # as the "got" of a visible check
    "return_value": "def scale(x, a):\n    return _secret()\n",
    # as the text of an exception raised in the visible check (and in the hidden ones)
    "exception_text": "def scale(x, a):\n    raise ValueError(_secret())\n",
    # as the name of an exception class, raised only once the hidden tests began
    "exception_name": (
        "def scale(x, a):\n"
        "    if 'arange' in _history():\n"
        "        raise type('Leak_' + ''.join(c if c.isalnum() else '_' for c in _secret()), (Exception,), {})()\n"
        "    return a * np.asarray(x, dtype=np.float64) + 1.0\n"
    ),
    # as printed output and as file names in the working folder
    "print_and_files": (
        "def scale(x, a):\n"
        "    import os\n"
        "    print(_secret())\n"
        "    open(''.join(c if c.isalnum() else '_' for c in _secret())[:100], 'w').close()\n"
        "    return a * np.asarray(x, dtype=np.float64) + 1.0\n"
    ),
    # as the shape of the returned array: one entry per character code of the secret
    "shape_and_values": "def scale(x, a):\n    return np.array([float(ord(c)) for c in _secret()])\n",
}


def attack(solved, body: str):
    nb = replaced(solved, "scale", HISTORY + "\n" + body)
    # The same leak through another group's visible check: draw_rates runs after scale's hidden tests.
    return replaced(nb, "draw_rates", HISTORY + "\ndef draw_rates(n, seed):\n    return _secret()\n")


@pytest.mark.parametrize("label", sorted(ATTACKS))
def test_hidden_tests_never_reach_a_page(label, solved, grade, toy, tmp_path):
    result = grade(attack(solved, ATTACKS[label]))
    assert result.check("scale.hidden").passed is False
    page = feedback.render_feedback(toy, result, student="mallory")
    csv_path = tmp_path / "grades.csv"
    csv_export.write_grades_csv(csv_path, toy, {"mallory": result})
    shown = "\n".join([page, csv_path.read_text(), result.to_json()])
    # to_json is what the batch stores and the site would serve: nothing hidden in it either
    leaked = [s for s in SECRETS if s in shown]
    assert leaked == [], f"{label}: hidden test text reached what students see: {leaked}"


def test_the_attack_does_read_the_hidden_tests_in_the_graded_run(solved, toy):
    """Positive control: in the graded run the returned text holds the hidden tests, so the test above means
    something; only the explain step keeps it off the page."""
    from autograder.grading import core, pipeline

    state = core.make_state(attack(solved, ATTACKS["return_value"]), toy, limits=FAST)
    state = pipeline.run(state)
    graded_value = state.collected["scale.visible"].value
    assert graded_value is not None and "arange" in graded_value.text
    assert "arange" not in state.result.check("scale.visible").message


def test_visible_failure_shows_expected_and_got_from_the_clean_run(solved, grade):
    result = grade(replaced(solved, "scale", "def scale(x, a):\n    return a * np.asarray(x, dtype=np.float64) + 1.0\n"))
    visible = result.check("scale.visible")
    assert visible.code == Code.WRONG_VALUES
    assert "expected" in visible.message and "[4. 7.]" in visible.message
    assert result.timings.get("explain", 0) > 0


def test_no_second_run_when_every_visible_check_passed(solved, grade):
    result = grade(solved)
    assert result.score == result.max_score
    assert "explain" in result.timings and result.timings["explain"] < 0.05
