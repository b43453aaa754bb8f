"""The built book publishes the SIGNS files that the released notebooks download and check."""

from __future__ import annotations

import hashlib
import importlib.util
import re

import pytest

from autograder import course, release
from autograder.data import published

NAMES = ("train_signs.h5", "test_signs.h5")


@pytest.fixture(scope="module")
def data(site):
    folder = site / "data"
    assert folder.is_dir(), "the book has no data/ folder (the signs_data extension did not run)"
    return folder


def test_the_published_files_are_the_ones_release_hashes(data):
    # release --data-url writes the digests of the data folder's files; the book must publish those bytes.
    want = published.digests(course.datasets_dir())
    for name in NAMES:
        body = (data / name).read_bytes()
        assert {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)} == want[name], f"{name}: rebuild the book"


def test_sha256sums_lists_the_published_files(data):
    lines = (data / "SHA256SUMS").read_text().splitlines()
    assert sorted(lines) == sorted(f"{hashlib.sha256((data / n).read_bytes()).hexdigest()}  {n}" for n in NAMES)


def test_the_data_page_credits_the_photos_and_is_linked_from_set_up(site, data):
    page = (data / "index.html").read_text()
    for credit in ("Sign Language Digits Dataset", "Apache License, Version 2.0", "Zeynep Dikle", "Arda Mavi"):
        assert credit in page
    setup = (site / "book" / "setup.html").read_text()
    links = re.findall(r'href="([^"]*data/index\.html)"', setup)
    assert links and all((site / "book" / link).resolve() == data / "index.html" for link in links)


def test_a_bundle_released_with_the_books_address_loads_the_data_from_it(served_book, tmp_path, monkeypatch):
    # The whole path a student's machine takes: release with --data-url, unpack, load_dataset() with no data.
    target = release.write("signs_model", release_dir=tmp_path / "bundle", data_url=f"{served_book}/data/")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("course_utils_released", target / "course_utils.py")
    cu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cu)
    X_train, Y_train, X_test, Y_test, classes = cu.load_dataset()
    assert X_train.shape == (1080, 64, 64, 3) and Y_test.shape == (1, 120) and classes.tolist() == [0, 1, 2, 3, 4, 5]
    assert sorted(p.name for p in (tmp_path / "cache" / "course-signs").iterdir()) == sorted(NAMES)
