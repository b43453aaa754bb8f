"""What a student downloads from the site: the released folder as a zip, with what a fresh machine needs."""

from __future__ import annotations

import io
import json
import zipfile

from autograder import course
from autograder.data import published
from autograder.site import catalog


def _zip_of(name: str) -> zipfile.ZipFile:
    offered = catalog.load_one(course.SOURCE_DIR / name, course.RELEASE_DIR)
    return zipfile.ZipFile(io.BytesIO(offered.zip_bytes))


def test_a_data_assignment_zip_holds_requirements_and_course_data():
    with _zip_of("signs_model") as zf:
        assert sorted(zf.namelist()) == [
            "signs_model/course_data.json",
            "signs_model/course_utils.py",
            "signs_model/requirements.txt",
            "signs_model/selfcheck.py",
            "signs_model/signs_model.ipynb",
        ]
        assert zf.read("signs_model/requirements.txt") == (course.STUDENT_HELPERS / "requirements.txt").read_bytes()
        doc = json.loads(zf.read("signs_model/course_data.json"))
    # The hashes a student's download is checked against are those of the built files the book publishes.
    assert doc["files"] == published.digests(course.datasets_dir())


def test_an_assignment_without_data_gets_requirements_only():
    with _zip_of("tf_basics") as zf:
        assert sorted(zf.namelist()) == [
            "tf_basics/course_utils.py",
            "tf_basics/requirements.txt",
            "tf_basics/selfcheck.py",
            "tf_basics/tf_basics.ipynb",
        ]
