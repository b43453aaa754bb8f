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
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

from autograder import config, course, errors
from autograder.grading import records, runner
from autograder.grading import spec as spec_mod
from autograder.grading.cells import nbgrader_meta
from autograder.grading.limits import Limits
from autograder.grading.records import MalformedRecord, Value
from autograder.grading.spec import Assignment

FORMAT = 1
_FAILED = re.compile(r"^FAILED\s+([^\s:]+)", re.MULTILINE)


class ReferenceValuesError(errors.AutograderError, RuntimeError):
    """The reference values cannot be built, or the stored file is missing or invalid."""

    exit_code = 1


def _version(*dists: str) -> str | None:
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _source_for_run(spec: Assignment):
    nb = spec_mod.read_source(spec)
    nb.cells = [c for c in nb.cells if spec.skip_tag not in (c.get("metadata", {}).get("tags") or [])]
    return nb


def record_values(spec: Assignment, *, limits: Limits | None = None, data_dir: Path | None = None) -> dict[str, dict]:
    """Run the source solution; return check name -> encoded value. Raise ReferenceValuesError on any problem."""
    limits = limits or Limits(cell_timeout=spec.cell_timeout, notebook_timeout=max(900, 4 * spec.cell_timeout))
    limits = Limits(**{**limits.__dict__, "cell_timeout": min(limits.cell_timeout, spec.cell_timeout)})
    executed, outcome = runner.run(_source_for_run(spec), limits=limits, data_dir=data_dir or course.datasets_dir())
    problems = []
    if outcome.status != "ok":
        problems.append(f"the source notebook did not finish: {outcome.reason} (cell {outcome.cell})")
    groups = {g.grade_id for g in spec.groups}
    for index in outcome.error_cells:
        cell = executed.cells[index]
        err = next((o for o in cell.outputs if o.get("output_type") == "error"), {})
        problems.append(f"cell {index} ({nbgrader_meta(cell).get('grade_id', 'no grade_id')}) raised {err.get('ename')}: {err.get('evalue')}")
    for cell in executed.cells:
        if nbgrader_meta(cell).get("grade_id") in groups:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            for name in _FAILED.findall(text):
                problems.append(f"visible check '{name}' printed FAILED: its expected value disagrees with the solution")
    collected = records.collect(executed, spec)
    values: dict[str, dict] = {}
    for check in spec.checks():
        got = collected.get(check.name)
        if got is None or got.value is None:
            problems.append(f"check '{check.name}' ({check.group}): {got.problem if got else 'not recorded'}")
            continue
        if got.value.kind == "error":
            problems.append(f"check '{check.name}': the solution's value could not be recorded: {got.value.text}")
            continue
        if check.derive:
            from autograder.grading import derive

            try:
                derive.apply(spec.folder, check.derive, got.value)
            except Exception as exc:  # noqa: BLE001 - reported with the other problems
                problems.append(f"check '{check.name}': derivation '{check.derive}' fails on the solution's value: {type(exc).__name__}: {exc}")
                continue
        values[check.name] = _raw_payload(executed, check)
    if problems:
        raise ReferenceValuesError(f"{spec.name}: the reference values cannot be built:\n  " + "\n  ".join(problems))
    return values


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


def write(spec: Assignment, doc: dict) -> Path:
    path = spec.reference_path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)  # never a half-written reference file
    return path


def load(spec: Assignment) -> dict[str, Value]:
    """Decoded reference values of ``spec``; ReferenceValuesError names what is missing or malformed."""
    path = spec.reference_path
    if not path.is_file():
        raise ReferenceValuesError(f"no reference values at {path}: run `autograder reference build --assignments {spec.name}`")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        raw = doc["values"]
        values = {name: records.decode(payload) for name, payload in raw.items()}
    except (OSError, ValueError, KeyError, TypeError, MalformedRecord) as exc:
        raise ReferenceValuesError(f"{path}: not a valid reference file ({type(exc).__name__}: {exc})") from None
    missing = [c.name for c in spec.checks() if c.needs_reference and c.name not in values]
    if missing:
        raise ReferenceValuesError(f"{path}: no reference value for {', '.join(missing)}: run `autograder reference build --assignments {spec.name}`")
    return values


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
