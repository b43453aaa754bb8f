"""What a student downloads from the site: the released folder as a zip, with what a fresh machine needs."""

from __future__ import annotations

import io
import json
import zipfile

from autograder import course, release
from autograder.data import published
from autograder.site import catalog


def _zip_of(name: str, release_dir=course.RELEASE_DIR) -> zipfile.ZipFile:
    offered = catalog.load_one(course.SOURCE_DIR / name, release_dir)
    return zipfile.ZipFile(io.BytesIO(offered.zip_bytes))


def test_a_data_assignment_released_with_an_address_zips_requirements_and_course_data(tmp_path):
    url = "https://course.example.org/data/"
    release.write("signs_model", release_dir=tmp_path, data_url=url)
    with _zip_of("signs_model", tmp_path) as zf:
        assert sorted(zf.namelist()) == [
            "signs_model/course_data.json",
            "signs_model/course_utils.py",
            "signs_model/requirements.txt",
            "signs_model/selfcheck.py",
            "signs_model/signs_model.ipynb",
            "signs_model/signs_model.zh.ipynb",
        ]
        assert zf.read("signs_model/requirements.txt") == (course.STUDENT_HELPERS / "requirements.txt").read_bytes()
        doc = json.loads(zf.read("signs_model/course_data.json"))
    # The hashes a student's download is checked against are those of the built files the book publishes.
    assert doc["base_url"] == url and doc["files"] == published.digests(course.datasets_dir())


def test_the_committed_release_has_no_address_and_so_no_course_data():
    with _zip_of("signs_model") as zf:
        assert "signs_model/course_data.json" not in zf.namelist()
        assert "signs_model/requirements.txt" in zf.namelist()


def test_an_assignment_without_data_gets_requirements_only():
    with _zip_of("tf_basics") as zf:
        assert sorted(zf.namelist()) == [
            "tf_basics/course_utils.py",
            "tf_basics/requirements.txt",
            "tf_basics/selfcheck.py",
            "tf_basics/tf_basics.ipynb",
            "tf_basics/tf_basics.zh.ipynb",
        ]


def test_every_assignment_offers_its_chinese_notebook_beside_the_english_one():
    for name in course.assignment_names():
        offered = catalog.load_one(course.SOURCE_DIR / name, course.RELEASE_DIR)
        assert offered.translated == {"zh": f"{name}.zh.ipynb"}
        with zipfile.ZipFile(io.BytesIO(offered.zip_bytes)) as zf:
            chinese = json.loads(zf.read(f"{name}/{name}.zh.ipynb"))
        assert chinese["metadata"]["autograder"] == {"language": "zh"}
