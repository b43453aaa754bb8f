"""The built book publishes the SIGNS files that the released notebooks download and check."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from booksite import ASSIGNMENTS, ROOT

NAMES = ("train_signs.h5", "test_signs.h5")


def course_data_files() -> dict[str, dict]:
    """What every released course_data.json expects (one document: they must agree)."""
    docs = {
        (ROOT / "assignments" / n / "course_data.json").read_text()
        for n in ASSIGNMENTS
        if (ROOT / "assignments" / n / "course_data.json").is_file()
    }
    assert len(docs) == 1, "the released course_data.json files differ: run `autograder release`"
    return json.loads(docs.pop())["files"]


@pytest.fixture(scope="module")
def data(site):
    folder = site / "data"
    assert folder.is_dir(), "the book has no data/ folder (the signs_data extension did not run)"
    return folder


def test_the_published_files_are_the_ones_students_notebooks_check(data):
    for name, want in course_data_files().items():
        body = (data / name).read_bytes()
        assert {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)} == want, f"{name}: rebuild the book or release"


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
