"""Remove, or hand back, a folder that a submission wrote into, whatever it holds, without ever raising.

A submission controls the shape of its working folder: thousands of nested folders (deeper than Python's
recursion limit and longer than PATH_MAX as a path), folders without permissions, symlinks pointing
anywhere, sockets, fifos. ``shutil.rmtree`` and ``os.walk`` recurse in Python on 3.11 and build full paths, so
such a tree makes them raise RecursionError or ENAMETOOLONG, which is not what ``ignore_errors`` covers.

The walk here is a loop, not a recursion: it holds one open directory at a time, moves down by name relative
to that directory (never following a link) and back up through ``..``, so neither the depth of the tree nor
the length of its paths matters. Every failure is counted and logged, never raised: a folder that cannot be
cleaned must not stop the grading of anything else. It runs after the sandbox's processes are gone, so
nothing moves folders around while it walks.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

# (directory fd, entry name) -> None; may raise OSError, which is counted
EntryOp = Callable[[int, str], None]


def _open_child(name: str, dir_fd: int) -> int:
    try:
        return os.open(name, _OPEN_DIR, dir_fd=dir_fd)
    except PermissionError:
        # A folder the submission made unreadable (mode 000): give it back to its owner and retry.
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        return os.open(name, _OPEN_DIR, dir_fd=dir_fd)


def _scan(fd: int, on_file: EntryOp | None, before_dir: EntryOp | None, errors: list[str]) -> list[str]:
    """Apply ``on_file`` to the non-folders of the open folder ``fd``; return its sub-folders' names."""
    subdirs = []
    try:
        with os.scandir(fd) as entries:
            listing = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    except OSError as exc:
        errors.append(f"cannot list a folder: {exc.strerror}")
        return []
    for name, is_dir in listing:
        try:
            if is_dir:
                if before_dir is not None:
                    before_dir(fd, name)
                subdirs.append(name)
            elif on_file is not None:
                on_file(fd, name)
        except OSError as exc:
            errors.append(f"{name[:80]!r}: {exc.strerror}")
    return subdirs


def _walk(root: Path, *, on_file: EntryOp | None, before_dir: EntryOp | None, after_dir: EntryOp | None) -> list[str]:
    """Visit every entry below ``root`` (not ``root`` itself) without recursion; return the errors met."""
    errors: list[str] = []
    fd = os.open(root, _OPEN_DIR)
    pending = [_scan(fd, on_file, before_dir, errors)]  # per level: sub-folders not visited yet
    down: list[str] = []  # names from root to the folder that fd holds
    try:
        while pending:
            if pending[-1]:
                name = pending[-1].pop()
                try:
                    child = _open_child(name, fd)
                except OSError as exc:
                    errors.append(f"{name[:80]!r}: {exc.strerror}")
                    continue
                os.close(fd)
                fd = child
                down.append(name)
                pending.append(_scan(fd, on_file, before_dir, errors))
                continue
            pending.pop()
            if not down:
                break
            name = down.pop()
            parent = os.open("..", _OPEN_DIR, dir_fd=fd)
            os.close(fd)
            fd = parent
            if after_dir is not None:
                try:
                    after_dir(fd, name)
                except OSError as exc:
                    errors.append(f"{name[:80]!r}: {exc.strerror}")
    finally:
        os.close(fd)
    return errors


def _unlink(dir_fd: int, name: str) -> None:
    os.unlink(name, dir_fd=dir_fd)


def _rmdir(dir_fd: int, name: str) -> None:
    os.rmdir(name, dir_fd=dir_fd)


def remove_tree(path: Path | str) -> bool:
    """Delete ``path`` and everything below it; True when it is gone. Never raises, never follows links."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)
        return False
    try:
        if stat.S_ISDIR(mode):
            errors = _walk(path, on_file=_unlink, before_dir=None, after_dir=_rmdir)
            os.rmdir(path)
        else:
            errors = []
            os.unlink(path)
    except Exception as exc:  # noqa: BLE001 - cleanup must never stop the caller; the log keeps the trace
        log.warning("cannot remove %s", path, exc_info=exc)
        return not os.path.lexists(path)
    if errors:
        log.warning("removing %s: %d entries failed, e.g. %s", path, len(errors), errors[0])
    return not os.path.lexists(path)


def chown_tree(path: Path | str, uid: int, gid: int) -> bool:
    """Give ``path`` and everything below it to ``uid:gid`` (links themselves, never their targets).

    True when every entry was changed. Never raises.
    """

    def chown(dir_fd: int, name: str) -> None:
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)

    try:
        os.chown(path, uid, gid, follow_symlinks=False)
        errors = _walk(Path(path), on_file=chown, before_dir=chown, after_dir=None)
    except Exception as exc:  # noqa: BLE001 - see remove_tree
        log.warning("cannot change the owner of %s", path, exc_info=exc)
        return False
    if errors:
        log.warning("changing the owner of %s: %d entries failed, e.g. %s", path, len(errors), errors[0])
    return not errors
