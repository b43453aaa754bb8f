"""Comparators: judge one recorded value, outside the student's kernel.

Each comparator is ``fn(got, check, ctx) -> (passed, message)`` and is registered by name (the
``compare`` key of a check in grading.toml). Messages of visible checks may show expected and got; messages
of hidden checks never show the reference value or the inputs, only what kind of thing is wrong.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from autograder.grading.records import Value
from autograder.grading.spec import Check

Verdict = tuple[bool, str]


@dataclasses.dataclass
class Context:
    """What a comparator may look at besides the value: the reference and the other checks' values."""

    reference: Value | None
    values: dict[str, Value]  # decoded values of the other checks of the submission
    passed: dict[str, bool]  # verdicts of checks judged so far (relative checks run last)


Comparator = Callable[[Value, Check, Context], Verdict]
REGISTRY: dict[str, Comparator] = {}


def register(name: str) -> Callable[[Comparator], Comparator]:
    def wrap(fn: Comparator) -> Comparator:
        REGISTRY[name] = fn
        return fn

    return wrap


def get(name: str) -> Comparator:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown comparator '{name}' (known: {', '.join(sorted(REGISTRY))})") from None


def _kind_name(v: Value) -> str:
    return {"array": "a number or array", "str": "text", "none": "None", "error": "an unreadable value"}[v.kind]


def _mismatch(check: Check, got: Value, want: Value, what: str) -> str:
    if check.visible:
        return f"{what}: expected {want.describe()}, got {got.describe()}"
    return what


def _unreadable(got: Value) -> Verdict | None:
    if got.kind == "error":
        return False, f"the value could not be recorded: {got.text[:200]}"
    return None


def _need_reference(ctx: Context) -> Value:
    if ctx.reference is None:
        raise LookupError("no reference value")
    return ctx.reference


def _same_structure(got: Value, want: Value, check: Check) -> Verdict | None:
    if got.kind != want.kind:
        if check.visible:
            return False, f"wrong type: expected {_kind_name(want)}, got {_kind_name(got)} ({got.describe()})"
        return False, f"wrong type: expected {_kind_name(want)}, got {_kind_name(got)}"
    if got.kind == "array":
        assert got.array is not None and want.array is not None
        if got.array.shape != want.array.shape:
            if check.visible:
                return False, f"wrong shape: expected {tuple(want.array.shape)}, got {tuple(got.array.shape)}"
            return False, "wrong shape"
    return None


def _exactly_equal(a: Value, b: Value) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "array":
        assert a.array is not None and b.array is not None
        return a.array.shape == b.array.shape and bool(np.array_equal(a.array, b.array, equal_nan=a.array.dtype.kind == "f" and b.array.dtype.kind == "f"))
    return a.text == b.text


@register("allclose")
def allclose(got: Value, check: Check, ctx: Context) -> Verdict:
    """Same shape, then numpy.allclose with the check's rtol/atol (NaN only matches NaN)."""
    want = _need_reference(ctx)
    bad = _unreadable(got) or _same_structure(got, want, check)
    if bad:
        return bad
    if got.kind != "array":
        return (True, "") if got.text == want.text else (False, _mismatch(check, got, want, "wrong value"))
    assert got.array is not None and want.array is not None
    a = got.array.astype(np.float64)
    b = want.array.astype(np.float64)
    if np.allclose(a, b, rtol=check.params["rtol"], atol=check.params["atol"], equal_nan=True):
        return True, ""
    if not check.visible:
        return False, "wrong values"
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b)
    worst = float(np.nanmax(err)) if err.size and not np.all(np.isnan(err)) else float("nan")
    return False, f"wrong values: expected {want.describe()}, got {got.describe()} (largest difference {worst:.3g})"


@register("equal")
def equal(got: Value, check: Check, ctx: Context) -> Verdict:
    """Exactly equal: for integers, text, shapes and dtype names."""
    want = _need_reference(ctx)
    bad = _unreadable(got) or _same_structure(got, want, check)
    if bad:
        return bad
    if _exactly_equal(got, want):
        return True, ""
    return False, _mismatch(check, got, want, "wrong value")


def _numbers(got: Value, check: Check) -> tuple[np.ndarray | None, str]:
    if got.kind == "error":
        return None, f"the value could not be recorded: {got.text[:200]}"
    if got.kind != "array":
        return None, f"expected numbers, got {_kind_name(got)}"
    assert got.array is not None
    if got.array.size == 0:
        return None, "expected numbers, got an empty array"
    return got.array.astype(np.float64).ravel(), ""


def _with_reference(got: Value, check: Check, ctx: Context) -> Verdict:
    # Property comparators may also demand the exact reference draw (``reference = true``).
    if check.params.get("reference"):
        return allclose(got, check, ctx)
    return True, ""


@register("in_range")
def in_range(got: Value, check: Check, ctx: Context) -> Verdict:
    """Every value finite and within [low, high]."""
    x, why = _numbers(got, check)
    if x is None:
        return False, why
    low, high = check.params["low"], check.params["high"]
    if not np.all(np.isfinite(x)) or np.any(x < low) or np.any(x > high):
        return False, f"values outside [{low:g}, {high:g}]" if check.visible else "values outside the allowed range"
    return _with_reference(got, check, ctx)


@register("log_uniform")
def log_uniform(got: Value, check: Check, ctx: Context) -> Verdict:
    """Kolmogorov-Smirnov test of log10(values) against uniform on [log10 low, log10 high]."""
    from scipy import stats

    x, why = _numbers(got, check)
    if x is None:
        return False, why
    low, high = check.params["low"], check.params["high"]
    if not np.all(np.isfinite(x)) or np.any(x < low) or np.any(x > high):
        return False, "values outside the allowed range"
    if x.size < 20:
        return False, "too few values to test the distribution"
    lo, hi = np.log10(low), np.log10(high)
    p = float(stats.kstest(np.log10(x), "uniform", args=(lo, hi - lo)).pvalue)
    if p < check.params["alpha"]:
        return False, f"not log-uniform (Kolmogorov-Smirnov p = {p:.2g})"
    return _with_reference(got, check, ctx)


def _other(check: Check, ctx: Context) -> tuple[Value | None, str]:
    other = check.params["other"]
    if other not in ctx.values:
        return None, f"'{other}' was not recorded, so nothing to compare with"
    if not ctx.passed.get(other, False):
        # Repeating a wrong value proves nothing: a relative check counts only when its partner is right.
        return None, f"'{other}' is not right yet"
    return ctx.values[other], ""


def _relative(got: Value, check: Check, ctx: Context, *, should_equal: bool) -> Verdict:
    bad = _unreadable(got)
    if bad:
        return bad
    other, why = _other(check, ctx)
    if other is None:
        return False, why
    if _exactly_equal(got, other) == should_equal:
        return True, ""
    if should_equal:
        return False, f"differs from '{check.params['other']}' although it should repeat it"
    return False, f"equals '{check.params['other']}' although it should differ"


@register("same_as")
def same_as(got: Value, check: Check, ctx: Context) -> Verdict:
    """Exactly the value of the check ``other`` (e.g. the same seed gives the same draw)."""
    return _relative(got, check, ctx, should_equal=True)


@register("differs_from")
def differs_from(got: Value, check: Check, ctx: Context) -> Verdict:
    """Not exactly the value of the check ``other`` (e.g. another seed gives another draw)."""
    return _relative(got, check, ctx, should_equal=False)
