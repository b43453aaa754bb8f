"""Writing files so that a reader sees the old file or the whole new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write(
    path: str | Path, data: str | bytes, *, encoding: str = "utf-8", newline: str | None = None, mode: int | None = None
) -> Path:
    """Write ``data`` to ``path`` through a synced temporary file in the same folder, then rename it.

    On failure nothing is left behind and OSError propagates (callers turn it into their own error).
    ``mode`` sets the file's permissions (default: those ``mkstemp`` gives, 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, str):
            with open(fd, "w", encoding=encoding, newline=newline) as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            with open(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, data: Any, **dump: Any) -> Path:
    """``atomic_write`` of ``data`` as JSON (``dump`` goes to json.dumps), with a final newline."""
    return atomic_write(path, json.dumps(data, **dump) + "\n")
