"""Which of the grader's folders the sandbox may show: the Python environment, the submission's working folder
and the data folder, never the course repository (solutions, references, the gradebook)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from autograder import course
from autograder.grading.sandbox.errors import SandboxError


def is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def python_roots() -> list[Path]:
    """Folders the kernel's Python needs: the venv and the real interpreter prefix it links to."""
    candidates = {
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
    }
    roots: list[Path] = []
    for c in sorted(candidates):
        p = Path(c).resolve()
        if any(is_within(p, Path(s)) for s in ("/usr", "/etc")):
            continue  # already part of the read-only system
        if p == Path("/") or is_within(course.ROOT, p):
            raise SandboxError(
                f"the Python environment {p} contains the course repository, so the sandbox cannot show it "
                "to student code: create the virtual environment in its own folder, or pass --unsafe"
            )
        roots.append(p)
    # Drop roots that lie inside another root.
    return [p for p in roots if not any(q != p and is_within(p, q) for q in roots)]


def checked_folders(workdir: Path, data_dir: Path | None) -> tuple[Path, Path | None]:
    """``workdir`` and ``data_dir`` resolved; SandboxError when one is missing or would expose what is hidden."""
    workdir = Path(workdir).resolve()
    if not workdir.is_dir():
        raise SandboxError(f"the working directory {workdir} does not exist")
    if data_dir is not None:
        data_dir = Path(data_dir).resolve()
        if not data_dir.is_dir():
            raise SandboxError(f"the data folder {data_dir} does not exist")
    for name, folder in (("working directory", workdir), ("data folder", data_dir)):
        if folder is None:
            continue
        # Bound read-write (or read-only) as a whole: a folder holding the repository would show all of it.
        hidden = [course.ROOT, *python_roots()]
        if any(is_within(h, folder) for h in hidden) or folder == Path("/"):
            raise SandboxError(f"the {name} {folder} contains the course repository or the Python environment; use a folder of its own")
    return workdir, data_dir
