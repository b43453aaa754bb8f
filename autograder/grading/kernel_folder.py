"""A kernel's own folder: its unix sockets, its connection file and its log, made before it starts and
removed when its manager is cleaned up. Both of our kernel managers (sandboxed and plain) are built on it.

Unix sockets instead of TCP ports on loopback: jupyter_client picks a TCP port by binding port 0 and closing
it again, and another process on the machine can take the port before the kernel binds it; the kernel then
dies at start ("Kernel died before replying to kernel_info"), which parallel graders and tests met. A socket
file in a folder of our own cannot be taken, and no other local user can connect to it either.

A unix socket's path holds at most 107 bytes (sun_path is 108 with its NUL), so the folder is made in the
temporary directory when the paths fit there, else in ``leftovers.SHORT_ROOT``; when neither fits the
kernel does not start, and the reason says what to do.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grading import cleanup, leftovers
from autograder.grading.kernel_log import TAIL_BYTES, KernelLog

log = logging.getLogger(__name__)

SOCKET_PATH_MAX = 107
# The kernel's five sockets are "<folder>/k-<n>", n from 1 up (jupyter_client's numbering for ipc).
_SOCKET_BASE = "k"


class KernelFolderError(AutograderError):
    """No folder can hold the kernel's sockets."""


def make() -> Path:
    """A new kernel folder whose socket paths fit: in the temporary directory, else in ``SHORT_ROOT``."""
    tried = []
    for root in (None, leftovers.SHORT_ROOT):
        try:
            folder = leftovers.make_folder("kernel", root)
        except OSError as exc:  # e.g. no /tmp: try the next, or say why below
            tried.append(f"{root}: {exc.strerror}")
            continue
        if len(os.fsencode(folder / f"{_SOCKET_BASE}-99")) <= SOCKET_PATH_MAX:
            return folder
        folder.rmdir()
        tried.append(f"{folder.parent}: too long")
    log.error("no folder for a kernel's sockets: %s", "; ".join(tried))
    raise KernelFolderError(
        f"the kernel's socket paths must fit in {SOCKET_PATH_MAX} bytes and no folder was short enough: set TMPDIR to a shorter folder"
    )


class KernelFolderMixin:
    """For a jupyter_client kernel manager: ipc transport, with the sockets, the connection file and the
    kernel's stdout/stderr (``log_tail``) in a folder of its own. A restart keeps the folder and appends to
    the log; cleanup without restart removes the folder and keeps the log's tail."""

    def __init__(self, **kw) -> None:
        super().__init__(transport="ipc", kernel_name="python3", **kw)
        self.runtime_dir: Path | None = None
        self._kernel_log = KernelLog()

    def _open_folder(self) -> None:
        """Make the folder and point the connection at it (a restart keeps the one it has)."""
        if self.runtime_dir is not None:
            return
        self.runtime_dir = make()
        # The sockets ("<ip>-<n>") and the connection file live here (for a sandbox: at the same path inside).
        self.connection_file = str(self.runtime_dir / "kernel.json")
        self.ip = str(self.runtime_dir / _SOCKET_BASE)

    def _output_to_log(self, kw: dict) -> None:
        """Send the kernel process's stdin, stdout and stderr where they belong: nothing in, the log out."""
        out = self._kernel_log.open(self.runtime_dir)
        kw.update(stdin=subprocess.DEVNULL, stdout=out, stderr=out)

    def _close_folder(self) -> None:
        """Keep the log's tail, then remove the folder (idempotent)."""
        self._kernel_log.close()
        if self.runtime_dir is not None:
            cleanup.remove_tree(self.runtime_dir)
            self.runtime_dir = None

    def log_tail(self, max_bytes: int = TAIL_BYTES) -> str:
        """The end of the kernel's stdout/stderr (bwrap errors, crashes), also after cleanup. It is what the
        kernel printed: for the grader's log, never for feedback."""
        return self._kernel_log.tail(max_bytes)
