"""Process trees of tests that start servers, batches and workers: find them and stop them for good."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def children(pid: int) -> list[int]:
    """The living processes ``pid`` started itself (a child forked by one of them, not yet exec'd, still
    carries its parent's command line, so counting by command line must stop at this level)."""
    return _children_by_parent().get(pid, [])


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children first found through /proc's parent ids)."""
    children = _children_by_parent()
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
