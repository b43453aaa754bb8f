"""The variant harness: grade each assignment's source with wrong, correct and hard-coded replacements.

Every ``tests/assignments/<name>/variants.py`` (see docs/architecture.md, "Assignment conventions") gives
replacements for solution cells by grade_id. A case builds the source notebook with the replacement (nothing
else changed), grades it with ``grade()`` and asserts the rule of its kind. Real assignments run TensorFlow
and are marked ``slow``; the toy fixture assignment runs the same harness fast.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from autograder import course, reference
from autograder.grading import spec
from tests.assignments.variant_pool import VariantPool, grade_variant
from tests.toy_course import TOY

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Case:
    assignment: str
    kind: str  # "wrong", "correct", "hardcoded" or "source"
    replacements: tuple[tuple[str, str], ...]  # (grade_id of a solution cell, new source)
    also_fails: tuple[str, ...] = ()  # groups a wrong variant is allowed (and required) to zero too
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.assignment}-{self.kind}" + (f"-{self.label}" if self.label else "")


def load_variants(path: Path) -> ModuleType:
    name = f"variants_{path.parent.name}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def variant_files() -> dict[str, Path]:
    """assignment name -> its variants.py (the toy fixture included)."""
    files = {p.parent.name: p for p in sorted(HERE.glob("*/variants.py"))}
    files["toy"] = TOY / "variants.py"
    return files


def cases_of(name: str, module: ModuleType) -> list[Case]:
    cases = [Case(name, "source", ())]
    also = getattr(module, "WRONG_ALSO_FAILS", {})
    for grade_id, variants in getattr(module, "WRONG", {}).items():
        for label, source in variants.items():
            cases.append(Case(name, "wrong", ((grade_id, source),), tuple(also.get((grade_id, label), ())), f"{grade_id}-{label}"))
    for grade_id, variants in getattr(module, "CORRECT", {}).items():
        for label, source in variants.items():
            cases.append(Case(name, "correct", ((grade_id, source),), (), f"{grade_id}-{label}"))
    hardcoded = getattr(module, "HARDCODED", {})
    if hardcoded:
        cases.append(Case(name, "hardcoded", tuple(hardcoded.items())))
    return cases


def all_cases() -> list:
    params = []
    for name, path in variant_files().items():
        marks = () if name == "toy" else (pytest.mark.slow,)
        if name != "toy" and name not in course.assignment_names():
            params.append(pytest.param(Case(name, "missing", ()), id=f"{name}-missing", marks=marks))
            continue
        for case in cases_of(name, load_variants(path)):
            params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def pytest_generate_tests(metafunc):
    if "variant_case" in metafunc.fixturenames:
        metafunc.parametrize("variant_case", all_cases())


@pytest.fixture(scope="session")
def assignment_spec(tmp_path_factory):
    """name -> loaded spec; the toy gets a temporary copy with freshly built reference values."""
    cache: dict[str, spec.Assignment] = {}

    def get(name: str) -> spec.Assignment:
        if name not in cache:
            if name == "toy":
                folder = tmp_path_factory.mktemp("variants") / "toy"
                shutil.copytree(TOY, folder)
                toy = spec.load(folder)
                reference.write(toy, reference.build(toy))
            cache[name] = spec.load(folder if name == "toy" else name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def variant_pool(request):
    pool = VariantPool()
    yield pool
    pool.close()


@pytest.fixture
def grade_case(assignment_spec, request):
    """case -> (spec, Result): the toy graded here, a real assignment's cases in the variant pool."""

    def run(case: Case):
        assignment = assignment_spec(case.assignment)
        if case.assignment == "toy":
            return assignment, grade_variant(assignment, case.replacements)
        pool = request.getfixturevalue("variant_pool")
        params = [getattr(getattr(item, "callspec", None), "params", {}) for item in request.session.items]
        selected = [p["variant_case"] for p in params if "variant_case" in p]
        pool.submit_all(c for c in selected if c.assignment != "toy" and c.kind != "missing")
        return assignment, pool.result(case, timeout=900)

    return run
