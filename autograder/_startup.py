"""Process start-up: defer the one import that costs a second and a half of every process's start.

nbformat validates notebooks with jsonschema, and importing jsonschema imports every format checker it can
find, among them ``rfc3987_syntax`` (installed for jupyter-events), which compiles about 35 Earley parsers
for IRIs at import time: 1.6 s of CPU in each grading worker, CLI run and site process, for formats no
notebook schema uses (python-jsonschema/jsonschema#1428). Until jsonschema imports it lazily, a stand-in
module takes its place: the real one is imported the first time anything of it is used, so IRI validation
still works wherever it is asked for.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

_NAME = "rfc3987_syntax"


class _Deferred(types.ModuleType):
    """Stands in for the module until one of its names is read (``from ... import name`` reads none yet:
    it gets a forwarding function for ``is_valid_syntax``, the only name jsonschema takes)."""

    def __getattr__(self, attr: str):
        return getattr(_load(), attr)


def _load() -> types.ModuleType:
    if isinstance(sys.modules.get(_NAME), _Deferred):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


def _is_valid_syntax(term: str, value: str) -> bool:
    return _load().is_valid_syntax(term, value)


def defer_slow_imports() -> None:
    if _NAME in sys.modules:
        return
    spec = importlib.util.find_spec(_NAME)
    if spec is None:
        return
    stand_in = _Deferred(_NAME)
    stand_in.__spec__, stand_in.__file__ = spec, spec.origin
    stand_in.__path__ = list(spec.submodule_search_locations or [])  # its submodules still import for real
    stand_in.is_valid_syntax = _is_valid_syntax
    sys.modules[_NAME] = stand_in
