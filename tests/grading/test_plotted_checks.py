"""What the feedback plot of a visible check shows, and when drawing it costs a second run (pipeline ``explain``).

The plot may show nothing from the graded run (its kernel held the hidden tests). A plotted check that passed
under a comparator whose pass means "the reference within the tolerance" is drawn from its public reference
series, with no second run; any other plotted check is drawn from the run without hidden tests.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from autograder import reference
from autograder.grading import core, spec
from tests.toy_course import FAST, TOY, replaced, solved

VISIBLE = '  name = "scale.visible"\n  points = 1\n  visible = true\n  compare = "allclose"\n'
WRONG_SCALE = "def scale(x, a):\n    return a * np.asarray(x, dtype=np.float64) + 1.0\n"


def _plotted_toy(folder, compare: str):
    target = folder / "toy"
    shutil.copytree(TOY, target)
    toml = target / "grading.toml"
    assert VISIBLE in toml.read_text()
    toml.write_text(toml.read_text().replace(VISIBLE, VISIBLE.replace('compare = "allclose"\n', compare + '  plot = "scaled x"\n'), 1))
    toy = spec.load(target)
    reference.write(toy, reference.build(toy))
    return toy


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    return _plotted_toy(tmp_path_factory.mktemp("pinned"), 'compare = "allclose"\n')


@pytest.fixture(scope="module")
def unpinned(tmp_path_factory):
    # in_range without reference = true: a pass says the values lie in a range, not what they are
    return _plotted_toy(tmp_path_factory.mktemp("unpinned"), 'compare = "in_range"\n  low = -100.0\n  high = 100.0\n')


def _reference_series(toy) -> list[float]:
    return [float(x) for x in reference.load(toy)["scale.visible"].array.ravel()]


def test_a_pass_is_drawn_from_the_reference_and_needs_no_second_run(pinned):
    result = core.grade(solved(pinned.folder), pinned, limits=FAST)
    assert result.score == result.max_score
    assert result.check("scale.visible").series == _reference_series(pinned)
    assert result.timings["explain"] < 0.05  # no kernel was started for it


def test_a_failure_is_drawn_from_the_run_without_hidden_tests(pinned):
    result = core.grade(replaced(solved(pinned.folder), "scale", WRONG_SCALE), pinned, limits=FAST)
    visible = result.check("scale.visible")
    assert not visible.passed
    assert visible.series == [x + 1.0 for x in _reference_series(pinned)]  # the student's own values
    assert result.timings["explain"] > 0.05


def test_a_pass_that_does_not_pin_the_value_is_drawn_from_the_run_without_hidden_tests(unpinned, pinned):
    # Both scale the same inputs; only the clean run can tell what this one returned.
    halved = replaced(solved(unpinned.folder), "scale", "def scale(x, a):\n    return 0.5 * a * np.asarray(x, dtype=np.float64)\n")
    result = core.grade(halved, unpinned, limits=FAST)
    visible = result.check("scale.visible")
    assert visible.passed
    assert np.allclose(visible.series, [0.5 * x for x in _reference_series(pinned)])
    assert result.timings["explain"] > 0.05
