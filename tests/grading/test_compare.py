"""Comparators, judged outside the kernel; hidden messages never show reference values."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.grading import compare
from autograder.grading.records import Value
from autograder.grading.result import Code, hidden_message
from autograder.grading.spec import Check


def arr(x) -> Value:
    a = np.asarray(x)
    return Value(kind="array", array=a, dtype=str(a.dtype))


def mk(compare_name: str, visible: bool = False, **params) -> Check:
    optional = compare.get(compare_name).optional
    return Check(name="f.x", group="f_tests", points=1, visible=visible, compare=compare_name, params={**optional, **params})


def judge(check: Check, got: Value, reference: Value | None = None, values=None, passed=None):
    """(passed, what a student would read): the grader's detail for visible checks, fixed words for hidden ones."""
    verdict = compare.get(check.compare).judge(got, check, compare.Context(reference=reference, values=values or {}, passed=passed or {}))
    return verdict.passed, verdict.detail if check.visible else hidden_message(verdict.code)


def test_registry_knows_every_comparator_and_its_parameters():
    assert set(compare.REGISTRY) == {"allclose", "equal", "in_range", "log_uniform", "same_as", "differs_from"}
    assert compare.get("log_uniform").required == ("low", "high")
    assert compare.get("same_as").relative and not compare.get("allclose").relative
    with pytest.raises(KeyError, match="unknown comparator"):
        compare.get("nope")


def test_structures_are_compared_item_by_item():
    ref = Value(kind="list", items=(arr([[1.0, 2.0]]), arr([3.0])))
    check = mk("allclose", visible=True)
    assert judge(check, Value(kind="list", items=(arr([[1.0, 2.0]]), arr([3.0 + 1e-9]))), ref)[0]
    ok, msg = judge(check, Value(kind="list", items=(arr([[1.0, 2.0]]), arr([3.5]))), ref)
    assert not ok and "wrong values" in msg
    ok, msg = judge(check, Value(kind="list", items=(arr([1.0, 2.0]), arr([3.0]))), ref)
    assert not ok and "wrong shape at [0]" in msg
    ok, msg = judge(check, Value(kind="list", items=(arr([[1.0, 2.0]]),)), ref)
    assert not ok and "wrong length" in msg
    fields = Value(kind="dict", fields={"a": arr(1.0), "b": Value(kind="str", text="log")})
    assert judge(mk("equal"), fields, fields)[0]
    other_keys = Value(kind="dict", fields={"a": arr(1.0)})
    verdict = compare.get("equal").judge(other_keys, mk("equal"), compare.Context(reference=fields, values={}, passed={}))
    assert verdict.code == Code.WRONG_SHAPE


def test_same_within_tolerance_follows_each_comparator():
    tight, loose = mk("allclose", rtol=0, atol=1e-9), mk("allclose", rtol=0, atol=1e-3)
    assert not tight.comparator.same_within_tolerance(arr([1.0]), arr([1.0001]), tight)
    assert loose.comparator.same_within_tolerance(arr([1.0]), arr([1.0001]), loose)
    assert not mk("equal").comparator.same_within_tolerance(arr([1]), arr([2]), mk("equal"))


@pytest.mark.parametrize("name", ["equal", "differs_from", "same_as"])
def test_a_rebuild_on_another_cpu_may_differ_in_the_last_bits_of_floats_only(name):
    # numpy's exp/log/power take other vector code on other CPUs: a seeded draw agrees to about one ulp.
    check = mk(name, **({"other": "f.y"} if name != "equal" else {}))
    same = check.comparator.same_within_tolerance
    draws = np.random.default_rng(0).random(50) + 0.5
    assert same(arr(draws), arr(np.nextafter(draws, 2.0)), check)
    assert not same(arr(draws), arr(draws * (1 + 1e-9)), check)
    assert not same(arr([1, 2, 3]), arr([1, 2, 4]), check)
    assert not same(arr(np.float32(draws)), arr(draws), check)  # another dtype is another value
    assert not same(Value(kind="str", text="a"), Value(kind="str", text="b"), check)


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
    ok, msg = judge(mk("equal", visible=True), Value(kind="error", text="cannot record a Liar"), arr(2))
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
    assert not ok and msg == "the values do not follow the asked distribution"  # hidden: fixed words
    shown = mk("log_uniform", visible=True, low=1e-4, high=1.0, alpha=0.001)
    assert "not log-uniform" in judge(shown, arr(rng.uniform(1e-4, 1.0, 2000)))[1]
    assert not judge(check, arr(10 ** rng.uniform(-5, 0, 2000)))[0]  # outside the range
    assert not judge(check, arr([0.1, 0.01]))[0]  # too few to tell


def test_relative_checks_need_a_right_partner():
    same = mk("same_as", visible=True, other="f.sample")
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


@pytest.mark.parametrize(
    "name, params",
    [
        ("allclose", {}),
        ("equal", {}),
        ("in_range", {"low": 0.0, "high": 1.0}),
        ("in_range", {"low": 0.0, "high": 1.0, "reference": True}),
        ("log_uniform", {"low": 1e-4, "high": 1.0, "reference": True}),
        ("log_uniform", {"low": 1e-4, "high": 1.0}),
        ("same_as", {"other": "f.y"}),
        ("differs_from", {"other": "f.y"}),
    ],
)
def test_a_pass_means_the_reference_only_where_the_comparator_says_so(name, params):
    """The feedback plot draws a passed check's reference in place of the student's values (pipeline.explain)
    only when this holds: a value in range but away from the reference must then fail."""
    check = mk(name, visible=True, **params)
    reference = arr(np.geomspace(1e-4, 1.0, 2000))
    away = arr(np.geomspace(1e-4, 1.0, 2000)[::-1].copy())  # in range, as log-uniform, not the reference
    values = {"f.y": reference if name == "differs_from" else away}  # the partner a relative check passes with
    passes_away = judge(check, away, reference, values=values, passed={"f.y": True})[0]
    assert compare.get(name).pass_means_reference(check.params) == (not passes_away)
