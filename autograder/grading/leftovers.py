"""Working folders that a killed grader left behind in the temporary directory.

A grader removes its folders when a grade ends, after errors and timeouts too; SIGKILL, or a machine going
down, gives it no chance. So every folder's name carries the id of the process that made it
(``ag-run-<pid>.<start>-...`` for the notebook, ``ag-kernel-<pid>.<start>-...`` for a kernel's sockets,
``ag-job-<pid>.<start>-...`` for a job handed to a worker process), and the next grader removes the folders
whose maker no longer exists. The names are chosen outside
the sandbox; student code neither sees the temporary directory nor names anything in it.

"No longer exists" is judged by the process table, which a pid alone does not answer well:
- a killed process whose parent died too stays a zombie until the init process reaps it, and init in a
  container often never does; a zombie answers ``kill(pid, 0)`` but holds nothing, so it counts as gone;
- pids are reused (32768 of them by default on Linux, and a grading machine starts thousands of kernels), so
  the name also carries the maker's start time (``/proc/<pid>/stat``, clock ticks since boot) and a living
  process that started at another time is not the maker. Without ``/proc`` the name has no start time and
  the pid alone decides.

Kernel folders hold unix sockets, whose paths are limited to 107 bytes; under a long TMPDIR they are made in
``SHORT_ROOT`` instead, so the sweep covers both folders.

Graders that share one temporary directory must share one PID namespace too (true on one machine;
containers that share a /tmp volume would need separate TMPDIRs).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from autograder.grading import cleanup

SHORT_ROOT = Path("/tmp")
_NAME = re.compile(r"^ag-(?:run|kernel|job)-(\d+)(?:\.(\d+))?-")
_swept = False


def _stat(pid: int | str) -> tuple[str, int] | None:
    """(state, start time) of a process from /proc, or None when there is no such entry."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name in parentheses may hold spaces and parentheses itself: fields start after the last ")"
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def make_folder(kind: str, root: Path | None = None) -> Path:
    """A new, empty working folder of this process in ``root`` (the temporary directory when None);
    ``kind`` is "run", "kernel" or "job"."""
    me = _stat("self")
    stamp = f"{os.getpid()}.{me[1]}" if me else str(os.getpid())
    return Path(tempfile.mkdtemp(prefix=f"ag-{kind}-{stamp}-", dir=root))


def maker(name: str) -> int | None:
    """The pid in the name of a working folder (``ag-run-<pid>...``), or None for any other name."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


def _alive(pid: int, start: int | None) -> bool:
    """Whether the process that made a folder still runs: not gone, not a zombie, not a newer process that
    was given the same pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    stat = _stat(pid)
    if stat is None:  # no /proc here: the pid is all there is to go by
        return True
    state, started = stat
    if state in ("Z", "X"):
        return False
    return start is None or started == start


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the working folders of processes that no longer exist; return the folders removed."""
    root = Path(root or tempfile.gettempdir())
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        pid, start = int(match.group(1)), match.group(2)
        try:
            # this process too: a folder with our pid and another start time is a predecessor's
            maker_runs = _alive(pid, None if start is None else int(start))
        except (OSError, OverflowError, ValueError):  # a pid too large for the system, an odd /proc entry
            maker_runs = True  # cannot tell: leave it
        if maker_runs:
            continue
        # Never raises and never follows links, however deep or odd the tree a submission left there.
        if cleanup.remove_tree(entry.path):
            removed.append(Path(entry.path))
    return removed


def roots() -> list[Path]:
    """The folders that working folders are made in: the temporary directory, and ``SHORT_ROOT``."""
    temp = Path(tempfile.gettempdir())
    return [temp] if temp == SHORT_ROOT else [temp, SHORT_ROOT]


def sweep_once() -> None:
    """``sweep()`` each of ``roots()`` the first time a process calls this; later calls do nothing."""
    global _swept
    if not _swept:
        _swept = True
        for root in roots():
            sweep(root)
