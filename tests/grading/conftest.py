"""Shared fixtures: a copy of the toy assignment with its reference values built by the test run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import reference, release
from autograder.grading import core, spec
from tests import toy_course
from tests.toy_course import FAST, TOY


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course") / "toy"
    shutil.copytree(TOY, folder)
    toy = spec.load(folder)
    reference.write(toy, reference.build(toy))
    return folder


@pytest.fixture(scope="session")
def toy(toy_dir) -> spec.Assignment:
    return spec.load(toy_dir)


@pytest.fixture(scope="session")
def source_nb(toy):
    return spec.read_source(toy)


@pytest.fixture(scope="session")
def released_nb(toy):
    return release.released_notebook(toy.notebook_path, toy.name)


@pytest.fixture
def grade(toy):
    def run(nb, **kw):
        kw.setdefault("limits", FAST)
        return core.grade(nb, toy, **kw)

    return run


@pytest.fixture(scope="session")
def solved(source_nb, released_nb):
    """The released notebook with the solutions filled in: what an honest, correct student hands in."""
    return toy_course.fill_in(released_nb, source_nb)
