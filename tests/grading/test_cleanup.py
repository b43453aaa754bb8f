"""cleanup: a submission's folder goes away whatever shape it has, and cleanup never raises."""

from __future__ import annotations

import os
import shutil

import pytest

from autograder.grading import cleanup, leftovers

DEPTH = 2100  # deeper than Python's recursion limit, and as a path (4200 characters) longer than PATH_MAX


def deep_tree(root, depth: int = DEPTH) -> None:
    """``root/d/d/.../d/leaf.txt``, built relative to open folders, as a submission's loop of mkdir/chdir would."""
    os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
        os.write(leaf, b"x")
        os.close(leaf)
    finally:
        os.close(fd)


def test_the_old_way_fails_on_a_deep_tree(tmp_path):
    # Why this module exists: shutil.rmtree recurses in Python (3.11) and raises past ignore_errors.
    deep_tree(tmp_path / "w")
    with pytest.raises((RecursionError, OSError)):
        shutil.rmtree(tmp_path / "w", ignore_errors=True)
    assert cleanup.remove_tree(tmp_path / "w")


def test_removes_a_deep_tree(tmp_path):
    deep_tree(tmp_path / "w")
    assert cleanup.remove_tree(tmp_path / "w") is True
    assert not (tmp_path / "w").exists()


def test_never_follows_links_and_removes_odd_entries(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("instructor file")
    work = tmp_path / "w"
    (work / "a" / "b").mkdir(parents=True)
    (work / "a" / "link").symlink_to(outside)
    (work / "a" / "b" / "file_link").symlink_to(outside / "keep.txt")
    os.mkfifo(work / "a" / "fifo")
    locked = work / "a" / "locked"
    locked.mkdir()
    (locked / "inner.txt").write_text("x")
    locked.chmod(0)
    assert cleanup.remove_tree(work)
    assert not work.exists()
    assert (outside / "keep.txt").read_text() == "instructor file"


def test_missing_path_is_already_clean(tmp_path):
    assert cleanup.remove_tree(tmp_path / "never-made")


def test_a_failure_is_reported_not_raised(tmp_path, monkeypatch, caplog):
    work = tmp_path / "w"
    (work / "sub").mkdir(parents=True)

    def refuse(*args, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cleanup.os, "rmdir", refuse)
    assert cleanup.remove_tree(work) is False
    assert "cannot remove" in caplog.text or "failed" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_chown_tree_reaches_the_bottom_of_a_deep_tree(tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    deep_tree(work, depth=1500)
    assert cleanup.chown_tree(work, 54321, 54321)
    owners = set()
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1500):
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
        owners.add(os.stat(fd).st_uid)
    owners.add(os.stat("leaf.txt", dir_fd=fd).st_uid)
    os.close(fd)
    assert owners == {54321}
    assert cleanup.remove_tree(work)


def test_sweep_removes_a_dead_graders_deep_folder(tmp_path):
    dead = tmp_path / "ag-run-999999999-abc"  # no such pid
    dead.mkdir()
    deep_tree(dead)
    assert leftovers.sweep(tmp_path) == [dead]
    assert not dead.exists()
