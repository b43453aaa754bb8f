"""The pool of sandbox uids (root only): each live sandbox runs under a uid of its own.

A uid is reserved by holding an ``flock`` on its lock file, so the reservation ends when the manager
releases it or the grader dies, and parallel workers never share a uid (nor its RLIMIT_NPROC budget).
"""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
from pathlib import Path

from autograder.grading.sandbox.errors import SandboxError
from autograder.grading.sandbox.processes import pids_of_uid

# Far above system and subordinate-uid ranges.
UID_BASE = 2_000_000_000
UID_SLOTS = 65536


def is_root() -> bool:
    """Whether the grader runs as root: only then are sandbox uids (and cgroups) used."""
    return os.geteuid() == 0


class UidSlot:
    """A uid reserved for one sandbox while this object's lock file is held (released on close or exit)."""

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir()) / f"autograder-sandbox-uids-{os.getuid()}"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise SandboxError(f"cannot create the uid lock folder {folder}: {exc}") from None
        # Someone else's folder could hand out (or withhold) uids: accept only our own, private one.
        st = folder.lstat()
        if not folder.is_dir() or folder.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o022:
            raise SandboxError(f"{folder} is not a private folder of this user; remove it and retry")
        start = random.randrange(UID_SLOTS)  # parallel graders rarely try the same slots
        for i in range(UID_SLOTS):
            slot = (start + i) % UID_SLOTS
            fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held by a live sandbox
                os.close(fd)
                continue
            uid = UID_BASE + slot
            if pids_of_uid(uid):  # left over from a crashed grader: do not share it
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError("no free sandbox uid: too many sandboxes are running")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
