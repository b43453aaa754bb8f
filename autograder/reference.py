"""Reference values: what the source solution records, stored in ``source_solutions/<name>/reference.json``.

``autograder reference build`` runs each source notebook (cells with the skip tag dropped) through the same
runner and recorder as grading. It fails when a check of grading.toml was not recorded, or when a visible
``check(...)`` printed FAILED (the expected values shown to students must agree with the solution).
``autograder reference check`` rebuilds and compares with the stored values within each check's tolerance.
The file is read only by the grader, outside the kernel.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import re
import sys
from pathlib import Path

import numpy as np

from autograder import config, course, errors
from autograder.grading import pipeline, records
from autograder.grading import spec as spec_mod
from autograder.grading.cells import nbgrader_meta
from autograder.grading.limits import Limits
from autograder.grading.records import Value
from autograder.grading.reference_store import FORMAT, ReferenceValuesError, load, write
from autograder.grading.spec import Assignment

__all__ = ["build", "check_solution", "load", "mismatches", "record_values", "run", "write", "FORMAT", "ReferenceValuesError"]

_FAILED = re.compile(r"^FAILED\s+([^\s:]+)", re.MULTILINE)
# The reference build is the grading pipeline's own steps on the source (solutions and hidden tests in),
# with the visible checks' expected values kept, so that a FAILED self-check shows a disagreement.
STEPS = ("source", "drop_skipped", "execute", "collect")


def _version(*dists: str) -> str | None:
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_solution(state: pipeline.State) -> list[str]:
    """Everything wrong with a run of the source: it must finish, raise nowhere, print no FAILED self-check,
    record every check readably, and every derivation must work on the solution's values."""
    from autograder.grading import derive

    spec, executed, outcome = state.spec, state.nb, state.outcome
    problems = []
    if outcome.status != "ok":
        problems.append(f"the source notebook did not finish: {outcome.reason} (cell {outcome.cell})")
    groups = {g.grade_id for g in spec.groups}
    for index in outcome.error_cells:
        cell = executed.cells[index]
        err = next((o for o in cell.outputs if o.get("output_type") == "error"), {})
        problems.append(
            f"cell {index} ({nbgrader_meta(cell).get('grade_id', 'no grade_id')}) raised {err.get('ename')}: {err.get('evalue')}"
        )
    for cell in executed.cells:
        if nbgrader_meta(cell).get("grade_id") in groups:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            for name in _FAILED.findall(text):
                problems.append(f"visible check '{name}' printed FAILED: its expected value disagrees with the solution")
    for check in spec.checks():
        got = state.collected.get(check.name)
        if got is None or got.value is None:
            problems.append(f"check '{check.name}' ({check.group}): {got.problem if got else 'not recorded'}")
        elif got.value.kind == records.Kind.ERROR:
            problems.append(f"check '{check.name}': the solution's value could not be recorded: {got.value.text}")
        elif check.derive:
            try:
                derive.apply(spec.folder, check.derive, got.value)
            except Exception as exc:  # noqa: BLE001 - reported with the other problems
                problems.append(
                    f"check '{check.name}': derivation '{check.derive}' fails on the solution's value: {type(exc).__name__}: {exc}"
                )
    return problems


def record_values(spec: Assignment, *, limits: Limits | None = None, data_dir: Path | None = None) -> dict[str, dict]:
    """Run the source solution; return check name -> encoded value. Raise ReferenceValuesError on any problem."""
    limits = limits or Limits(cell_timeout=spec.cell_timeout, notebook_timeout=max(900, 4 * spec.cell_timeout))
    state = pipeline.State(
        spec=spec,
        submission=None,
        label=f"source of {spec.name}",
        limits=limits,
        source=spec_mod.read_source(spec),
        released=None,
        reference={},
        data_dir=data_dir or course.datasets_dir(),
    )
    state = pipeline.run(state, STEPS)
    problems = check_solution(state)
    if problems:
        raise ReferenceValuesError(f"{spec.name}: the reference values cannot be built:\n  " + "\n  ".join(problems))
    return {check.name: _raw_payload(state.nb, check) for check in spec.checks()}


def _raw_payload(nb, check) -> dict:
    # The encoded value exactly as recorded (already validated by records.collect).
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == check.group:
            for name, value in records.records_in(cell):
                if name == check.name:
                    return value
    raise AssertionError(check.name)


def build(spec: Assignment, **kw) -> dict:
    """The reference document for ``spec`` (not written)."""
    values = record_values(spec, **kw)
    return {
        "format": FORMAT,
        "assignment": spec.name,
        "meta": {
            "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "tensorflow": _version("tensorflow-cpu", "tensorflow"),
        },
        "values": {name: values[name] for name in sorted(values)},
    }


def mismatches(spec: Assignment, stored: dict[str, Value], fresh: dict[str, Value]) -> list[str]:
    """Checks whose fresh value does not agree with the stored one, as the check's comparator judges it."""
    out = []
    for check in spec.checks():
        a, b = stored.get(check.name), fresh.get(check.name)
        if a is None or b is None:
            out.append(f"{check.name}: {'not stored' if a is None else 'not recorded'}")
            continue
        if check.comparator.same_within_tolerance(a, b, check):
            continue
        if a.kind == b.kind == records.Kind.ARRAY and a.array.shape == b.array.shape and "rtol" in check.params:
            err = float(np.nanmax(np.abs(a.array.astype(float) - b.array.astype(float)))) if a.array.size else 0.0
            out.append(f"{check.name}: differs by up to {err:.3g} (rtol {check.params['rtol']:g}, atol {check.params['atol']:g})")
        else:
            out.append(f"{check.name}: {a.describe()} stored, {b.describe()} now")
    return out


def run(cfg: config.ReferenceBuild | config.ReferenceCheck) -> int:
    """CLI: ``autograder reference build|check``."""
    known = course.assignment_names()
    names = list(cfg.assignments) or known
    bad = errors.unknown_assignments(names, known)
    if bad:
        raise bad
    failed = []
    for name in names:
        spec = spec_mod.load(name)
        doc = build(spec)
        if isinstance(cfg, config.ReferenceBuild):
            print(f"{name}: {len(doc['values'])} reference values written to {write(spec, doc)}")
            continue
        fresh = {k: records.decode(v) for k, v in doc["values"].items()}
        bad_values = mismatches(spec, load(spec), fresh)
        print(f"{name}: {'OK' if not bad_values else f'{len(bad_values)} mismatch(es)'}")
        failed.extend(f"{name}: {line}" for line in bad_values)
    if failed:
        raise errors.CheckFailed("reference values out of tolerance:\n  " + "\n  ".join(failed))
    return 0
