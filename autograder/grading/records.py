"""Read recorded values from an executed notebook, trusting nothing about them.

Records are ``display_data`` outputs with the MIME type below (written by ``selfcheck.record``). Only the
outputs of the instructor's test cells count, and in each only the names of that cell's group. Every
payload is validated here and rebuilt as plain Python/numpy data, so a malformed or hostile payload
becomes a failed check, never a crash.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from autograder.grading.spec import Assignment, nbgrader_meta

MIME = "application/vnd.autograder.record+json"
_MAX_ELEMENTS = 10_000_000  # far above any course check; bounds the work spent on one payload


class MalformedRecord(ValueError):
    """A record payload that does not follow the encoding of ``selfcheck.encode``."""


@dataclasses.dataclass
class Value:
    """A decoded record: ``kind`` is 'array', 'str', 'none' or 'error' (the student's value was unreadable)."""

    kind: str
    array: np.ndarray | None = None
    dtype: str = ""
    text: str = ""

    def describe(self) -> str:
        """A short, readable rendering (for visible feedback)."""
        if self.kind == "array":
            assert self.array is not None
            body = np.array2string(self.array, threshold=20, edgeitems=3, precision=6)
            return body if self.array.ndim == 0 else f"{body} (shape {tuple(self.array.shape)})"
        if self.kind == "str":
            return repr(self.text if len(self.text) <= 200 else self.text[:200] + "...")
        if self.kind == "none":
            return "None"
        return f"an unreadable value ({self.text[:200]})"


@dataclasses.dataclass
class Collected:
    """What the grader found for one check: a value, or why there is none."""

    value: Value | None = None
    problem: str = ""  # set when the check fails before comparing (missing, duplicate, malformed)


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
    if not isinstance(payload, dict):
        raise MalformedRecord("value is not an object")
    kind = payload.get("type")
    if kind == "str" or kind == "error":
        text = payload.get("value")
        if not isinstance(text, str):
            raise MalformedRecord(f"{kind} value is not text")
        return Value(kind=kind, text=text)
    if kind == "none":
        return Value(kind="none")
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
    if size != len(data) or size > _MAX_ELEMENTS:
        raise MalformedRecord(f"array data has {len(data)} entries for shape {tuple(shape)}")
    numbers = [_number(x, akind) for x in data]
    dtype = {"float": np.float64, "int": np.int64, "bool": np.bool_}[akind]
    arr = np.asarray(numbers, dtype=dtype).reshape(shape)
    dtype_name = payload.get("dtype", "")
    return Value(kind="array", array=arr, dtype=dtype_name if isinstance(dtype_name, str) else "")


def _records_in(cell) -> list[tuple[str, Any]]:
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


def collect(nb, spec: Assignment, *, test_cells: dict[str, int] | None = None) -> dict[str, Collected]:
    """Check name -> what the instructor's test cell recorded for it.

    ``test_cells`` maps each group's grade_id to the index of its (restored) test cell in ``nb``; by
    default the first cell with that grade_id. Records in any other cell are ignored.
    """
    if test_cells is None:
        test_cells = {}
        for i, cell in enumerate(nb.cells):
            gid = nbgrader_meta(cell).get("grade_id")
            if isinstance(gid, str) and gid not in test_cells:
                test_cells[gid] = i
    result: dict[str, Collected] = {}
    for group in spec.groups:
        index = test_cells.get(group.grade_id)
        if index is None:
            for check in group.checks:
                result[check.name] = Collected(problem=f"the test cell '{group.grade_id}' did not run")
            continue
        cell = nb.cells[index]
        wanted = {c.name for c in group.checks}
        raw: dict[str, list[Any]] = {}
        for name, value in _records_in(cell):
            if name in wanted:
                raw.setdefault(name, []).append(value)
        error = _error_in(cell)
        for check in group.checks:
            values = raw.get(check.name, [])
            if len(values) > 1:
                result[check.name] = Collected(problem=f"recorded more than once ({len(values)} times)")
            elif not values:
                result[check.name] = Collected(problem=_missing_reason(cell, error, check.visible))
            else:
                try:
                    result[check.name] = Collected(value=decode(values[0]))
                except MalformedRecord as exc:
                    result[check.name] = Collected(problem=f"malformed record: {exc}")
    return result


def _missing_reason(cell, error: tuple[str, str] | None, visible: bool) -> str:
    if error is not None:
        ename, evalue = error
        # Hidden checks name only the exception type: its message may show hidden inputs.
        shown = f"{ename}: {evalue}" if visible and evalue.strip() else ename
        return f"not recorded: the test cell stopped with {shown}"
    if _cut_in(cell):
        return "not recorded: the test cell printed too much and its output was cut"
    if cell.get("metadata", {}).get("autograder", {}).get("not_run"):
        return "not recorded: the notebook stopped before this test cell ran"
    return "not recorded"
