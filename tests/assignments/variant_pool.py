"""Grade the variant cases of the real assignments two at a time, in worker processes.

A case's time is mostly its kernel starting and importing TensorFlow, which runs on one core; grading two
cases at once keeps both cores busy. Each case is still one ``grade()`` of its own notebook in a fresh
kernel, exactly as when the test graded it itself; only the waiting moves. The first test that needs a
case submits every selected case (in the order the tests will ask for them) and each test waits for its own.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from autograder.grading import core, pipeline, spec

# Scores never depend on the explain step (it only writes messages from a second run): skipping it halves
# the time of every failing case.
STEPS = tuple(step for step in pipeline.DEFAULT if step != "explain")


def build(source_nb, replacements) -> object:
    """The source notebook with each listed solution cell's source replaced, nothing else changed."""
    nb = copy.deepcopy(source_nb)
    for grade_id, source in replacements:
        cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
        assert cells, f"no cell with grade_id '{grade_id}' in the source notebook"
        assert cells[0].metadata.nbgrader.get("solution"), f"cell '{grade_id}' is not a solution cell"
        cells[0].source = source.strip("\n")
    return nb


def grade_variant(assignment: spec.Assignment, replacements) -> object:
    """One case: the source with its replacements, graded as the tests always graded it."""
    nb = build(spec.read_source(assignment), replacements)
    return core.grade(nb, assignment, check_tampering=False, steps=STEPS)


def _grade_by_name(name: str, replacements) -> object:
    return grade_variant(spec.load(name), replacements)


class VariantPool:
    """Futures of the cases' Results, keyed by (assignment, replacements)."""

    def __init__(self) -> None:
        # Two at a time (AUTOGRADER_VARIANT_WORKERS to change). Kernels talk over unix sockets of their own
        # since stop 21: over TCP, two kernels starting at once could race for a port and one died at start.
        workers = int(os.environ.get("AUTOGRADER_VARIANT_WORKERS", "2"))
        # spawn: the test process may hold TensorFlow (the fast-loop tests import it), which must not be forked.
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        self._futures: dict[tuple, Future] = {}

    def submit_all(self, cases) -> None:
        for case in cases:
            key = (case.assignment, case.replacements)
            if key not in self._futures:
                self._futures[key] = self._pool.submit(_grade_by_name, case.assignment, case.replacements)

    def result(self, case, timeout: float) -> object:
        return self._futures[(case.assignment, case.replacements)].result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
