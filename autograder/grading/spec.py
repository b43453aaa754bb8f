"""The grading spec of an assignment: ``source_solutions/<name>/grading.toml`` as typed, validated objects.

Every error names the file and the key, so an instructor can fix a spec without reading this code.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

from autograder import course
from autograder.errors import AutograderError
from autograder.grading import compare as comparators
from autograder.grading import translation
from autograder.grading.cells import nbgrader_meta

__all__ = ["Assignment", "Group", "Check", "SpecError", "load", "parse", "read_source", "nbgrader_meta", "translation_problems"]


class SpecError(AutograderError, ValueError):
    """A grading.toml (or its source notebook) is invalid."""


_ASSIGNMENT_KEYS = {"name", "notebook", "cell_timeout", "skip_tag"}
_GROUP_KEYS = {"grade_id", "title", "hint", "check", "uses"}
_CHECK_KEYS = {"name", "points", "visible", "compare", "hint", "plot", "derive", "structural"}


@dataclasses.dataclass(frozen=True)
class Check:
    """One recorded value and how it is judged."""

    name: str
    group: str  # grade_id of the test cell that must record it
    points: float
    visible: bool
    compare: str
    params: dict[str, Any]
    hint: str = ""
    plot: str = ""  # a label: the feedback page plots the student's recorded values against the reference
    derive: str = ""  # a function of the assignment's derive.py: the grader judges derive(recorded value)
    structural: bool = False  # a guessable answer (shape, type): scores only beside a passed value check

    @property
    def comparator(self) -> comparators.Comparator:
        return comparators.get(self.compare)

    @property
    def relative(self) -> bool:
        return self.comparator.relative

    @property
    def needs_reference(self) -> bool:
        """Whether judging this check reads the stored reference value."""
        return self.comparator.needs_reference(self.params)


@dataclasses.dataclass(frozen=True)
class Group:
    """The checks of one nbgrader test cell (one graded function)."""

    grade_id: str
    title: str
    hint: str
    checks: tuple[Check, ...]
    uses: tuple[str, ...] = ()  # titles of earlier groups whose functions this one calls (feedback says so)

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A validated grading.toml plus where its files are."""

    name: str
    folder: Path
    notebook: str
    cell_timeout: int
    skip_tag: str
    groups: tuple[Group, ...]
    # The assignment in other languages (``<language>.toml`` beside grading.toml; grading/translation.py)
    translations: dict[str, translation.Translation] = dataclasses.field(default_factory=dict, compare=False)

    def english_hints(self) -> dict[str, str]:
        """Every hint of grading.toml by its key: a group's grade_id, a check's name."""
        hints = {g.grade_id: g.hint for g in self.groups if g.hint}
        hints.update({c.name: c.hint for c in self.checks() if c.hint})
        return hints

    def hint(self, key: str, language: str = translation.DEFAULT) -> str:
        """The hint of a group (by grade_id) or a check (by name) in ``language``; English when it has no
        current translation there."""
        english = self.english_hints().get(key, "")
        mine = self.translations.get(language)
        return mine.hint(key, english) if mine is not None else english

    @property
    def notebook_path(self) -> Path:
        return self.folder / self.notebook

    @property
    def reference_path(self) -> Path:
        return self.folder / "reference.json"

    @property
    def spec_path(self) -> Path:
        return self.folder / "grading.toml"

    @property
    def max_score(self) -> float:
        return sum(g.max_points for g in self.groups)

    def checks(self) -> Iterator[Check]:
        for group in self.groups:
            yield from group.checks

    def check(self, name: str) -> Check:
        for c in self.checks():
            if c.name == name:
                return c
        raise KeyError(name)

    def group(self, grade_id: str) -> Group:
        for g in self.groups:
            if g.grade_id == grade_id:
                return g
        raise KeyError(grade_id)


def _type_error(where: str, key: str, want: str, got: Any) -> SpecError:
    return SpecError(f"{where}: key '{key}' must be {want}, got {got!r}")


def _get(table: dict, key: str, kind: type | tuple, where: str, *, default: Any = ..., want: str = "") -> Any:
    if key not in table:
        if default is ...:
            raise SpecError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    # bool is an int in Python; a number key must not accept true/false.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise _type_error(where, key, want or str(kind), value)
    if not isinstance(value, kind):
        raise _type_error(where, key, want or getattr(kind, "__name__", str(kind)), value)
    return value


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(allowed))})")


def _parse_check(raw: Any, group_id: str, where: str) -> Check:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be a table ([[group.check]])")
    name = _get(raw, "name", str, where, want="a string")
    where = f"{where} ('{name}')"
    compare = _get(raw, "compare", str, where, want="a string")
    if compare not in comparators.REGISTRY:
        raise SpecError(f"{where}: key 'compare' = {compare!r} is not one of {', '.join(sorted(comparators.REGISTRY))}")
    comparator = comparators.REGISTRY[compare]
    _check_keys(raw, _CHECK_KEYS | set(comparator.required) | set(comparator.optional), where)
    points = _get(raw, "points", (int, float), where, want="a number")
    if not math.isfinite(points) or points < 0:
        raise SpecError(f"{where}: key 'points' must be a non-negative number, got {points!r}")
    params: dict[str, Any] = {}
    for key in comparator.required:
        params[key] = raw.get(key, ...)
        if params[key] is ...:
            raise SpecError(f"{where}: comparator '{compare}' needs key '{key}'")
    for key, default in comparator.optional.items():
        params[key] = raw.get(key, default)
    try:
        comparator.validate(params)
    except comparators.ParameterError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return Check(
        name=name,
        group=group_id,
        points=float(points),
        visible=_get(raw, "visible", bool, where, default=False, want="true or false"),
        compare=compare,
        params=params,
        hint=_get(raw, "hint", str, where, default="", want="a string"),
        plot=_get(raw, "plot", str, where, default="", want="a string"),
        derive=_get(raw, "derive", str, where, default="", want="the name of a function in derive.py"),
        structural=_get(raw, "structural", bool, where, default=False, want="true or false"),
    )


def parse(data: dict, folder: Path, *, source: str = "grading.toml") -> Assignment:
    """Build an Assignment from the parsed TOML ``data``; ``source`` names the file in errors."""
    _check_keys(data, {"assignment", "group"}, source)
    head = _get(data, "assignment", dict, source, want="a table ([assignment])")
    where = f"{source} [assignment]"
    _check_keys(head, _ASSIGNMENT_KEYS, where)
    name = _get(head, "name", str, where, want="a string")
    notebook = _get(head, "notebook", str, where, default=f"{name}.ipynb", want="a string")
    cell_timeout = _get(head, "cell_timeout", int, where, default=300, want="a whole number of seconds")
    if cell_timeout <= 0:
        raise SpecError(f"{where}: key 'cell_timeout' must be positive")
    skip_tag = _get(head, "skip_tag", str, where, default="skip-grading", want="a string")
    raw_groups = _get(data, "group", list, source, want="an array of tables ([[group]])")
    if not raw_groups:
        raise SpecError(f"{source}: no [[group]] defined")
    groups: list[Group] = []
    seen_ids: set[str] = set()
    seen_checks: dict[str, Check] = {}
    for i, raw in enumerate(raw_groups):
        gwhere = f"{source} [[group]] #{i + 1}"
        if not isinstance(raw, dict):
            raise SpecError(f"{gwhere}: must be a table")
        _check_keys(raw, _GROUP_KEYS, gwhere)
        grade_id = _get(raw, "grade_id", str, gwhere, want="a string")
        gwhere = f"{gwhere} ('{grade_id}')"
        if grade_id in seen_ids:
            raise SpecError(f"{gwhere}: grade_id '{grade_id}' is used by two groups")
        seen_ids.add(grade_id)
        raw_checks = _get(raw, "check", list, gwhere, want="an array of tables ([[group.check]])")
        if not raw_checks:
            raise SpecError(f"{gwhere}: no [[group.check]] defined")
        checks = []
        for j, rc in enumerate(raw_checks):
            c = _parse_check(rc, grade_id, f"{gwhere} [[group.check]] #{j + 1}")
            if c.name in seen_checks:
                raise SpecError(f"{gwhere}: check name '{c.name}' is used twice")
            seen_checks[c.name] = c
            checks.append(c)
        uses = _get(raw, "uses", list, gwhere, default=[], want="a list of function titles of earlier groups")
        earlier = {g.title for g in groups}
        bad = [u for u in uses if not isinstance(u, str) or u not in earlier]
        if bad:
            raise SpecError(
                f"{gwhere}: 'uses' names {bad!r}, which are not titles of earlier groups ({', '.join(sorted(earlier)) or 'none'})"
            )
        if all(c.structural for c in checks):
            raise SpecError(f"{gwhere}: every check is structural; a group needs at least one check of its values")
        groups.append(
            Group(
                grade_id=grade_id,
                title=_get(raw, "title", str, gwhere, default=grade_id, want="a string"),
                hint=_get(raw, "hint", str, gwhere, default="", want="a string"),
                checks=tuple(checks),
                uses=tuple(uses),
            )
        )
    for c in seen_checks.values():
        if c.relative:
            other = seen_checks.get(c.params["other"])
            if other is None:
                raise SpecError(f"{source}: check '{c.name}': 'other' = '{c.params['other']}' is not a check of this assignment")
            if other.relative or other.name == c.name:
                raise SpecError(f"{source}: check '{c.name}': 'other' must name a check judged on its own, not '{other.name}'")
    return Assignment(name=name, folder=folder, notebook=notebook, cell_timeout=cell_timeout, skip_tag=skip_tag, groups=tuple(groups))


def validate_notebook(spec: Assignment, nb) -> None:
    """Check that the source notebook matches the spec: test cells exist and points add up."""
    where = str(spec.notebook_path)
    cells: dict[str, Any] = {}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            if grade_id in cells:
                raise SpecError(f"{where}: grade_id '{grade_id}' appears in two cells")
            cells[grade_id] = cell
    problems = []
    for group in spec.groups:
        cell = cells.get(group.grade_id)
        if cell is None:
            problems.append(f"group '{group.grade_id}' of grading.toml has no cell with that grade_id")
            continue
        meta = nbgrader_meta(cell)
        if not meta.get("grade") or meta.get("solution") or cell.cell_type != "code":
            problems.append(f"cell '{group.grade_id}' is not a test cell (code, grade: true, solution: false)")
            continue
        points = meta.get("points")
        if not isinstance(points, (int, float)) or not math.isclose(float(points), group.max_points):
            problems.append(
                f"cell '{group.grade_id}' has nbgrader points {points!r} but its checks in grading.toml add up to {group.max_points:g}"
            )
    grouped = {g.grade_id for g in spec.groups}
    for grade_id, cell in cells.items():
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution") and grade_id not in grouped:
            problems.append(f"test cell '{grade_id}' has no [[group]] in grading.toml")
    if problems:
        raise SpecError(f"{where} does not match {spec.spec_path}:\n  " + "\n  ".join(problems))


def load(assignment: str | Path) -> Assignment:
    """Load ``source_solutions/<name>/grading.toml``, or the grading.toml in a folder (a Path, or a string
    with a slash)."""
    if isinstance(assignment, str) and ("/" in assignment or os.sep in assignment):
        assignment = Path(assignment)  # a folder given on the command line
    folder = Path(assignment) if isinstance(assignment, Path) else course.SOURCE_DIR / assignment
    path = folder / "grading.toml"
    if not path.is_file():
        known = ", ".join(course.assignment_names()) or "none"
        raise SpecError(f"no grading spec at {path} (known assignments: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    spec = parse(data, folder, source=str(path))
    if spec.name != folder.name:
        raise SpecError(f"{path} [assignment]: key 'name' = '{spec.name}' differs from the folder name '{folder.name}'")
    _validate_derivations(spec, path)
    # The notebook is checked on every load: a spec never runs against a source it does not match.
    if not spec.notebook_path.is_file():
        raise SpecError(f"{path} [assignment]: notebook '{spec.notebook}' not found in {folder}")
    validate_notebook(spec, read_source(spec))
    try:
        translations = translation.load_all(folder)
    except translation.TranslationError as exc:
        raise SpecError(str(exc)) from None
    return dataclasses.replace(spec, translations=translations)


def translation_problems(spec: Assignment, language: str, nb=None) -> list[str]:
    """What the ``language`` translation lacks against the notebook (default: the source) and the hints."""
    mine = spec.translations.get(language)
    if mine is None:
        return [f"{spec.folder / (language + '.toml')}: no translation"]
    return translation.problems(mine, nb if nb is not None else read_source(spec), spec.english_hints())


def _validate_derivations(spec: Assignment, path: Path) -> None:
    from autograder.grading import derive

    for check in spec.checks():
        if check.plot and not check.visible:
            # Plotted values are shown to students; only a run without hidden tests may produce them.
            raise SpecError(f"{path}: check '{check.name}': 'plot' is only allowed on visible checks")
        if check.derive:
            try:
                derive.function(spec.folder, check.derive)
            except derive.DeriveError as exc:
                raise SpecError(f"{path}: check '{check.name}': {exc}") from None


def read_source(spec: Assignment):
    """The source notebook (solutions and hidden tests included)."""
    try:
        return nbformat.read(spec.notebook_path, as_version=4)
    except Exception as exc:  # a broken source notebook is an instructor error: say which file
        raise SpecError(f"{spec.notebook_path}: cannot read the source notebook: {exc}") from None
