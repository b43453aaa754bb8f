"""A private copy of the toy assignment (numpy only, a second or two per notebook) for batch tests.

``make_toy(folder)`` copies ``tests/fixtures/toy`` and records its reference values there, so
``autograder grade <folder>/toy ...`` grades against it; ``blank`` and ``solved`` are its released notebook
and the released notebook with the source's answers pasted in.
"""
from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder import reference, release
from autograder.grading import spec as spec_mod

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
AUTOGRADER = Path(sys.executable).with_name("autograder")


def make_toy(folder: Path) -> Path:
    target = folder / "toy"
    shutil.copytree(TOY, target)
    toy = spec_mod.load(target)
    reference.write(toy, reference.build(toy))
    return target


def copy_as(toy_dir: Path, name: str) -> Path:
    """A second assignment: the toy (with its reference values) under another name, beside it."""
    target = toy_dir.parent / name
    shutil.copytree(toy_dir, target)
    spec_file = target / "grading.toml"
    spec_file.write_text(spec_file.read_text().replace('name = "toy"', f'name = "{name}"', 1))
    assert spec_mod.load(target).name == name
    return target


def blank(toy_dir: Path):
    return release.released_notebook(toy_dir / "toy.ipynb", "toy")


def solved(toy_dir: Path):
    source = nbformat.read(toy_dir / "toy.ipynb", as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    nb = copy.deepcopy(blank(toy_dir))
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def grade_cmd(toy_dir: Path, *inputs, out: Path, extra=()) -> list[str]:
    return [str(AUTOGRADER), "grade", str(toy_dir), *map(str, inputs), "--out", str(out), *extra]


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children first found through /proc's parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process started in its own group, its group and everything below it (workers, kernels).

    Everything is stopped first, so that nothing can start a new process (or leave the tree) meanwhile.
    """
    try:
        os.killpg(proc.pid, signal.SIGSTOP)
    except ProcessLookupError:
        pass
    stopped: set[int] = set()
    while True:
        new = set(descendants(proc.pid)) - stopped
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        stopped |= new
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in stopped:
        _signal(pid, signal.SIGKILL)
    proc.wait()
