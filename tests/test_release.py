"""Release: nbgrader's student version, deterministic, written whole, and checked up to date."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from autograder import cli, course, release
from autograder.data import published
from tests.toy_course import TOY


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    shutil.copytree(TOY, folder / "toy")
    return folder


def test_release_strips_solutions_and_hidden_tests_and_keeps_locked_cells():
    source = nbformat.read(TOY / "toy.ipynb", as_version=4)
    released = release.released_notebook(TOY / "toy.ipynb")
    text = "\n".join(c.source for c in released.cells)
    assert "### BEGIN SOLUTION" not in text and "10.0 ** rng.uniform" not in text
    assert "raise NotImplementedError()" in text
    assert "HIDDEN TESTS" not in text and 'record("scale.hidden"' not in text
    assert 'check("scale.visible"' in text
    assert [c.cell_type for c in released.cells] == [c.cell_type for c in source.cells]
    assert released.cells[1].source == source.cells[1].source  # the locked imports cell, unchanged


def test_release_is_deterministic():
    fresh = release._generate((TOY / "toy.ipynb").read_text(), "toy")  # bypasses every cache
    assert fresh == release.released_text(TOY / "toy.ipynb")


def test_write_then_compare(source_dir, tmp_path):
    out = tmp_path / "assignments"
    target = release.write("toy", source_dir, out)
    helpers = sorted(p.name for p in course.STUDENT_HELPERS.glob("*.py"))
    # The toy notebook loads no data: no course_data.json, and so no need for built SIGNS files.
    assert sorted(p.name for p in target.iterdir()) == sorted(["toy.ipynb", "requirements.txt", *helpers])
    assert release.compare("toy", source_dir, out) == []
    (target / "toy.ipynb").write_text((target / "toy.ipynb").read_text().replace("scale", "scal"))
    (target / helpers[0]).unlink()
    (target / "notes.txt").write_text("stray")
    problems = release.compare("toy", source_dir, out)
    assert any("toy.ipynb: differs" in p for p in problems)
    assert any(f"{helpers[0]}: missing" in p for p in problems)
    assert any("notes.txt: not part of the release" in p for p in problems)
    release.write("toy", source_dir, out)
    assert release.compare("toy", source_dir, out) == [f"{target / 'notes.txt'}: not part of the release"]


def test_cli_rejects_unknown_assignments(capsys):
    assert cli.main(["release", "--check", "--assignments", "no_such_assignment"]) == 2
    assert "unknown assignment(s): no_such_assignment" in capsys.readouterr().err


@pytest.mark.parametrize("name", course.assignment_names())
def test_committed_release_is_up_to_date(name):
    problems = release.compare(name)
    assert problems == [], "run `autograder release`:\n" + "\n".join(problems)


# ------------------------------------------------------------------ requirements.txt and course_data.json


@pytest.fixture(scope="module")
def data_source_dir(tmp_path_factory) -> Path:
    """The toy assignment with a cell that loads the SIGNS data, as batch_norm's and signs_model's do."""
    folder = tmp_path_factory.mktemp("source-data")
    shutil.copytree(TOY, folder / "toy")
    nb = nbformat.read(folder / "toy" / "toy.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("X_train, Y_train, X_test, Y_test, classes = load_dataset()"))
    nbformat.write(nb, folder / "toy" / "toy.ipynb")
    return folder


@pytest.fixture
def built_data(tmp_path) -> Path:
    """Stand-ins for the built SIGNS files (release only hashes them)."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    for name in published.FILES:
        (folder / name).write_bytes(f"the bytes of {name}".encode())
    return folder


def test_requirements_are_what_students_install(source_dir, tmp_path):
    target = release.write("toy", source_dir, tmp_path / "assignments")
    text = (target / "requirements.txt").read_text()
    assert text == (course.STUDENT_HELPERS / "requirements.txt").read_text()
    names = {Requirement(line).name for line in text.splitlines() if line.strip() and not line.startswith("#")}
    assert names == {"tensorflow", "numpy", "h5py", "matplotlib", "jupyterlab"}  # no grader, no nbgrader


def test_requirements_keep_the_bounds_of_pyproject():
    # Students must be able to install what the grader runs: the same ranges as the course's own package.
    project = tomllib.loads((course.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ours = {r.name: r.specifier for r in map(Requirement, project) if r.marker is None or r.marker.evaluate()}
    ours["tensorflow"] = ours.pop("tensorflow-cpu", None) or ours["tensorflow"]
    lines = (course.STUDENT_HELPERS / "requirements.txt").read_text().splitlines()
    for req in (Requirement(line) for line in lines if line.strip() and not line.startswith("#")):
        if req.name in ours:
            assert req.specifier == ours[req.name], req.name


def test_a_stale_requirements_file_is_noticed(source_dir, tmp_path):
    out = tmp_path / "assignments"
    target = release.write("toy", source_dir, out)
    (target / "requirements.txt").write_text("tensorflow\n")
    assert release.compare("toy", source_dir, out) == [f"{target / 'requirements.txt'}: differs from a fresh release"]
    (target / "requirements.txt").unlink()
    assert release.compare("toy", source_dir, out) == [f"{target / 'requirements.txt'}: missing"]


def test_course_data_names_the_url_and_the_built_files_hashes(data_source_dir, built_data, tmp_path):
    out = tmp_path / "assignments"
    url = "https://course.example.org/data"
    target = release.write("toy", data_source_dir, out, data_dir=built_data, data_url=url)
    doc = json.loads((target / "course_data.json").read_text())
    assert doc["base_url"] == "https://course.example.org/data/"
    for name in published.FILES:
        data = (built_data / name).read_bytes()
        assert doc["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert release.compare("toy", data_source_dir, out, data_dir=built_data, data_url=url) == []


def test_check_notices_rebuilt_data_and_another_url(data_source_dir, built_data, tmp_path):
    out = tmp_path / "assignments"
    url = "https://course.example.org/data/"
    target = release.write("toy", data_source_dir, out, data_dir=built_data, data_url=url)
    stale = [f"{target / 'course_data.json'}: differs from a fresh release"]
    assert release.compare("toy", data_source_dir, out, data_dir=built_data, data_url=url + "v2/") == stale
    assert release.compare("toy", data_source_dir, out, data_dir=built_data) == [f"{target / 'course_data.json'}: not part of the release"]
    (built_data / "test_signs.h5").write_bytes(b"rebuilt, one byte differs")
    assert release.compare("toy", data_source_dir, out, data_dir=built_data, data_url=url) == stale


def test_without_url_there_is_no_course_data_and_no_need_for_built_data(data_source_dir, tmp_path):
    # Nothing to download from, so nothing to check against: the release needs no built file.
    target = release.write("toy", data_source_dir, tmp_path / "assignments", data_dir=tmp_path / "nothing")
    assert not (target / "course_data.json").exists()
    assert release.compare("toy", data_source_dir, tmp_path / "assignments", data_dir=tmp_path / "nothing") == []


def test_release_with_an_address_needs_the_built_data_and_says_so(data_source_dir, tmp_path):
    url = "https://course.example.org/data/"
    with pytest.raises(published.DataNotBuilt, match=r"autograder data build"):
        release.write("toy", data_source_dir, tmp_path / "assignments", data_dir=tmp_path / "nothing", data_url=url)
    with pytest.raises(release.errors.UsageError, match="https://"):
        release.write("toy", data_source_dir, tmp_path / "assignments", data_dir=tmp_path, data_url="ftp://x/")


def test_a_course_data_file_that_no_longer_belongs_is_removed(source_dir, tmp_path):
    out = tmp_path / "assignments"
    target = out / "toy"
    target.mkdir(parents=True)
    (target / "course_data.json").write_text("{}")
    release.write("toy", source_dir, out)
    assert not (target / "course_data.json").exists()
    assert release.compare("toy", source_dir, out) == []


def test_cli_check_reads_the_data_folder_and_url(built_data, capsys):
    # The committed signs_model release has no address, so no course_data.json: a check with one asks for it.
    args = ["release", "--check", "--assignments", "signs_model", "--data-dir", str(built_data)]
    assert cli.main(args) == 0
    assert cli.main([*args, "--data-url", "https://course.example.org/data/"]) == 1
    assert re.search(r"signs_model/course_data.json: missing", capsys.readouterr().err)
