"""``grade(submission, assignment) -> Result``: the one entry point that every grading front end calls.

No database, no course directory: the CLI (``autograder grade-one``), the batch grader's workers and the
gradebook are thin layers over it. Instructor errors (a broken grading.toml, missing reference values)
raise ``GradingSetupError``; anything a submission does becomes part of its Result.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from autograder import config, course, release
from autograder.errors import AutograderError, UsageError
from autograder.grading import pipeline, reference_store, runner
from autograder.grading import spec as spec_mod
from autograder.grading.limits import Limits
from autograder.grading.result import Result


class GradingSetupError(AutograderError, RuntimeError):
    """The assignment cannot be graded at all (instructor side): bad spec, no reference values, no sandbox."""


@functools.lru_cache(maxsize=1)
def sandbox_factory() -> runner.KernelManagerFactory:
    """The bubblewrap kernel manager of ``autograder/grading/sandbox/`` (probed once per process)."""
    try:
        from autograder.grading import sandbox
    except ImportError as exc:
        raise GradingSetupError(f"the sandbox is not available ({exc}); use --unsafe only for trusted notebooks") from None
    factory = getattr(sandbox, "kernel_manager", None)
    if factory is None:
        raise GradingSetupError("autograder.grading.sandbox has no kernel_manager(workdir, data_dir, limits)")
    try:  # fail once, clearly, rather than once per submission
        sandbox.check()
    except Exception as exc:
        raise GradingSetupError(f"the sandbox cannot run here: {exc}") from None
    return factory


def _default_data_dir() -> Path | None:
    # No data folder yet (e.g. before `autograder data build`): run without one rather than fail.
    folder = course.datasets_dir()
    return folder if folder.is_dir() else None


def load_assignment(assignment: str | Path | spec_mod.Assignment) -> spec_mod.Assignment:
    if isinstance(assignment, spec_mod.Assignment):
        return assignment
    try:
        return spec_mod.load(assignment)
    except spec_mod.SpecError as exc:
        raise GradingSetupError(str(exc)) from None


def make_state(
    submission: Path | Any,
    assignment: str | Path | spec_mod.Assignment,
    *,
    limits: Limits | None = None,
    sandbox: bool = False,
    kernel_manager_factory: runner.KernelManagerFactory | None = None,
    data_dir: Path | None = None,
    check_tampering: bool = True,
    label: str | None = None,
) -> pipeline.State:
    """Everything a pipeline needs for one submission (loads the spec, source, release and references)."""
    spec = load_assignment(assignment)
    try:
        refs = reference_store.load(spec)
    except reference_store.ReferenceValuesError as exc:
        raise GradingSetupError(str(exc)) from None
    try:
        source = spec_mod.read_source(spec)
        released = release.released_notebook(spec.notebook_path, spec.name) if check_tampering else None
    except (spec_mod.SpecError, release.ReleaseError) as exc:
        raise GradingSetupError(str(exc)) from None
    if kernel_manager_factory is None and sandbox:
        kernel_manager_factory = sandbox_factory()
    if label is None:
        label = str(submission) if isinstance(submission, (str, Path)) else "<notebook>"
    return pipeline.State(
        spec=spec,
        submission=Path(submission) if isinstance(submission, str) else submission,
        label=label,
        limits=limits or Limits(),
        source=source,
        released=released,
        reference=refs,
        kernel_manager_factory=kernel_manager_factory,
        data_dir=data_dir if data_dir is not None else _default_data_dir(),
    )


def grade(
    submission: Path | Any,
    assignment: str | Path | spec_mod.Assignment,
    *,
    limits: Limits | None = None,
    sandbox: bool = False,
    steps: tuple[str, ...] | list[str] = pipeline.DEFAULT,
    **kw: Any,
) -> Result:
    """Grade one submission (a notebook file or an in-memory notebook) against an assignment.

    ``assignment`` is a name under source_solutions/, a folder holding a grading.toml, or a loaded spec.
    ``sandbox=True`` runs the kernel in bubblewrap. Extra keywords go to ``make_state``
    (``kernel_manager_factory``, ``data_dir``, ``check_tampering``, ``label``: how the Result names
    the submission, default its path).
    """
    state = make_state(submission, assignment, limits=limits, sandbox=sandbox, **kw)
    return pipeline.run(state, steps).result


def _table(result: Result) -> str:
    lines = [f"{result.assignment}: {result.submission}", ""]
    width = max([len(c.name) for c in result.checks] + [5])
    lines.append(f"{'check'.ljust(width)}  points  passed  message")
    for group in result.groups:
        for c in group.checks:
            pts = f"{c.points:g}/{c.max_points:g}"
            lines.append(f"{c.name.ljust(width)}  {pts:>6}  {'yes' if c.passed else 'NO':>6}  {c.message}")
    lines.append("")
    lines.append(f"{'total'.ljust(width)}  {result.score:g}/{result.max_score:g}   ({result.status})")
    for reason in result.reasons:
        lines.append(f"note: {reason}")
    for note in result.tampering:
        lines.append(f"tampering: {note}")
    return "\n".join(lines)


def run_grade_one(cfg: config.GradeOne) -> int:
    """CLI: ``autograder grade-one NOTEBOOK --assignment NAME [--format table|json] [--unsafe]``.

    Exit 0 when a result was produced (whatever the score, also for a rejected file), 2 when the notebook
    file is missing or the assignment cannot be graded (bad spec, no reference values, no sandbox).
    """
    if not cfg.notebook.is_file():
        raise UsageError(f"no such file: {cfg.notebook}")
    result = grade(cfg.notebook, cfg.assignment, limits=cfg.limits, sandbox=not cfg.unsafe)
    if cfg.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(_table(result))
    return 0


__all__ = ["grade", "make_state", "run_grade_one", "GradingSetupError", "Result"]
