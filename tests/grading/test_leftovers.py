"""Folders of a grader that was killed are removed by the next one; nobody else's folders are touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.grading import leftovers, runner


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "submission.ipynb").write_text("{}")
    return folder


def test_sweep_removes_only_the_folders_of_processes_that_are_gone(tmp_path):
    dead = _dead_pid()
    gone_run = _folder(tmp_path, f"ag-run-{dead}-x1")
    gone_kernel = _folder(tmp_path, f"ag-kernel-{dead}-x2")
    mine = _folder(tmp_path, f"ag-run-{os.getpid()}-x3")
    parent = _folder(tmp_path, f"ag-run-{os.getppid()}-x4")  # a live process
    unrelated = [_folder(tmp_path, name) for name in ("ag-run-nopid-x5", f"other-{dead}-x6", "ag-runner")]
    target = _folder(tmp_path, "target")
    (tmp_path / f"ag-run-{dead}-link").symlink_to(target)  # a link is not a folder of ours: left as it is

    removed = leftovers.sweep(tmp_path)

    assert sorted(removed) == sorted([gone_run, gone_kernel])
    assert not gone_run.exists() and not gone_kernel.exists()
    for kept in [mine, parent, *unrelated, target]:
        assert (kept / "deep" / "submission.ipynb").is_file(), kept
    assert (tmp_path / f"ag-run-{dead}-link").is_symlink()


def test_sweep_of_a_missing_folder_is_quiet(tmp_path):
    assert leftovers.sweep(tmp_path / "no-such-folder") == []


def test_working_folders_carry_the_pid_and_the_first_one_sweeps(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.setattr(leftovers, "_swept", False)
    stale = _folder(tmp_path, f"ag-run-{_dead_pid()}-old")

    workdir = runner.prepare_workdir(nbformat.v4.new_notebook())
    try:
        assert workdir.parent == tmp_path and workdir.name.startswith(f"ag-run-{os.getpid()}-")
        assert not stale.exists()
        again = _folder(tmp_path, f"ag-run-{_dead_pid()}-later")
        second = runner.prepare_workdir(nbformat.v4.new_notebook())
        second_ok = again.exists()  # only the first folder of a process sweeps
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)
    assert second_ok
