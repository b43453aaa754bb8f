"""Reference values: built by running the source solution, refused when the source disagrees with itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autograder import config, course, reference
from autograder.grading import records, spec


def edit_source(folder: Path, old: str, new: str) -> None:
    path = folder / "toy.ipynb"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_build_records_every_check_with_versions(toy_copy):
    toy = spec.load(toy_copy)
    doc = reference.build(toy)
    assert sorted(doc["values"]) == sorted(c.name for c in toy.checks())
    assert doc["meta"]["numpy"] == np.__version__ and doc["assignment"] == "toy"
    reference.write(toy, doc)
    values = reference.load(toy)
    assert np.array_equal(values["scale.hidden"].array, -0.5 * np.arange(6.0).reshape(2, 3))
    assert values["count_positive.hidden"].array == 5
    assert not list(toy_copy.glob(".*.tmp"))  # nothing half-written left behind


def test_a_check_the_source_does_not_record_fails_the_build(toy_copy):
    edit_source(toy_copy, 'record(\\"scale.hidden_shape\\", scale(np.ones((4, 1)), 2.0).shape)\\n",', '",')
    with pytest.raises(reference.ReferenceValuesError, match="check 'scale.hidden_shape' \\(scale_tests\\): not recorded"):
        reference.build(spec.load(toy_copy))


def test_a_visible_expected_value_that_disagrees_with_the_solution_fails_the_build(toy_copy):
    edit_source(toy_copy, "expected=[3.0, 6.0]", "expected=[3.0, 7.0]")
    with pytest.raises(reference.ReferenceValuesError, match="visible check 'scale.visible' printed FAILED"):
        reference.build(spec.load(toy_copy))


def test_mismatches_use_each_checks_tolerance(toy_copy):
    toy = spec.load(toy_copy)
    fresh = {k: records.decode(v) for k, v in reference.build(toy)["values"].items()}
    stored = {k: records.Value(**vars(v)) for k, v in fresh.items()}
    assert reference.mismatches(toy, stored, fresh) == []
    stored["scale.hidden"] = records.Value(kind="array", array=fresh["scale.hidden"].array * (1 + 1e-9))
    assert reference.mismatches(toy, stored, fresh) == []  # inside rtol 1e-7 (atol is 0 for this check)
    stored["scale.hidden"] = records.Value(kind="array", array=fresh["scale.hidden"].array + 1e-3)
    stored["count_positive.hidden"] = records.Value(kind="array", array=np.asarray(4))
    bad = reference.mismatches(toy, stored, fresh)
    assert len(bad) == 2 and bad[0].startswith("scale.hidden: differs by up to 0.001")


def test_load_explains_missing_values(toy_copy):
    toy = spec.load(toy_copy)
    with pytest.raises(reference.ReferenceValuesError, match="run `autograder reference build --assignments toy`"):
        reference.load(toy)
    doc = reference.build(toy)
    del doc["values"]["scale.hidden"]
    reference.write(toy, doc)
    with pytest.raises(reference.ReferenceValuesError, match="no reference value for scale.hidden"):
        reference.load(toy)
    toy.reference_path.write_text("{not json")
    with pytest.raises(reference.ReferenceValuesError, match="not a valid reference file"):
        reference.load(toy)


@pytest.mark.slow
@pytest.mark.parametrize("name", course.assignment_names())
def test_stored_reference_values_match_a_rebuild(name, capsys):
    code = reference.run(config.ReferenceCheck(assignments=(name,)))
    assert code == 0, capsys.readouterr().err
    stored = json.loads(spec.load(name).reference_path.read_text())
    assert stored["assignment"] == name
