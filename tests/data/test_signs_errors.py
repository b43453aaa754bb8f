"""Bad input: a clear message, and nothing half-written in the output folder (or the old files kept)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from autograder import cli
from autograder.data import signs


def build_small(out, source, spec, manifest, **kw):
    return signs.build(out, source=source, spec=spec, manifest=manifest, progress=False, log=lambda *_: None, **kw)


def cli_error(args, capsys) -> str:
    """Run the CLI, expect exit code 1, return stderr after checking it is short and has no traceback."""
    capsys.readouterr()
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "error: " in err
    # A progress bar may stand before the message; the message itself starts on its own line.
    at = err.index("error: ")
    assert at == 0 or err[at - 1] == "\n"
    err = err[at:]
    assert 1 <= len(err.splitlines()) <= 2
    return err


def test_small_build_works_from_root_or_dataset_folder(tmp_path, small_source, small_spec, small_manifest):
    a, b = tmp_path / "a", tmp_path / "b"
    build_small(a, small_source, small_spec, small_manifest)
    build_small(b, small_source / "Dataset", small_spec, small_manifest)
    with h5py.File(a / "train_signs.h5", "r") as fa, h5py.File(b / "train_signs.h5", "r") as fb:
        assert fa["train_set_x"].shape == (9, 64, 64, 3)
        assert np.bincount(fa["train_set_y"][()]).tolist() == [3, 3, 3]
        assert fa["list_classes"][()].tolist() == [0, 1, 2]
        assert np.array_equal(fa["train_set_x"][()], fb["train_set_x"][()])
    assert sorted(p.name for p in a.iterdir()) == ["test_signs.h5", "train_signs.h5"]


def test_missing_source_folder_cli(tmp_path, capsys, leftovers):
    out = tmp_path / "out"
    err = cli_error(["data", "build", "--source", str(tmp_path / "nowhere"), "--out", str(out)], capsys)
    assert str(tmp_path / "nowhere") in err and "does not exist" in err
    assert leftovers(out) == []


def test_source_is_a_file(tmp_path, capsys, leftovers):
    (tmp_path / "photos.zip").write_bytes(b"PK")
    err = cli_error(["data", "build", "--source", str(tmp_path / "photos.zip"), "--out", str(tmp_path / "out")], capsys)
    assert "photos.zip is not a folder" in err
    assert leftovers(tmp_path / "out") == []


def test_source_without_class_folders(tmp_path, capsys, leftovers):
    (tmp_path / "photos" / "misc").mkdir(parents=True)
    out = tmp_path / "out"
    err = cli_error(["data", "build", "--source", str(tmp_path / "photos"), "--out", str(out)], capsys)
    assert "neither Dataset/" in err
    assert leftovers(out) == []


def test_missing_class_folder(tmp_path, small_source, small_spec, small_manifest, leftovers):
    for p in (small_source / "Dataset" / "2").iterdir():
        p.unlink()
    (small_source / "Dataset" / "2").rmdir()
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"lacks the class folder\(s\) 2"):
        build_small(out, small_source, small_spec, small_manifest)
    assert leftovers(out) == []


def test_class_with_too_few_images(tmp_path, small_source, small_spec, small_manifest, leftovers):
    photos = sorted((small_source / "Dataset" / "1").iterdir())
    for p in photos[:2]:
        p.unlink()
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"class 1 has only 3 images; the build needs at least 4"):
        build_small(out, small_source, small_spec, small_manifest)
    assert leftovers(out) == []


def test_real_class_count_rule_is_200(tmp_path, shared_photos, capsys, leftovers):
    # The user-facing build needs 180 + 20 per class: a copy with 199 photos in class 0 is refused.
    import shutil

    src = tmp_path / "copy"
    shutil.copytree(shared_photos / "Dataset", src / "Dataset")
    for p in sorted((src / "Dataset" / "0").iterdir())[199:]:
        p.unlink()
    out = tmp_path / "out"
    err = cli_error(["data", "build", "--source", str(src), "--out", str(out)], capsys)
    assert "class 0 has only 199 images; the build needs at least 200" in err
    assert leftovers(out) == []


def test_checksum_mismatch_names_the_file(tmp_path, small_source, small_spec, small_manifest, leftovers):
    # One extra byte at the end: still a decodable JPEG, just not the upstream photo. Every photo of
    # class 0 is changed so the chosen ones certainly include a changed one.
    for p in (small_source / "Dataset" / "0").iterdir():
        p.write_bytes(p.read_bytes() + b"\0")
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"checksum mismatch for .*Dataset/0/IMG_\w+\.JPG"):
        build_small(out, small_source, small_spec, small_manifest)
    assert leftovers(out) == []


def test_real_manifest_rejects_a_changed_photo_cli(tmp_path, shared_photos, capsys, leftovers):
    import shutil

    src = tmp_path / "copy"
    shutil.copytree(shared_photos / "Dataset", src / "Dataset")
    for p in (src / "Dataset" / "3").iterdir():
        p.write_bytes(p.read_bytes()[:-1])
    out = tmp_path / "out"
    err = cli_error(["data", "build", "--source", str(src), "--out", str(out)], capsys)
    assert "checksum mismatch for " in err and "/Dataset/3/IMG_" in err
    assert leftovers(out) == []


def test_photo_not_in_manifest(tmp_path, small_source, small_spec, small_manifest, leftovers):
    only_known = {k: v for k, v in small_manifest.items() if not k.startswith("2/")}
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"Dataset/2/IMG_\w+\.JPG is not in the image manifest"):
        build_small(out, small_source, small_spec, only_known)
    assert leftovers(out) == []


def test_unreadable_image(tmp_path, small_source, small_spec, leftovers):
    for p in (small_source / "Dataset" / "1").iterdir():
        p.write_bytes(b"this is not a JPEG")
    # The manifest vouches for the broken bytes, so the failure is the decoder's, not the checksum's.
    manifest = signs.make_manifest(small_source / "Dataset", small_spec.classes)
    out = tmp_path / "out"
    with pytest.raises(signs.DataError, match=r"cannot read image .*Dataset/1/IMG_\w+\.JPG"):
        build_small(out, small_source, small_spec, manifest)
    assert leftovers(out) == []


def test_failed_rebuild_keeps_the_old_files(tmp_path, small_source, small_spec, small_manifest, leftovers):
    out = tmp_path / "out"
    build_small(out, small_source, small_spec, small_manifest)
    before = {name: (out / name).read_bytes() for name in leftovers(out)}
    for p in (small_source / "Dataset" / "0").iterdir():
        p.write_bytes(p.read_bytes() + b"x")
    with pytest.raises(signs.DataError, match="checksum mismatch"):
        build_small(out, small_source, small_spec, small_manifest, force=True)
    assert {name: (out / name).read_bytes() for name in leftovers(out)} == before


def test_failure_while_writing_leaves_no_temp_file(tmp_path, small_source, small_spec, small_manifest, monkeypatch, leftovers):
    out = tmp_path / "out"
    build_small(out, small_source, small_spec, small_manifest)
    before = {name: (out / name).read_bytes() for name in leftovers(out)}
    real_write = signs._write
    calls = []

    def write_then_fail(path, arrays, attrs):
        calls.append(path)
        real_write(path, arrays, attrs)
        if len(calls) == 2:  # the second file is written, then the disk "fills up"
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(signs, "_write", write_then_fail)
    with pytest.raises(signs.DataError, match=r"cannot write the SIGNS files to .*: No space left on device"):
        build_small(out, small_source, small_spec, small_manifest, force=True)
    assert len(calls) == 2 and all(p.parent == out for p in calls)
    assert {name: (out / name).read_bytes() for name in leftovers(out)} == before


def test_unwritable_output_is_a_clear_cli_error(tmp_path, shared_photos, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    err = cli_error(["data", "build", "--source", str(shared_photos), "--out", str(blocker / "sub")], capsys)
    assert "cannot write the SIGNS files" in err and str(blocker / "sub") in err
