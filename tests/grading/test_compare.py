"""Comparators, judged outside the kernel; hidden messages never show reference values."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.grading import compare
from autograder.grading.records import Value
from autograder.grading.spec import COMPARATOR_PARAMS, Check


def arr(x) -> Value:
    a = np.asarray(x)
    return Value(kind="array", array=a, dtype=str(a.dtype))


def mk(compare_name: str, visible: bool = False, **params) -> Check:
    required, optional = COMPARATOR_PARAMS[compare_name]
    return Check(name="f.x", group="f_tests", points=1, visible=visible, compare=compare_name, params={**optional, **params})


def judge(check: Check, got: Value, reference: Value | None = None, values=None, passed=None):
    return compare.get(check.compare)(got, check, compare.Context(reference=reference, values=values or {}, passed=passed or {}))


def test_registry_knows_every_comparator_of_the_spec():
    assert set(compare.REGISTRY) == set(COMPARATOR_PARAMS)
    with pytest.raises(KeyError, match="unknown comparator"):
        compare.get("nope")


def test_allclose_uses_the_tolerances():
    ref = arr([1.0, 2.0])
    assert judge(mk("allclose", rtol=1e-3, atol=0), arr([1.0005, 2.001]), ref)[0]
    assert not judge(mk("allclose", rtol=1e-5, atol=0), arr([1.0005, 2.001]), ref)[0]
    assert not judge(mk("allclose"), arr([[1.0, 2.0]]), ref)[0]  # shape must match, no broadcasting
    assert judge(mk("allclose"), arr([np.nan, 1.0]), arr([np.nan, 1.0]))[0]
    assert not judge(mk("allclose"), arr([np.nan, 1.0]), arr([0.0, 1.0]))[0]


def test_visible_message_shows_expected_and_got_hidden_does_not():
    ref = arr([0.123456, 9.87654])
    ok, visible = judge(mk("allclose", visible=True), arr([0.5, 9.87654]), ref)
    assert not ok and "0.123456" in visible and "0.5" in visible
    ok, hidden = judge(mk("allclose"), arr([0.5, 9.87654]), ref)
    assert not ok and hidden == "wrong values"
    ok, hidden = judge(mk("equal"), arr([1, 2, 3]), arr([4, 5]))
    assert hidden == "wrong shape"
    ok, hidden = judge(mk("equal"), Value(kind="str", text="float32"), Value(kind="str", text="float64"))
    assert not ok and "float" not in hidden


def test_equal_is_exact_and_checks_type():
    assert judge(mk("equal"), arr([4, 1]), arr([4, 1]))[0]
    assert not judge(mk("equal"), arr([4, 1]), arr([4, 2]))[0]
    assert not judge(mk("equal"), arr(2.0000001), arr(2.0))[0]
    ok, msg = judge(mk("equal"), Value(kind="str", text="2"), arr(2))
    assert not ok and "wrong type" in msg
    ok, msg = judge(mk("equal"), Value(kind="error", text="cannot record a Liar"), arr(2))
    assert not ok and "could not be recorded" in msg


def test_in_range_and_reference_option():
    check = mk("in_range", low=0.0, high=1.0)
    assert judge(check, arr([0.0, 0.5, 1.0]))[0]
    assert not judge(check, arr([0.5, 1.5]))[0]
    assert not judge(check, arr([0.5, np.nan]))[0]
    with_ref = mk("in_range", low=0.0, high=1.0, reference=True)
    assert judge(with_ref, arr([0.2, 0.3]), arr([0.2, 0.3]))[0]
    assert not judge(with_ref, arr([0.2, 0.3]), arr([0.3, 0.2]))[0]


def test_log_uniform_tells_log_uniform_from_uniform():
    rng = np.random.default_rng(0)
    check = mk("log_uniform", low=1e-4, high=1.0, alpha=0.001)
    assert judge(check, arr(10 ** rng.uniform(-4, 0, 2000)))[0]
    ok, msg = judge(check, arr(rng.uniform(1e-4, 1.0, 2000)))
    assert not ok and "not log-uniform" in msg
    assert not judge(check, arr(10 ** rng.uniform(-5, 0, 2000)))[0]  # outside the range
    assert not judge(check, arr([0.1, 0.01]))[0]  # too few to tell


def test_relative_checks_need_a_right_partner():
    same = mk("same_as", other="f.sample")
    differs = mk("differs_from", other="f.sample")
    sample = arr([0.1, 0.2])
    values = {"f.sample": sample}
    assert judge(same, arr([0.1, 0.2]), values=values, passed={"f.sample": True})[0]
    assert not judge(same, arr([0.1, 0.3]), values=values, passed={"f.sample": True})[0]
    ok, msg = judge(same, arr([0.1, 0.2]), values=values, passed={"f.sample": False})
    assert not ok and "not right yet" in msg  # repeating a wrong value proves nothing
    assert judge(differs, arr([0.3, 0.2]), values=values, passed={"f.sample": True})[0]
    assert not judge(differs, arr([0.1, 0.2]), values=values, passed={"f.sample": True})[0]
    assert not judge(differs, arr([0.3]), values={}, passed={})[0]
