"""Reading records: only instructor test cells, only their group's names; bad payloads fail one check."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from autograder.grading import records, spec
from tests import toy_course

TOY = spec.load(toy_course.TOY)
ENC = {"type": "array", "kind": "float", "dtype": "float64", "shape": [2], "data": [3.0, 6.0]}


def rec(name, value=ENC):
    return nbformat.v4.new_output("display_data", data={records.MIME: {"name": name, "value": value}, "text/plain": "r"})


def notebook(outputs_by_id: dict[str, list]) -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade_id": "student_cell"}}, outputs=outputs_by_id.pop("student_cell", []))
    ]
    for gid, outs in outputs_by_id.items():
        cells.append(nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade_id": gid, "grade": True}}, outputs=outs))
    return nbformat.v4.new_notebook(cells=cells)


def test_reads_values_from_the_test_cell():
    got = records.collect(notebook({"scale_tests": [rec("scale.visible")]}), TOY)
    value = got["scale.visible"].value
    assert value.kind == "array" and np.array_equal(value.array, [3.0, 6.0])
    assert got["scale.hidden"].problem == "not recorded"
    assert "did not run" in got["count_positive.hidden"].problem


def test_records_elsewhere_or_of_other_groups_do_not_count():
    nb = notebook({"student_cell": [rec("scale.visible")], "scale_tests": [rec("count_positive.hidden")], "count_positive_tests": []})
    got = records.collect(nb, TOY)
    assert got["scale.visible"].value is None
    assert got["count_positive.hidden"].value is None


def test_a_name_recorded_twice_fails():
    got = records.collect(notebook({"scale_tests": [rec("scale.visible"), rec("scale.visible")]}), TOY)
    assert got["scale.visible"].problem == "recorded more than once (2 times)"


@pytest.mark.parametrize(
    "value",
    [
        "not a dict",
        {"type": "array", "kind": "float", "shape": [3], "data": [1.0, 2.0]},
        {"type": "array", "kind": "float", "shape": [-1], "data": []},
        {"type": "array", "kind": "complex", "shape": [1], "data": [1]},
        {"type": "array", "kind": "int", "shape": [1], "data": [1.5]},
        {"type": "array", "kind": "float", "shape": [1], "data": ["NaNish"]},
        {"type": "array", "kind": "int", "shape": [1], "data": [2**70]},
        {"type": "pickle", "value": "..."},
        {"type": "str", "value": 3},
    ],
)
def test_malformed_payloads_fail_only_their_check(value):
    got = records.collect(notebook({"scale_tests": [rec("scale.visible", value), rec("scale.hidden")]}), TOY)
    assert got["scale.visible"].problem.startswith("malformed record")
    assert got["scale.hidden"].value is not None


def test_nameless_payloads_are_ignored():
    bad = nbformat.v4.new_output("display_data", data={records.MIME: ["x"], "text/plain": "r"})
    got = records.collect(notebook({"scale_tests": [bad, rec("scale.visible")]}), TOY)
    assert got["scale.visible"].value is not None


def test_special_floats_and_scalars_round_trip():
    value = records.decode({"type": "array", "kind": "float", "dtype": "float32", "shape": [3], "data": ["nan", "inf", 1.5]})
    assert np.isnan(value.array[0]) and np.isinf(value.array[1]) and value.dtype == "float32"
    scalar = records.decode({"type": "array", "kind": "int", "dtype": "int64", "shape": [], "data": [5]})
    assert scalar.array.shape == () and scalar.array == 5
