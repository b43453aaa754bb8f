"""Finding processes by uid and killing them: how shutdown makes sure no process of a sandbox survives."""

from __future__ import annotations

import os
import signal


def pids_of_uid(uid: int) -> list[int]:
    """Live processes whose real uid is ``uid`` (seen from this pid namespace); zombies run nothing."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"State:") and line.split()[1] in (b"Z", b"X"):
                        break
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry.name))
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # gone meanwhile
    return pids


def kill(pid: int) -> None:
    """SIGKILL ``pid``; a process that is already gone (or was never ours to kill) is no error."""
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
