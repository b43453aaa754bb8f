"""grading.toml: loading, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.grading import spec
from tests.toy_course import TOY, cell_index


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "grading.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_loads_the_toy_spec():
    toy = spec.load(TOY)
    assert toy.name == "toy" and toy.cell_timeout == 20 and toy.skip_tag == "skip-grading"
    assert [g.grade_id for g in toy.groups] == ["scale_tests", "draw_rates_tests", "count_positive_tests"]
    assert toy.max_score == 10
    sample = toy.check("draw_rates.sample")
    assert sample.compare == "log_uniform" and sample.params["alpha"] == 0.001 and not sample.visible
    assert toy.check("scale.visible").params == {"rtol": 1e-5, "atol": 1e-6}  # defaults filled in
    assert toy.check("draw_rates.small").needs_reference and not sample.needs_reference


@pytest.mark.parametrize(
    "old,new,message",
    [
        ('compare = "equal"', 'compare = "roughly"', "'compare' = 'roughly' is not one of"),
        ("  low = 1e-4\n  high = 1.0\n  alpha", "  high = 1.0\n  alpha", "comparator 'log_uniform' needs key 'low'"),
        ("cell_timeout = 20", "cell_timout = 20", "unknown key(s) 'cell_timout'"),
        (
            '  points = 1\n  visible = true\n  compare = "allclose"',
            '  points = "one"\n  visible = true\n  compare = "allclose"',
            "key 'points' must be a number",
        ),
        ('name = "scale.hidden"\n', 'name = "scale.visible"\n', "check name 'scale.visible' is used twice"),
        ('other = "draw_rates.sample"', 'other = "draw_rates.nothing"', "'other' = 'draw_rates.nothing' is not a check"),
        ('grade_id = "count_positive_tests"', 'grade_id = "count_tests"', "group 'count_tests' of grading.toml has no cell"),
        ('name = "toy"', 'name = "toys"', "differs from the folder name"),
        ("[assignment]", "[assignment", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(toy_copy, old, new, message):
    edit(toy_copy, old, new)
    with pytest.raises(spec.SpecError) as err:
        spec.load(toy_copy)
    assert message in str(err.value)
    assert str(toy_copy) in str(err.value)


def test_points_of_a_test_cell_must_equal_its_checks(toy_copy):
    path = toy_copy / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[cell_index(nb, "scale_tests")].metadata.nbgrader["points"] = 4
    nbformat.write(nb, path)
    with pytest.raises(spec.SpecError, match="'scale_tests' has nbgrader points 4 but its checks in grading.toml add up to 3"):
        spec.load(toy_copy)


def test_a_test_cell_without_a_group_is_an_error(toy_copy):
    path = toy_copy / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    extra = nbformat.v4.new_code_cell(
        "pass", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "extra_tests", "points": 1, "locked": True}}
    )
    nb.cells.append(extra)
    nbformat.write(nb, path)
    with pytest.raises(spec.SpecError, match="test cell 'extra_tests' has no \\[\\[group\\]\\]"):
        spec.load(toy_copy)


def test_unknown_assignment_lists_the_known_ones():
    with pytest.raises(spec.SpecError, match="no grading spec at .*no_such_assignment"):
        spec.load("no_such_assignment")
