"""Fixtures for the SIGNS build tests: the shared photos, small copies of them, and their manifests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder import course
from autograder.data import signs

# Small enough that each bad-input test decodes a handful of photos; only the library API takes it.
SMALL = signs.Spec(classes=(0, 1, 2), n_train=3, n_test=1)
PHOTOS_PER_CLASS = 5


def shared_photos_dir() -> Path:
    default = course.ROOT / ".." / "shared" / "data" / "sign-language-digits"
    return Path(os.environ.get("SIGNS_SOURCE") or default).resolve()


@pytest.fixture(scope="session")
def shared_photos() -> Path:
    """The shared copy of the photos (a folder holding Dataset/0..5)."""
    path = shared_photos_dir()
    if not (path / "Dataset" / "0").is_dir():
        pytest.skip(f"shared Sign Language Digits photos not found at {path} (set SIGNS_SOURCE)")
    return path


@pytest.fixture
def small_source(tmp_path, shared_photos) -> Path:
    """A fresh folder ``src/Dataset/<c>/`` holding the first few photos of each SMALL class."""
    root = tmp_path / "src"
    for c in SMALL.classes:
        dest = root / "Dataset" / str(c)
        dest.mkdir(parents=True)
        for name in sorted(os.listdir(shared_photos / "Dataset" / str(c)))[:PHOTOS_PER_CLASS]:
            shutil.copyfile(shared_photos / "Dataset" / str(c) / name, dest / name)
    return root


@pytest.fixture
def small_manifest(small_source) -> dict[str, str]:
    """The manifest of the untouched small copy (taken before a test changes anything)."""
    return signs.make_manifest(small_source / "Dataset", SMALL.classes)


@pytest.fixture
def small_spec() -> signs.Spec:
    return SMALL


@pytest.fixture
def leftovers():
    """``leftovers(folder)``: everything in ``folder`` (empty when it does not exist)."""
    return lambda folder: sorted(os.listdir(folder)) if Path(folder).exists() else []
