"""Where things are: the repository's folders and the one pinned upstream archive."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "source_solutions"
RELEASE_DIR = ROOT / "assignments"
STUDENT_HELPERS = Path(__file__).resolve().parent / "student"

UPSTREAM_COMMIT = "4b09433ef9d5c60602e8805bb54b8aa2428527f8"
UPSTREAM_ARCHIVE = f"https://github.com/ardamavi/Sign-Language-Digits-Dataset/archive/{UPSTREAM_COMMIT}.zip"


def datasets_dir() -> Path:
    """The folder of the built SIGNS files: $COURSE_DATA_DIR, else datasets/ in the repository."""
    env = os.environ.get("COURSE_DATA_DIR")
    return Path(env) if env else ROOT / "datasets"


def assignment_names() -> list[str]:
    """Every assignment, in name order: a folder of source_solutions/ with a grading.toml (which names its
    notebook). Release, reference build, grading and the tests all mean this list."""
    return sorted(p.parent.name for p in SOURCE_DIR.glob("*/grading.toml"))
