"""Fixtures for every test folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import autograder  # noqa: F401 (before anything imports nbformat: see autograder/_startup.py)
from tests.toy_course import TOY


@pytest.fixture
def toy_copy(tmp_path) -> Path:
    """A private copy of the toy assignment (notebook, grading.toml, reference.json) that a test may edit."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    return folder
