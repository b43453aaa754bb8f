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
