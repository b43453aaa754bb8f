"""The kernel's own stdout and stderr: bwrap's errors and whatever the kernel prints before (or instead of)
speaking the kernel protocol. It is the only record of why a kernel did not start or died.

It goes to a file outside the sandbox (never to the grader's terminal), in the per-kernel runtime folder.
That folder is removed when the manager is cleaned up, so the last few KB are kept in memory then, for
the grader's log. The text is the kernel's, i.e. the student's: never put it in feedback.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

TAIL_BYTES = 4096

# Control characters (except newline and tab) would reach the grader's terminal through the log.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class KernelLog:
    """The log file of one kernel (kept across restarts) and, once closed, its tail."""

    def __init__(self) -> None:
        self._file: BinaryIO | None = None
        self._kept = ""

    def open(self, folder: Path) -> BinaryIO:
        """The file the kernel's stdout and stderr go to (opened once, appended to on a restart)."""
        if self._file is None:
            # Read back through our own descriptor: inside, the kernel may rename or replace the file.
            self._file = open(folder / "kernel.log", "a+b")
        return self._file

    def tail(self, max_bytes: int = TAIL_BYTES) -> str:
        """The last ``max_bytes`` of the log as printable text ("" when nothing was written)."""
        if self._file is None:
            return self._kept[-max_bytes:]
        try:
            fd = self._file.fileno()
            size = os.fstat(fd).st_size
            return _printable(os.pread(fd, max_bytes, max(0, size - max_bytes)))
        except OSError:
            log.debug("cannot read the kernel log", exc_info=True)
            return ""

    def close(self) -> None:
        """Keep the tail, then close the file (idempotent)."""
        if self._file is not None:
            self._kept = self.tail()
            self._file.close()
            self._file = None
