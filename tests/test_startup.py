"""Process start-up: the package defers jsonschema's IRI grammar (autograder/_startup.py), and IRI
validation still works where something asks for it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout.strip()


def test_grading_stack_starts_without_compiling_the_iri_grammar():
    out = _run(
        """
        import sys
        from autograder.grading import core, pipeline
        from autograder.executor import worker
        import nbformat
        nbformat.validate(nbformat.v4.new_notebook())
        print("rfc3987_syntax.syntax_helpers" in sys.modules)
        """
    )
    assert out == "False"


def test_iri_formats_are_still_checked_when_asked_for():
    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987-syntax is not installed: jsonschema checks no IRI format, with or without the stand-in")
    out = _run(
        """
        import autograder
        from jsonschema import Draft7Validator
        v = Draft7Validator({"format": "iri"}, format_checker=Draft7Validator.FORMAT_CHECKER)
        print(v.is_valid("http://example.org/ä"), v.is_valid("http://a b"))
        """
    )
    assert out == "True False"
