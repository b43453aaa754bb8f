"""Tests of the tf_basics assignment only.

The conventions every assignment follows (cells, checks, variants, release, plain Jupyter, release scores
zero) are in tests/assignments/test_conventions.py; the variant harness is tests/assignments/test_variants.py.
"""

from __future__ import annotations

import nbformat
import pytest

from autograder import course
from autograder.grading import spec as spec_mod

NAME = "tf_basics"


@pytest.fixture(scope="module")
def spec():
    return spec_mod.load(NAME)


def test_grading_has_23_checks_worth_23_points(spec):
    assert len(list(spec.checks())) == 23 and spec.max_score == 23


def test_release_hides_the_tensorflow_calls(spec):
    released = nbformat.read(course.RELEASE_DIR / NAME / f"{NAME}.ipynb", as_version=4)
    code = "\n".join(c.source for c in released.cells if c.cell_type == "code")
    # One stub per graded function, and none of the one-line answers survives outside the solutions.
    assert code.count("raise NotImplementedError()") == len(spec.groups)
    for answer in ("tf.one_hot(labels, depth=C, axis=0)", "tf.math.sigmoid(z)", "sigmoid_cross_entropy_with_logits(labels"):
        assert answer not in code


@pytest.mark.slow
def test_solution_gets_full_marks_with_one_thread(monkeypatch):
    """Reference values were built with the default thread count; one thread must still pass every check."""
    from autograder.grading.core import grade

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    result = grade(course.SOURCE_DIR / NAME / f"{NAME}.ipynb", NAME)
    failed = [(c.name, c.message) for c in result.checks if not c.passed]
    assert failed == [] and result.score == result.max_score == 23


@pytest.mark.slow
def test_the_chinese_notebook_solved_scores_full_marks_and_a_wrong_one_gets_chinese_feedback(spec):
    """The released Chinese notebook (tf_basics.zh.ipynb), as a student who reads Chinese hands it in."""
    import re

    from autograder.grading.core import grade
    from autograder.report import feedback
    from tests.toy_course import fill_in, replaced

    chinese = nbformat.read(course.RELEASE_DIR / NAME / f"{NAME}.zh.ipynb", as_version=4)
    solved = fill_in(chinese, spec_mod.read_source(spec))
    result = grade(solved, spec)
    assert [(c.name, c.message) for c in result.checks if not c.passed] == []
    assert result.score == result.max_score == 23 and result.language == "zh" and result.tampering == []
    assert '<html lang="zh-CN">' in feedback.render_feedback(spec, result)

    wrong = replaced(solved, "sigmoid", "def sigmoid(z):\n    return 1 / (1 + tf.exp(tf.cast(z, tf.float32)))\n")
    result = grade(wrong, spec)
    assert result.language == "zh" and result.group("sigmoid_tests").score == 0
    page = re.sub(r"<pre>.*?</pre>", "", feedback.render_feedback(spec, result).split("<main>")[1], flags=re.S)
    assert spec.hint("sigmoid_tests", "zh") in page and re.search(r"[\u4e00-\u9fff]", spec.hint("sigmoid_tests", "zh"))
    assert "数值不对" in page
    for english in ("wrong values", "Hint:", "Feedback for", spec.hint("sigmoid_tests")):
        assert english not in page
