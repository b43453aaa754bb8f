"""What a course site is started with (``autograder serve`` fills it from the command line)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from autograder import course
from autograder.executor.job import Priority
from autograder.grading.limits import Limits
from autograder.site.models import default_url
from autograder.site.storage import DEFAULT_MAX_UPLOAD_MB


@dataclasses.dataclass
class SiteSettings:
    data_dir: Path  # the database (SQLite default), blobs/, secret.key
    db_url: str | None = None  # default: SQLite in data_dir
    source_dir: Path = course.SOURCE_DIR
    release_dir: Path = course.RELEASE_DIR
    book_dir: Path | None = None  # the built book (_build/html), served at /
    base_url: str = "http://127.0.0.1:8000"
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    grading_workers: int = 1
    kernels_ahead: int = 2  # kernels each grading worker keeps started for the next uploads
    grading_priority: Priority = Priority.LOW  # grading gets less of the CPU than the pages: they answer under load
    # Threads that run pages at once (Starlette's default is 40). One process serves every page under one
    # interpreter lock: past a few threads, more only queue at the lock, and each SQLite call that lets the
    # lock go waits its turn to take it back; requests beyond these wait in arrival order instead.
    page_threads: int = 8
    upload_threads: int = 4  # stores of uploads, apart from the pages: they wait for the disk, not the lock
    sandbox: bool = True
    limits: Limits = dataclasses.field(default_factory=Limits)
    worker_memory_mb: int | None = 4096
    signin_limit: int = 5  # failed sign-ins per login and per address ...
    signin_window_s: float = 300.0  # ... within this many seconds
    poll_s: float = 2.0  # how often the grading loop looks for work it was not told about
    retry_s: float = 10.0  # the first wait before a Result that could not be stored is stored again (then doubling)
    # nbgrader's gradebook.db is written at most this often. A write rewrites every student of the assignment
    # through nbgrader's ORM, seconds of CPU in the web process for a large class: written after every grade,
    # it kept the process busy through a deadline spike and every page slow. A download writes first.
    gradebook_interval_s: float = 30.0
    gradebook_process: bool = True  # ... in a process of its own, not holding the pages' interpreter lock
    datasets_dir: Path | None = dataclasses.field(default_factory=course.datasets_dir)  # the SIGNS files offered for download

    @property
    def url(self) -> str:
        return self.db_url or default_url(self.data_dir)

    @property
    def blobs(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")
