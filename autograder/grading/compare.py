"""Comparators: judge one recorded value, outside the student's kernel.

A comparator is one object (a subclass of ``Comparator``, registered by its ``name``, the ``compare`` key of a
check in grading.toml) that knows its parameters and their defaults, validates them, says whether it reads the
stored reference value, judges a value, and tells whether two reference builds agree within tolerance.
Adding a comparator is one class here.

``judge`` returns a ``Verdict``: passed, a ``Code`` (what kind of thing is wrong) and ``detail``, a sentence the
grader writes from the values (expected and got). Only visible checks ever show ``detail``, and only from a
run without hidden tests; hidden checks show their code alone.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from autograder.grading.records import Kind, Value
from autograder.grading.result import Code

if TYPE_CHECKING:
    from autograder.grading.spec import Check


class ParameterError(ValueError):
    """A comparator parameter in grading.toml is missing or has a wrong value (the spec adds where)."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    passed: bool
    code: Code
    detail: str = ""  # written by the grader from the values; shown only for visible checks

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True, Code.PASSED)


@dataclasses.dataclass
class Context:
    """What a comparator may look at besides the value: the reference and the other checks' values."""

    reference: Value | None
    values: dict[str, Value]  # decoded values of the other checks of the submission
    passed: dict[str, bool]  # verdicts of checks judged so far (relative checks run last)


_KIND_NAME = {
    Kind.ARRAY: "a number or array",
    Kind.STR: "text",
    Kind.NONE: "None",
    Kind.ERROR: "an unreadable value",
    Kind.LIST: "a list",
    Kind.DICT: "a dict",
}


def _number_param(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"key '{key}' must be a finite number, got {value!r}")


class Comparator:
    """Base class: parameters (required, optional with defaults) and the four operations."""

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[dict[str, Any]] = {}
    relative: ClassVar[bool] = False  # judged against another check of the same submission (judged last)

    def validate(self, params: dict[str, Any]) -> None:
        """Raise ParameterError for a bad parameter (types first; subclasses add relations)."""
        for key, value in params.items():
            if key == "other":
                if not isinstance(value, str):
                    raise ParameterError(f"key 'other' must be a check name, got {value!r}")
            elif key == "reference":
                if not isinstance(value, bool):
                    raise ParameterError(f"key 'reference' must be true or false, got {value!r}")
            else:
                _number_param(key, value)

    def needs_reference(self, params: dict[str, Any]) -> bool:
        return False

    def pass_means_reference(self, params: dict[str, Any]) -> bool:
        """Whether a pass means the value is the reference value within the check's tolerance."""
        return False

    def judge(self, got: Value, check: Check, ctx: Context) -> Verdict:
        raise NotImplementedError

    def same_within_tolerance(self, a: Value, b: Value, check: Check) -> bool:
        """Whether two builds of the reference value agree (``autograder reference check``).

        Integers and text must be equal; floats may differ in their last bits (``REBUILD_RTOL``): numpy's exp,
        log and power use other vector code on other CPUs, so a seeded draw is the same number on every
        machine only to about one unit in the last place.
        """
        return _structure(a, b) is None and _close(a, b, REBUILD_RTOL, 0.0)[0] and _exactly_equal_but_floats(a, b)


REGISTRY: dict[str, Comparator] = {}


def register(cls: type[Comparator]) -> type[Comparator]:
    REGISTRY[cls.name] = cls()
    return cls


def get(name: str) -> Comparator:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown comparator '{name}' (known: {', '.join(sorted(REGISTRY))})") from None


# ------------------------------------------------------------------------------------------ helpers


def _unreadable(got: Value) -> Verdict | None:
    if got.kind == Kind.ERROR:
        return Verdict(False, Code.UNREADABLE, f"the value could not be recorded: {got.text[:200]}")
    return None


def _need_reference(ctx: Context) -> Value:
    if ctx.reference is None:
        raise LookupError("no reference value")
    return ctx.reference


def _structure(got: Value, want: Value, where: str = "") -> Verdict | None:
    """A verdict when ``got`` is not built like ``want`` (kind, shape, length, keys), else None."""
    at = f" at {where}" if where else ""
    if got.kind != want.kind:
        return Verdict(
            False, Code.WRONG_TYPE, f"wrong type{at}: expected {_KIND_NAME[want.kind]}, got {_KIND_NAME[got.kind]} ({got.describe()})"
        )
    if got.kind == Kind.ARRAY:
        assert got.array is not None and want.array is not None
        if got.array.shape != want.array.shape:
            return Verdict(False, Code.WRONG_SHAPE, f"wrong shape{at}: expected {tuple(want.array.shape)}, got {tuple(got.array.shape)}")
    elif got.kind == Kind.LIST:
        if len(got.items) != len(want.items):
            return Verdict(False, Code.WRONG_SHAPE, f"wrong length{at}: expected {len(want.items)} items, got {len(got.items)}")
        for i, (g, w) in enumerate(zip(got.items, want.items)):
            bad = _structure(g, w, f"{where}[{i}]")
            if bad:
                return bad
    elif got.kind == Kind.DICT:
        if set(got.fields) != set(want.fields):
            return Verdict(False, Code.WRONG_SHAPE, f"wrong keys{at}: expected {sorted(want.fields)}, got {sorted(got.fields)[:20]}")
        for key, w in want.fields.items():
            bad = _structure(got.fields[key], w, f"{where}[{key!r}]")
            if bad:
                return bad
    return None


def _leaves(got: Value, want: Value, where: str = "") -> list[tuple[str, Value, Value]]:
    """Matching (place, got, want) leaves of two values of the same structure."""
    if got.kind == Kind.LIST:
        return [leaf for i, (g, w) in enumerate(zip(got.items, want.items)) for leaf in _leaves(g, w, f"{where}[{i}]")]
    if got.kind == Kind.DICT:
        return [leaf for key, w in want.fields.items() for leaf in _leaves(got.fields[key], w, f"{where}[{key!r}]")]
    return [(where, got, want)]


# Two builds of a reference value on different machines: floats agree to a few units in the last place.
REBUILD_RTOL = 1e-12


def _exactly_equal_but_floats(a: Value, b: Value) -> bool:
    """Every leaf that is not a float array is exactly equal (dtypes included)."""
    for _, x, y in _leaves(a, b):
        if x.kind == Kind.ARRAY:
            assert x.array is not None and y.array is not None
            floats = x.array.dtype.kind == "f" and y.array.dtype.kind == "f"
            if x.array.dtype != y.array.dtype or (not floats and not np.array_equal(x.array, y.array)):
                return False
        elif x.text != y.text:
            return False
    return True


def _exactly_equal(a: Value, b: Value) -> bool:
    if _structure(a, b) is not None:
        return False
    for _, x, y in _leaves(a, b):
        if x.kind == Kind.ARRAY:
            assert x.array is not None and y.array is not None
            nan_ok = x.array.dtype.kind == "f" and y.array.dtype.kind == "f"
            if not np.array_equal(x.array, y.array, equal_nan=nan_ok):
                return False
        elif x.text != y.text:
            return False
    return True


def _close(a: Value, b: Value, rtol: float, atol: float) -> tuple[bool, float]:
    """Whether every leaf agrees within the tolerances, and the largest difference of numbers."""
    worst = 0.0
    ok = True
    for _, x, y in _leaves(a, b):
        if x.kind != Kind.ARRAY:
            ok = ok and x.text == y.text
            continue
        assert x.array is not None and y.array is not None
        p, q = x.array.astype(np.float64), y.array.astype(np.float64)
        if not np.allclose(p, q, rtol=rtol, atol=atol, equal_nan=True):
            ok = False
        with np.errstate(invalid="ignore"):
            err = np.abs(p - q)
        if err.size and not np.all(np.isnan(err)):
            worst = max(worst, float(np.nanmax(err)))
    return ok, worst


def _numbers(got: Value) -> tuple[np.ndarray | None, Verdict | None]:
    bad = _unreadable(got)
    if bad:
        return None, bad
    if got.kind != Kind.ARRAY:
        return None, Verdict(False, Code.WRONG_TYPE, f"expected numbers, got {_KIND_NAME[got.kind]}")
    assert got.array is not None
    if got.array.size == 0:
        return None, Verdict(False, Code.TOO_FEW_VALUES, "expected numbers, got an empty array")
    return got.array.astype(np.float64).ravel(), None


# -------------------------------------------------------------------------------------- comparators


@register
class AllClose(Comparator):
    """Same structure and shapes, then numpy.allclose with the check's rtol/atol (NaN only matches NaN)."""

    name = "allclose"
    optional = {"rtol": 1e-5, "atol": 1e-6}

    def needs_reference(self, params):
        return True

    def pass_means_reference(self, params):
        return True

    def judge(self, got, check, ctx):
        want = _need_reference(ctx)
        bad = _unreadable(got) or _structure(got, want)
        if bad:
            return bad
        ok, worst = _close(got, want, check.params["rtol"], check.params["atol"])
        if ok:
            return Verdict.ok()
        return Verdict(
            False, Code.WRONG_VALUES, f"wrong values: expected {want.describe()}, got {got.describe()} (largest difference {worst:.3g})"
        )

    def same_within_tolerance(self, a, b, check):
        return _structure(a, b) is None and _close(a, b, check.params["rtol"], check.params["atol"])[0]


@register
class Equal(Comparator):
    """Exactly equal: for integers, text, shapes and dtype names."""

    name = "equal"

    def needs_reference(self, params):
        return True

    def pass_means_reference(self, params):
        return True

    def judge(self, got, check, ctx):
        want = _need_reference(ctx)
        bad = _unreadable(got) or _structure(got, want)
        if bad:
            return bad
        if _exactly_equal(got, want):
            return Verdict.ok()
        return Verdict(False, Code.WRONG_VALUES, f"wrong value: expected {want.describe()}, got {got.describe()}")


class _Property(Comparator):
    """Judged by a property of the values; ``reference = true`` also demands the reference (allclose)."""

    required = ("low", "high")
    optional = {"reference": False, "rtol": 1e-5, "atol": 1e-6}

    def validate(self, params):
        super().validate(params)
        if not params["low"] < params["high"]:
            raise ParameterError("'low' must be below 'high'")

    def needs_reference(self, params):
        return bool(params.get("reference", False))

    def pass_means_reference(self, params):
        return self.needs_reference(params)

    def with_reference(self, got, check, ctx) -> Verdict:
        if check.params.get("reference"):
            return REGISTRY["allclose"].judge(got, check, ctx)
        return Verdict.ok()

    def same_within_tolerance(self, a, b, check):
        return REGISTRY["allclose"].same_within_tolerance(a, b, check)

    def _outside(self, x: np.ndarray, check) -> Verdict | None:
        low, high = check.params["low"], check.params["high"]
        if not np.all(np.isfinite(x)) or np.any(x < low) or np.any(x > high):
            return Verdict(False, Code.OUT_OF_RANGE, f"values outside [{low:g}, {high:g}]")
        return None


@register
class InRange(_Property):
    """Every value finite and within [low, high]."""

    name = "in_range"

    def judge(self, got, check, ctx):
        x, bad = _numbers(got)
        if bad:
            return bad
        return self._outside(x, check) or self.with_reference(got, check, ctx)


@register
class LogUniform(_Property):
    """Kolmogorov-Smirnov test of log10(values) against uniform on [log10 low, log10 high]."""

    name = "log_uniform"
    optional = {"alpha": 0.01, "reference": False, "rtol": 1e-5, "atol": 1e-6}
    MIN_SAMPLES = 20

    def validate(self, params):
        super().validate(params)
        if params["low"] <= 0:
            raise ParameterError("'low' must be positive for log_uniform")
        if not 0 < params["alpha"] < 1:
            raise ParameterError("'alpha' must be between 0 and 1")

    def judge(self, got, check, ctx):
        from scipy import stats

        x, bad = _numbers(got)
        if bad:
            return bad
        outside = self._outside(x, check)
        if outside:
            return outside
        if x.size < self.MIN_SAMPLES:
            return Verdict(False, Code.TOO_FEW_VALUES, f"too few values to test the distribution ({x.size})")
        lo, hi = np.log10(check.params["low"]), np.log10(check.params["high"])
        p = float(stats.kstest(np.log10(x), "uniform", args=(lo, hi - lo)).pvalue)
        if p < check.params["alpha"]:
            return Verdict(False, Code.WRONG_DISTRIBUTION, f"not log-uniform (Kolmogorov-Smirnov p = {p:.2g})")
        return self.with_reference(got, check, ctx)


class _Relative(Comparator):
    """Judged against the value of the check ``other``, which must itself have passed."""

    required = ("other",)
    relative = True
    should_equal: ClassVar[bool]

    def judge(self, got, check, ctx):
        bad = _unreadable(got)
        if bad:
            return bad
        other = check.params["other"]
        if other not in ctx.values or not ctx.passed.get(other, False):
            # Repeating a wrong value proves nothing: a relative check counts only when its partner is right.
            return Verdict(False, Code.PARTNER_FAILED, f"'{other}' is not right yet, so there is nothing to compare with")
        if _exactly_equal(got, ctx.values[other]) == self.should_equal:
            return Verdict.ok()
        if self.should_equal:
            return Verdict(False, Code.NOT_REPEATED, f"differs from '{other}' although it should repeat it")
        return Verdict(False, Code.NOT_VARIED, f"equals '{other}' although it should differ")


@register
class SameAs(_Relative):
    """Exactly the value of the check ``other`` (e.g. the same seed gives the same draw)."""

    name = "same_as"
    should_equal = True


@register
class DiffersFrom(_Relative):
    """Not exactly the value of the check ``other`` (e.g. another seed gives another draw)."""

    name = "differs_from"
    should_equal = False


def is_structural_reference(value: Value) -> bool:
    """Whether a reference value is a guessable constant: text, None, booleans or a short integer vector (a
    shape). Checks of such values must be marked ``structural`` (tests/assignments/test_conventions.py)."""
    if value.kind in (Kind.STR, Kind.NONE):
        return True
    if value.kind == Kind.ARRAY and value.array is not None:
        kind = value.array.dtype.kind
        return kind == "b" or (kind in "iu" and value.array.ndim == 1 and value.array.size <= 4)
    if value.kind == Kind.LIST:
        return all(is_structural_reference(v) for v in value.items)
    return False
