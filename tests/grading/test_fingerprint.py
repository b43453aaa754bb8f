"""The fingerprint of what decides a grade: one digest per file, a combined one, and what differs in words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import course
from autograder.grading import fingerprint
from autograder.grading import spec as spec_mod

PACKAGE = Path(fingerprint.__file__).resolve().parent.parent


@pytest.fixture
def setup(toy_copy, tmp_path):
    """A toy copy with its own helper modules, data folder and grader code, so that each can be edited."""
    helpers = tmp_path / "helpers"
    shutil.copytree(course.STUDENT_HELPERS, helpers, ignore=shutil.ignore_patterns("__pycache__"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.h5").write_bytes(b"\x89HDF\r\n" + bytes(100))
    package = tmp_path / "package"
    for part in fingerprint.GRADER_CODE:
        src = PACKAGE / part
        if src.is_dir():
            shutil.copytree(src, package / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (package / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, package / part)
    (toy_copy / "reference.json").write_text('{"format": 1, "values": {}}')

    def make():
        return fingerprint.of_assignment(spec_mod.load(toy_copy), data_dir=data, helpers=helpers, package_dir=package)

    return make, {"toy": toy_copy, "helpers": helpers, "data": data, "package": package}


def test_one_digest_per_file_that_decides_a_grade(setup):
    make, _ = setup
    fp = make()
    assert {
        "assignment/toy.ipynb",
        "assignment/grading.toml",
        "assignment/reference.json",
        "helpers/selfcheck.py",
        "helpers/course_utils.py",
        "data/train.h5",
        "grader/grading/pipeline.py",
        "grader/grading/compare.py",
        "grader/grading/reference_store.py",
        "grader/executor/worker.py",
    } <= set(fp.files)
    assert not [label for label in fp.files if "__pycache__" in label]
    assert all(len(d) == 64 for d in fp.files.values())
    assert fp.version and fp.environment["python"] and fp.environment["numpy"]
    assert make() == fp and make().combined == fp.combined  # stable


@pytest.mark.parametrize(
    "where,path,label",
    [
        ("toy", "grading.toml", "assignment/grading.toml"),
        ("toy", "reference.json", "assignment/reference.json"),
        ("toy", "toy.ipynb", "assignment/toy.ipynb"),
        ("helpers", "selfcheck.py", "helpers/selfcheck.py"),
        ("data", "train.h5", "data/train.h5"),
        ("package", "grading/compare.py", "grader/grading/compare.py"),
    ],
)
def test_a_change_to_any_of_them_changes_its_digest_and_the_combined_one_only(setup, where, path, label):
    make, folders = setup
    before = make()
    target = folders[where] / path
    target.write_bytes(target.read_bytes() + b"\n")
    after = make()
    assert after.combined != before.combined
    assert [k for k in after.files if after.files[k] != before.files.get(k)] == [label]
    assert after.differences(before) == [f"{label} changed"]


def test_added_removed_files_versions_and_libraries_are_named(setup):
    make, folders = setup
    before = make()
    (folders["data"] / "test.h5").write_bytes(b"x")
    (folders["toy"] / "reference.json").unlink()
    after = make()
    assert after.differences(before) == ["assignment/reference.json removed", "data/test.h5 added"]
    other = fingerprint.Fingerprint.build("9.9", before.files, {**before.environment, "numpy": "0.1"})
    assert other.differences(before) == [f"grader version {before.version} -> 9.9", f"numpy {before.environment['numpy']} -> 0.1"]


def test_json_round_trip_and_forged_or_old_records_are_refused(setup):
    make, _ = setup
    fp = make()
    assert fingerprint.Fingerprint.from_dict(fp.to_dict()) == fp
    forged = fp.to_dict()
    forged["files"]["assignment/grading.toml"] = "0" * 64  # a digest edited without the combined one
    with pytest.raises(ValueError, match="combined digest"):
        fingerprint.Fingerprint.from_dict(forged)
    for old in (None, {}, {"format": 0}, "abc", {**fp.to_dict(), "files": []}):
        with pytest.raises(ValueError):
            fingerprint.Fingerprint.from_dict(old)


def test_the_real_assignment_and_grader_are_fingerprinted(toy_dir):
    fp = fingerprint.of_assignment(spec_mod.load(toy_dir))
    assert fp.files["grader/grading/fingerprint.py"] == fingerprint.file_digest(Path(fingerprint.__file__))
    assert fp.files["helpers/selfcheck.py"] == fingerprint.file_digest(course.STUDENT_HELPERS / "selfcheck.py")
    assert fp.files["assignment/reference.json"] == fingerprint.file_digest(toy_dir / "reference.json")
