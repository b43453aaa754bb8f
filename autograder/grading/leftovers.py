"""Working folders that a killed grader left behind in the temporary directory.

A grader removes its folders when a grade ends, after errors and timeouts too; SIGKILL, or a machine going
down, gives it no chance. So every folder's name carries the id of the process that made it
(``ag-run-<pid>-...`` for the notebook, ``ag-kernel-<pid>-...`` for a sandboxed kernel's sockets), and the
next grader removes the folders whose maker no longer exists. The names are chosen outside the sandbox;
student code neither sees the temporary directory nor names anything in it.

A folder is judged by its pid alone, so graders that share one temporary directory must share one PID
namespace too (true on one machine; containers that share a /tmp volume would need separate TMPDIRs).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from autograder.grading import cleanup

_NAME = re.compile(r"^ag-(?:run|kernel)-(\d+)-")
_swept = False


def make_folder(kind: str) -> Path:
    """A new, empty working folder of this process; ``kind`` is "run" or "kernel"."""
    return Path(tempfile.mkdtemp(prefix=f"ag-{kind}-{os.getpid()}-"))


def maker(name: str) -> int | None:
    """The pid in the name of a working folder (``ag-run-<pid>-...``), or None for any other name."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the working folders of processes that no longer exist; return the folders removed."""
    root = Path(root or tempfile.gettempdir())
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    removed = []
    for entry in entries:
        pid = maker(entry.name)
        if pid is None or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            is_ours = pid == os.getpid() or _alive(pid)
        except OSError:
            is_ours = True  # cannot tell: leave it
        if is_ours:
            continue
        # Never raises and never follows links, however deep or odd the tree a submission left there.
        if cleanup.remove_tree(entry.path):
            removed.append(Path(entry.path))
    return removed


def sweep_once() -> None:
    """``sweep()`` the temporary directory the first time a process calls this; later calls do nothing."""
    global _swept
    if not _swept:
        _swept = True
        sweep()
