"""The SIGNS build on the real photos: format, balance, reproducibility, skip and --force, verify."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil

import h5py
import numpy as np
import pytest

from autograder import cli, course
from autograder.data import signs


def read_arrays(folder):
    out = {}
    for name in (signs.TRAIN_FILE, signs.TEST_FILE):
        with h5py.File(folder / name, "r") as f:
            out.update({f"{name}:{k}": f[k][()] for k in f.keys()})
    return out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory, shared_photos):
    """Two independent full builds: one through the CLI, one through the library."""
    a = tmp_path_factory.mktemp("build_a")
    b = tmp_path_factory.mktemp("build_b")
    assert cli.main(["data", "build", "--source", str(shared_photos), "--out", str(a)]) == 0
    signs.build(b, source=shared_photos / "Dataset", progress=False, log=lambda *_: None)
    return a, b


def test_committed_manifest_lists_every_shared_photo(shared_photos):
    manifest = signs.load_manifest()
    assert manifest == signs.make_manifest(shared_photos / "Dataset")
    per_class = [sum(k.startswith(f"{c}/") for k in manifest) for c in range(6)]
    assert per_class == [205, 206, 206, 206, 207, 207]
    doc = json.loads(signs.MANIFEST_PATH.read_text())
    assert doc["upstream_commit"] == course.UPSTREAM_COMMIT


def test_built_files_have_the_course_format(two_builds):
    folder = two_builds[0]
    with h5py.File(folder / "train_signs.h5", "r") as f:
        assert set(f.keys()) == {"train_set_x", "train_set_y", "list_classes"}
        x, y, classes = f["train_set_x"][()], f["train_set_y"][()], f["list_classes"][()]
    assert x.shape == (1080, 64, 64, 3) and x.dtype == np.uint8
    assert y.shape == (1080,) and y.dtype == np.int64
    assert classes.dtype == np.int64 and classes.tolist() == [0, 1, 2, 3, 4, 5]
    assert np.bincount(y).tolist() == [180] * 6
    with h5py.File(folder / "test_signs.h5", "r") as f:
        assert set(f.keys()) == {"test_set_x", "test_set_y", "list_classes"}
        tx, ty, tclasses = f["test_set_x"][()], f["test_set_y"][()], f["list_classes"][()]
    assert tx.shape == (120, 64, 64, 3) and tx.dtype == np.uint8
    assert ty.shape == (120,) and ty.dtype == np.int64
    assert tclasses.tolist() == [0, 1, 2, 3, 4, 5]
    assert np.bincount(ty).tolist() == [20] * 6
    # Real photos, not blank arrays; the classes are mixed, not in blocks; no photo in both splits.
    assert 60 < x.mean() < 240 and x.std() > 20
    assert len(set(y[:30].tolist())) >= 4
    train_rows = {hashlib.sha256(img.tobytes()).hexdigest() for img in x}
    assert len(train_rows) == 1080
    assert not train_rows & {hashlib.sha256(img.tobytes()).hexdigest() for img in tx}


def test_two_builds_are_byte_identical(two_builds):
    a, b = (read_arrays(folder) for folder in two_builds)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), key


def test_labels_match_the_photos_folders(two_builds, shared_photos):
    # Re-derive one test image from its photo with the documented recipe and find it under its label.
    from PIL import Image

    _, test = signs.select(signs.list_images(shared_photos / "Dataset", range(6)))
    rel, label = test[0]
    with Image.open(shared_photos / "Dataset" / rel) as img:
        expected = np.asarray(img.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS))
    with h5py.File(two_builds[0] / "test_signs.h5", "r") as f:
        assert np.array_equal(f["test_set_x"][0], expected)
        assert f["test_set_y"][0] == label == int(rel.split("/")[0])


def test_student_loader_reads_the_built_files(two_builds):
    spec = importlib.util.spec_from_file_location("course_utils_for_data", course.STUDENT_HELPERS / "course_utils.py")
    cu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cu)
    X_train, Y_train, X_test, Y_test, classes = cu.load_dataset(two_builds[0])
    assert X_train.shape == (1080, 64, 64, 3) and Y_train.shape == (1, 1080)
    assert X_test.shape == (120, 64, 64, 3) and Y_test.shape == (1, 120)
    assert classes.tolist() == [0, 1, 2, 3, 4, 5]
    assert cu.convert_to_one_hot(Y_train, 6).sum(axis=1).tolist() == [180.0] * 6


def test_second_build_skips_and_force_rebuilds(tmp_path, two_builds, shared_photos, capsys):
    out = tmp_path / "data"
    shutil.copytree(two_builds[0], out)
    before = {p.name: p.stat().st_ino for p in out.iterdir()}
    capsys.readouterr()

    assert cli.main(["data", "build", "--source", str(shared_photos), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "nothing to do" in said and str(out) in said
    assert {p.name: p.stat().st_ino for p in out.iterdir()} == before

    assert cli.main(["data", "build", "--source", str(shared_photos), "--out", str(out), "--force"]) == 0
    said = capsys.readouterr().out
    assert "Wrote" in said and str(out / "train_signs.h5") in said and " s." in said
    assert {p.name: p.stat().st_ino for p in out.iterdir()}.keys() == before.keys()
    assert all(p.stat().st_ino != before[p.name] for p in out.iterdir())
    a, b = read_arrays(two_builds[0]), read_arrays(out)
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_verify_accepts_a_build(two_builds, capsys):
    assert cli.main(["data", "verify", "--out", str(two_builds[0])]) == 0
    assert "OK" in capsys.readouterr().out


def test_verify_reports_missing_files(tmp_path, capsys):
    assert cli.main(["data", "verify", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "train_signs.h5 does not exist" in err and "autograder data build" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_verify_and_build_notice_a_damaged_file(tmp_path, two_builds, shared_photos, capsys):
    out = tmp_path / "data"
    shutil.copytree(two_builds[0], out)
    with h5py.File(out / "test_signs.h5", "r+") as f:
        f["test_set_x"][0, 0, 0, 0] ^= 0xFF  # one changed byte, same shape and dtype
    capsys.readouterr()
    assert cli.main(["data", "verify", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "test_signs.h5" in err and "content hash" in err and "--force" in err
    # The build does not skip damaged files: it rebuilds them.
    assert cli.main(["data", "build", "--source", str(shared_photos), "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert cli.main(["data", "verify", "--out", str(out)]) == 0


def test_verify_reports_a_wrong_format(tmp_path, capsys):
    with h5py.File(tmp_path / "train_signs.h5", "w") as f:
        f["train_set_x"] = np.zeros((10, 64, 64, 3), np.uint8)
        f["train_set_y"] = np.zeros((10,), np.int64)
        f["list_classes"] = np.arange(6)
    (tmp_path / "test_signs.h5").write_bytes(b"not an HDF5 file")
    assert cli.main(["data", "verify", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "train_set_x is (10, 64, 64, 3) uint8, expected (1080, 64, 64, 3) uint8" in err
    assert "test_signs.h5 is not a readable HDF5 file" in err
    assert "Traceback" not in err
