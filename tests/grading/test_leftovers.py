"""Folders of a grader that was killed are removed by the next one; nobody else's folders are touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
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
    gone_job = _folder(tmp_path, f"ag-job-{dead}.123-x7")  # a job's folder, made by a killed coordinator
    mine = _folder(tmp_path, f"ag-run-{os.getpid()}-x3")
    parent = _folder(tmp_path, f"ag-run-{os.getppid()}-x4")  # a live process
    unrelated = [_folder(tmp_path, name) for name in ("ag-run-nopid-x5", f"other-{dead}-x6", "ag-runner", f"ag-jobs-{dead}-x8")]
    target = _folder(tmp_path, "target")
    (tmp_path / f"ag-run-{dead}-link").symlink_to(target)  # a link is not a folder of ours: left as it is

    removed = leftovers.sweep(tmp_path)

    assert sorted(removed) == sorted([gone_run, gone_kernel, gone_job])
    assert not gone_run.exists() and not gone_kernel.exists() and not gone_job.exists()
    for kept in [mine, parent, *unrelated, target]:
        assert (kept / "deep" / "submission.ipynb").is_file(), kept
    assert (tmp_path / f"ag-run-{dead}-link").is_symlink()


def _start(pid: int | str) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def test_a_zombie_maker_counts_as_gone(tmp_path):
    # A worker killed together with its parent is handed to init, and init in a container may never reap it:
    # the pid then still answers kill(pid, 0) but nothing runs there.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        os.kill(child.pid, 0)  # still in the process table
        start = _start(child.pid)
        zombie_old = _folder(tmp_path, f"ag-run-{child.pid}-a1")
        zombie_new = _folder(tmp_path, f"ag-kernel-{child.pid}.{start}-a2")

        assert sorted(leftovers.sweep(tmp_path)) == sorted([zombie_old, zombie_new])
    finally:
        child.wait()


def test_a_living_process_that_reused_the_pid_is_not_the_maker(tmp_path):
    parent = os.getppid()
    reused = _folder(tmp_path, f"ag-run-{parent}.{_start(parent) + 1}-b1")  # the pid's earlier owner
    maker = _folder(tmp_path, f"ag-run-{parent}.{_start(parent)}-b2")
    old_style = _folder(tmp_path, f"ag-run-{parent}-b3")  # no start time: the pid alone decides
    mine_earlier = _folder(tmp_path, f"ag-run-{os.getpid()}.{_start('self') - 1}-b4")
    mine = _folder(tmp_path, f"ag-run-{os.getpid()}.{_start('self')}-b5")
    absurd = _folder(tmp_path, "ag-run-99999999999999999999-b6")  # nobody's; must not stop the sweep

    assert sorted(leftovers.sweep(tmp_path)) == sorted([reused, mine_earlier])
    for kept in (maker, old_style, mine, absurd):
        assert kept.is_dir(), kept


def test_sweep_of_a_missing_folder_is_quiet(tmp_path):
    assert leftovers.sweep(tmp_path / "no-such-folder") == []


def test_working_folders_carry_the_pid_and_the_first_one_sweeps(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.setattr(leftovers, "_swept", False)
    stale = _folder(tmp_path, f"ag-run-{_dead_pid()}-old")

    workdir = runner.prepare_workdir(nbformat.v4.new_notebook())
    try:
        assert workdir.parent == tmp_path
        assert workdir.name.startswith(f"ag-run-{os.getpid()}.{_start('self')}-")
        assert leftovers.maker(workdir.name) == os.getpid()
        assert not stale.exists()
        again = _folder(tmp_path, f"ag-run-{_dead_pid()}-later")
        second = runner.prepare_workdir(nbformat.v4.new_notebook())
        second_ok = again.exists()  # only the first folder of a process sweeps
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)
    assert second_ok


def test_the_first_sweep_covers_the_short_root_of_kernel_folders_too(tmp_path, monkeypatch):
    temp, short = tmp_path / "temp", tmp_path / "short"
    temp.mkdir()
    short.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(leftovers, "SHORT_ROOT", short)
    monkeypatch.setattr(leftovers, "_swept", False)
    stale = [_folder(temp, f"ag-run-{_dead_pid()}-c1"), _folder(short, f"ag-kernel-{_dead_pid()}-c2")]

    leftovers.sweep_once()

    assert not [p for p in stale if p.exists()]
