"""selfcheck, the helper beside every notebook: its encoding is the contract with the grader's decoder."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.grading import compare, records
from autograder.grading.records import Kind
from autograder.student import selfcheck

VALUES = {
    "float scalar": (1.5, Kind.ARRAY),
    "int array": (np.arange(6).reshape(2, 3), Kind.ARRAY),
    "bool array": (np.array([True, False]), Kind.ARRAY),
    "float32 with nan and inf": (np.array([np.nan, np.inf, -np.inf, 0.25], dtype=np.float32), Kind.ARRAY),
    "list of numbers": ([1.0, 2.0, 3.0], Kind.ARRAY),
    "empty array": (np.zeros((0, 3)), Kind.ARRAY),
    "text": ("float32", Kind.STR),
    "none": (None, Kind.NONE),
    "arrays of different shapes": ((np.zeros((2, 2)), np.ones((2, 1))), Kind.LIST),
    "mixed text and numbers": (("log", 1e-4, 0.1), Kind.LIST),
    "dict": ({"W": np.eye(2), "b": np.zeros((2, 1)), "name": "layer"}, Kind.DICT),
    "nested": ({"space": {"lr": ("log", 1e-5, 1.0)}, "trials": [({"lr": 0.01}, 0.5)]}, Kind.DICT),
    "unreadable object": (object(), Kind.ERROR),
    "complex numbers": (np.array([1 + 2j]), Kind.ERROR),
}


@pytest.mark.parametrize("label", sorted(VALUES))
def test_encode_decode_round_trip(label):
    value, kind = VALUES[label]
    payload = selfcheck.encode(value)
    decoded = records.decode(payload)  # the grader validates what the kernel sends
    assert decoded.kind == kind
    if kind == Kind.ARRAY:
        expected = np.asarray(value)
        assert decoded.array.shape == expected.shape
        assert np.array_equal(decoded.array, expected.astype(decoded.array.dtype), equal_nan=decoded.array.dtype.kind == "f")
    # the student-side decoder agrees with the encoding it wrote: decode then encode gives the same value
    if kind != Kind.ERROR:
        again = records.decode(selfcheck.encode(selfcheck.decode(payload)))
        assert compare._exactly_equal(again, decoded)


def test_deep_or_huge_structures_are_refused_not_recursed():
    nested = [1]
    for _ in range(10):
        nested = [nested, "x"]
    assert selfcheck.encode(nested)["type"] in ("list", "error")
    with pytest.raises(records.MalformedRecord):
        records.decode(
            {
                "type": "list",
                "items": [
                    {"type": "list", "items": [{"type": "list", "items": [{"type": "list", "items": [{"type": "list", "items": []}]}]}]}
                ],
            }
        )
    assert selfcheck.encode(list(range(10_000)))["type"] == "array"  # numbers stay one array
    assert selfcheck.encode([np.zeros(1), "x"] * 200)["type"] == "error"  # over 256 items


def test_failed_message_says_what_the_grader_would(capsys, monkeypatch):
    monkeypatch.setattr(selfcheck, "record", lambda name, value: None)
    assert not selfcheck.check("f.shape", np.zeros((6, 3)), expected=np.zeros((4, 6)))
    assert "FAILED  f.shape: wrong shape: expected (4, 6), got (6, 3)" in capsys.readouterr().out
    assert not selfcheck.check("f.values", [1.0, 2.5], expected=[1.0, 2.0], atol=0.1)
    assert "wrong values (largest difference 0.5; rtol 1e-05, atol 0.1)" in capsys.readouterr().out
    assert not selfcheck.check("f.type", "text", expected=1.0)
    assert "wrong type: expected a number or array, got text" in capsys.readouterr().out
    assert selfcheck.check("f.derived", {"W": np.ones(2)}, expected=2.0, derive=lambda p: p["W"].sum())
    assert "PASSED  f.derived" in capsys.readouterr().out
