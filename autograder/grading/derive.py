"""Trusted derivations: quantities the grader computes, outside the kernel, from what a test cell recorded.

A test cell records only what the student's function returned, as plain data. Whatever is computed from it
(the objective of a returned setting, the accuracy of returned weights, the norm of a matrix) is computed
here, by instructor code, never in the kernel: there, an object whose arithmetic lies (a float subclass, an
array-like with its own ``@`` or ``__array_ufunc__``) could make any number come out.

A check names its derivation with ``derive = "<function>"`` in grading.toml; the function lives in the
assignment's ``source_solutions/<name>/derive.py`` (never released, never copied into a working folder) and
takes the decoded ``records.Value``; it returns anything ``selfcheck.encode`` can encode (numbers, arrays,
lists, dicts). Inputs a derivation needs (a data set, a test function) are built inside derive.py, never
taken from the kernel. The same derivation is applied to the reference value, so the comparator sees the
derived quantity on both sides.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.errors import AutograderError
from autograder.grading import records
from autograder.grading.records import Value
from autograder.student import selfcheck

FILE = "derive.py"

Derivation = Callable[[Value], Any]


class DeriveError(AutograderError, ValueError):
    """A derivation named in grading.toml is missing, or derive.py cannot be loaded."""


_modules: dict[Path, ModuleType] = {}


def module(folder: Path) -> ModuleType | None:
    """The assignment's derive.py as a module (loaded once per process), or None when there is none."""
    path = (Path(folder) / FILE).resolve()
    if path in _modules:
        return _modules[path]
    if not path.is_file():
        return None
    name = f"autograder_derive_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DeriveError(f"{path}: cannot be loaded")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise DeriveError(f"{path}: cannot be loaded: {type(exc).__name__}: {exc}") from exc
    _modules[path] = mod
    return mod


def function(folder: Path, name: str) -> Derivation:
    mod = module(folder)
    fn = getattr(mod, name, None) if mod is not None else None
    if not callable(fn) or name.startswith("_"):
        raise DeriveError(f"{Path(folder) / FILE}: no derivation function '{name}'")
    return fn


def to_value(x: Any) -> Value:
    """Any result of a derivation as a plain Value (through the same encoding as a record)."""
    if isinstance(x, Value):
        return x
    return records.decode(selfcheck.encode(x))


def apply(folder: Path, name: str, value: Value) -> Value:
    """``name(value)`` from the assignment's derive.py, as a Value; the derivation's errors propagate."""
    return to_value(function(folder, name)(value))
