"""Read recorded values from an executed notebook, trusting nothing about them.

Records are ``display_data`` outputs with the MIME type below (written by ``selfcheck.record``). Only the
outputs of the instructor's test cells count, and in each only the names of that cell's group. Every
payload is validated here and rebuilt as plain Python/numpy data, so a malformed or hostile payload
becomes a failed check, never a crash.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from autograder.grading.cells import nbgrader_meta
from autograder.grading.result import Code

if TYPE_CHECKING:
    from autograder.grading.spec import Assignment

MIME = "application/vnd.autograder.record+json"
_MAX_ELEMENTS = 10_000_000  # far above any course check; bounds the work spent on one payload
_MAX_ITEMS = 256  # as selfcheck.MAX_ITEMS
_MAX_DEPTH = 4  # as selfcheck.MAX_DEPTH


class MalformedRecord(ValueError):
    """A record payload that does not follow the encoding of ``selfcheck.encode``."""


class Kind(enum.StrEnum):
    """What a decoded record holds."""

    ARRAY = "array"
    STR = "str"
    NONE = "none"
    ERROR = "error"  # the student's value was unreadable; ``text`` says why
    LIST = "list"  # ``items``: arrays of different shapes, mixed text and numbers, ...
    DICT = "dict"  # ``fields``: text keys


@dataclasses.dataclass
class Value:
    """A decoded record: plain numpy arrays, text, or lists and dicts of those. Never a student object."""

    kind: Kind
    array: np.ndarray | None = None
    dtype: str = ""
    text: str = ""
    items: tuple[Value, ...] = ()
    fields: dict[str, Value] = dataclasses.field(default_factory=dict)

    def describe(self, limit: int = 200) -> str:
        """A short, readable rendering (for visible feedback), at most about ``limit`` characters."""
        if self.kind == Kind.ARRAY:
            assert self.array is not None
            body = np.array2string(self.array, threshold=20, edgeitems=3, precision=6)
            text = body if self.array.ndim == 0 else f"{body} (shape {tuple(self.array.shape)})"
        elif self.kind == Kind.STR:
            text = repr(self.text if len(self.text) <= limit else self.text[:limit] + "...")
        elif self.kind == Kind.NONE:
            text = "None"
        elif self.kind == Kind.LIST:
            text = "[" + ", ".join(v.describe(limit) for v in self.items[:8]) + (", ..." if len(self.items) > 8 else "") + "]"
        elif self.kind == Kind.DICT:
            shown = list(self.fields.items())[:8]
            text = "{" + ", ".join(f"{k[:40]!r}: {v.describe(limit)}" for k, v in shown) + (", ..." if len(self.fields) > 8 else "") + "}"
        else:
            text = f"an unreadable value ({self.text[:limit]})"
        return text if len(text) <= 4 * limit else text[: 4 * limit] + " ..."

    def numbers(self) -> np.ndarray:
        """The array of an ARRAY value as float64; ValueError for any other kind (used by derivations)."""
        if self.kind != Kind.ARRAY or self.array is None:
            raise ValueError(f"expected numbers, got {self.kind}")
        return self.array.astype(np.float64)


@dataclasses.dataclass
class Collected:
    """What the grader found for one check: a value, or why there is none (``code`` and ``problem``)."""

    value: Value | None = None
    problem: str = ""  # set when the check fails before comparing (missing, duplicate, malformed)
    code: Code = Code.NOT_RECORDED
    exception: str = ""  # the test cell's exception type, when it stopped with one


def _number(x: Any, kind: str) -> float | int | bool:
    if kind == "float":
        if isinstance(x, str):
            if x not in ("nan", "inf", "-inf"):
                raise MalformedRecord(f"bad float {x[:20]!r}")
            return float(x)
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise MalformedRecord("array data must be numbers")
        return float(x)
    if isinstance(x, bool):  # JSON true/false for bool arrays would arrive as bool; encode writes 0/1 ints
        return int(x)
    if not isinstance(x, int):
        raise MalformedRecord(f"{kind} array data must be whole numbers")
    if kind == "int" and not -(2**63) <= x < 2**63:
        raise MalformedRecord("integer out of range")
    if kind == "bool" and x not in (0, 1):
        raise MalformedRecord("bool array data must be 0 or 1")
    return x


def decode(payload: Any) -> Value:
    """Validate an encoded value (``{"type": ...}``) and rebuild it; raise MalformedRecord if invalid."""
    budget = [_MAX_ELEMENTS]
    return _decode(payload, 0, budget)


def _decode(payload: Any, depth: int, budget: list[int]) -> Value:
    if not isinstance(payload, dict):
        raise MalformedRecord("value is not an object")
    kind = payload.get("type")
    if kind in ("list", "dict"):
        if depth >= _MAX_DEPTH:
            raise MalformedRecord("lists or dicts nested too deeply")
        items = payload.get("items")
        if kind == "list":
            if not isinstance(items, list) or len(items) > _MAX_ITEMS:
                raise MalformedRecord("list items must be a list of at most 256 values")
            return Value(kind=Kind.LIST, items=tuple(_decode(v, depth + 1, budget) for v in items))
        if not isinstance(items, dict) or len(items) > _MAX_ITEMS or not all(isinstance(k, str) for k in items):
            raise MalformedRecord("dict items must be an object of at most 256 values")
        return Value(kind=Kind.DICT, fields={k: _decode(v, depth + 1, budget) for k, v in items.items()})
    if kind == "str" or kind == "error":
        text = payload.get("value")
        if not isinstance(text, str):
            raise MalformedRecord(f"{kind} value is not text")
        budget[0] -= len(text)
        if budget[0] < 0:
            raise MalformedRecord("the value is too large")
        return Value(kind=Kind(kind), text=text)
    if kind == "none":
        return Value(kind=Kind.NONE)
    if kind != "array":
        raise MalformedRecord(f"unknown value type {str(kind)[:40]!r}")
    akind = payload.get("kind")
    if akind not in ("float", "int", "bool"):
        raise MalformedRecord("array kind must be float, int or bool")
    shape = payload.get("shape")
    data = payload.get("data")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise MalformedRecord("array shape must be a list of non-negative integers")
    if len(shape) > 32:
        raise MalformedRecord("array has too many dimensions")
    if not isinstance(data, list):
        raise MalformedRecord("array data must be a list")
    size = math.prod(shape)
    if size != len(data) or size > budget[0]:
        raise MalformedRecord(f"array data has {len(data)} entries for shape {tuple(shape)}")
    budget[0] -= size
    numbers = [_number(x, akind) for x in data]
    dtype = {"float": np.float64, "int": np.int64, "bool": np.bool_}[akind]
    arr = np.asarray(numbers, dtype=dtype).reshape(shape)
    dtype_name = payload.get("dtype", "")
    return Value(kind=Kind.ARRAY, array=arr, dtype=dtype_name[:40] if isinstance(dtype_name, str) else "")


def records_in(cell) -> list[tuple[str, Any]]:
    """(name, raw value payload) for every record output of a cell; a nameless payload gets name ''."""
    found = []
    for out in cell.get("outputs", []) or []:
        if not isinstance(out, dict) or out.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = out.get("data")
        if not isinstance(data, dict) or MIME not in data:
            continue
        payload = data[MIME]
        if isinstance(payload, dict) and isinstance(payload.get("name"), str):
            found.append((payload["name"], payload.get("value")))
        else:
            found.append(("", payload))
    return found


def _error_in(cell) -> tuple[str, str] | None:
    for out in cell.get("outputs", []) or []:
        if isinstance(out, dict) and out.get("output_type") == "error":
            return str(out.get("ename", "Error"))[:100], str(out.get("evalue", ""))[:300]
    return None


def _cut_in(cell) -> bool:
    return bool(cell.get("metadata", {}).get("autograder", {}).get("output_cut"))


def collect(nb, spec: Assignment) -> dict[str, Collected]:
    """Check name -> what the instructor's test cell recorded for it.

    A group's test cell is the first cell of the (restored) notebook with its grade_id; records in any other
    cell are ignored.
    """
    test_cells: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        gid = nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str) and gid not in test_cells:
            test_cells[gid] = i
    result: dict[str, Collected] = {}
    for group in spec.groups:
        index = test_cells.get(group.grade_id)
        if index is None:
            for check in group.checks:
                result[check.name] = Collected(problem=f"the test cell '{group.grade_id}' did not run", code=Code.NOT_RUN)
            continue
        cell = nb.cells[index]
        wanted = {c.name for c in group.checks}
        raw: dict[str, list[Any]] = {}
        for name, value in records_in(cell):
            if name in wanted:
                raw.setdefault(name, []).append(value)
        error = _error_in(cell)
        for check in group.checks:
            values = raw.get(check.name, [])
            if len(values) > 1:
                result[check.name] = Collected(problem=f"recorded more than once ({len(values)} times)", code=Code.RECORDED_TWICE)
            elif not values:
                result[check.name] = _missing(cell, error)
            else:
                try:
                    result[check.name] = Collected(value=decode(values[0]), code=Code.PASSED)
                except MalformedRecord as exc:
                    result[check.name] = Collected(problem=f"malformed record: {exc}", code=Code.MALFORMED)
    return result


def _missing(cell, error: tuple[str, str] | None) -> Collected:
    """Why a check has no record. ``problem`` may hold the exception's message: only visible feedback of a
    run without hidden tests may show it (the result step decides)."""
    meta = cell.get("metadata", {}).get("autograder", {})
    if meta.get("timed_out"):
        return Collected(problem="not recorded: the test cell ran out of time", code=Code.CELL_TIMEOUT)
    if meta.get("stopped"):
        return Collected(problem="not recorded: the notebook was stopped in this test cell", code=Code.NOT_RUN)
    if error is not None:
        ename, evalue = error
        shown = f"{ename}: {evalue}" if evalue.strip() else ename
        return Collected(problem=f"not recorded: the test cell stopped with {shown}", code=Code.RAISED, exception=ename)
    if _cut_in(cell):
        return Collected(problem="not recorded: the test cell printed too much and its output was cut", code=Code.OUTPUT_CUT)
    if meta.get("not_run"):
        return Collected(problem="not recorded: the notebook stopped before this test cell ran", code=Code.NOT_RUN)
    return Collected(problem="not recorded", code=Code.NOT_RECORDED)
