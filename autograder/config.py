"""Typed configuration: one dataclass per CLI subcommand.

The CLI is generated from these classes (``autograder/cli.py`` with tyro), so flags, defaults and help
texts cannot drift from what the code reads. Library code takes these objects, never raw argv.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import tyro

from autograder import course
from autograder.grading.limits import Limits

__all__ = ["Limits", "Command"]  # Limits is a library type, re-exported for the CLI

Positional = tyro.conf.Positional

# Celery: the queue coordinators send jobs to and workers take them from.
CELERY_QUEUE = "autograder"
# Redis broker: seconds after which the job of a worker that vanished is handed out again. Longer than the
# longest job (notebook_timeout + the executor's 120 s grace), or a running job would be handed out twice.
VISIBILITY_TIMEOUT_S = 1800


@dataclasses.dataclass
class DataBuild:
    """Build train_signs.h5 and test_signs.h5 from the Sign Language Digits photos."""

    source: Optional[Path] = dataclasses.field(
        default_factory=lambda: Path(os.environ["SIGNS_SOURCE"]) if os.environ.get("SIGNS_SOURCE") else None
    )
    """Local copy of the photos (a folder holding Dataset/0 .. Dataset/5). Default: $SIGNS_SOURCE, else download."""
    out: Path = dataclasses.field(default_factory=course.datasets_dir)
    """Where the HDF5 files go. Default: $COURSE_DATA_DIR, else datasets/ in the repository."""
    url: str = course.UPSTREAM_ARCHIVE
    """Archive to download when no local copy is given (pinned upstream commit)."""
    force: bool = False
    """Rebuild even when valid files already exist."""


@dataclasses.dataclass
class DataVerify:
    """Check that the built SIGNS files exist and have the course's format."""

    out: Path = dataclasses.field(default_factory=course.datasets_dir)
    """Folder of the HDF5 files. Default: $COURSE_DATA_DIR, else datasets/ in the repository."""


@dataclasses.dataclass
class Data:
    """The SIGNS data set."""

    action: Union[
        Annotated[DataBuild, tyro.conf.subcommand("build")],
        Annotated[DataVerify, tyro.conf.subcommand("verify")],
    ]


@dataclasses.dataclass
class Release:
    """Generate the student notebooks with nbgrader into assignments/<name>/."""

    assignments: tuple[str, ...] = ()
    """Assignments to release. Default: all in source_solutions/."""
    check: bool = False
    """Do not write; exit 1 if the committed release is out of date."""
    data_url: Optional[str] = dataclasses.field(default_factory=lambda: os.environ.get("AUTOGRADER_DATA_URL") or None)
    """Where students' notebooks download the SIGNS files they do not have: the published book's data/ folder
    (e.g. https://course.example.org/data/), written into course_data.json. Default: $AUTOGRADER_DATA_URL,
    else none (no download offered). --check needs the same value as the release it checks."""
    data_dir: Path = dataclasses.field(default_factory=course.datasets_dir)
    """The built SIGNS files, the ones the book publishes, whose SHA-256 go into course_data.json. Default:
    $COURSE_DATA_DIR, else datasets/ in the repository."""


@dataclasses.dataclass
class ReferenceBuild:
    """Run the source solutions and store their recorded values as reference values."""

    assignments: tuple[str, ...] = ()
    """Assignments to build. Default: all in source_solutions/."""


@dataclasses.dataclass
class ReferenceCheck:
    """Rebuild the reference values without writing; exit 1 if one is outside tolerance of the stored one."""

    assignments: tuple[str, ...] = ()
    """Assignments to check. Default: all in source_solutions/."""


@dataclasses.dataclass
class Reference:
    """Reference values recorded from the source solutions."""

    action: Union[
        Annotated[ReferenceBuild, tyro.conf.subcommand("build")],
        Annotated[ReferenceCheck, tyro.conf.subcommand("check")],
    ]


@dataclasses.dataclass
class GradeOne:
    """Grade one notebook with no database or course directory."""

    notebook: Positional[Path]
    """The submitted notebook."""
    assignment: str
    """Assignment name (a folder under source_solutions/)."""
    format: Literal["table", "json"] = "table"
    """Output format."""
    unsafe: bool = False
    """Run without the bubblewrap sandbox (only for trusted notebooks)."""
    limits: Limits = dataclasses.field(default_factory=Limits)


@dataclasses.dataclass
class Grade:
    """Grade a class: a folder of notebooks, an nbgrader submitted/ tree, or an LMS zip."""

    assignment: Positional[str]
    """Assignment name (a folder under source_solutions/)."""
    submissions: Positional[tuple[Path, ...]]
    """Folders, submitted/ trees or zip files."""
    out: Optional[Path] = None
    """Output folder (results, gradebook.db, autograder-grades.csv, feedback pages). Default: grading/<assignment>/.
    A folder holding another assignment's results is refused."""
    workers: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    """Parallel workers. Default: the number of cores."""
    kernels_ahead: int = 0
    """Kernels each local worker keeps started for its next submissions (each fresh, for exactly one); 0 for
    none."""
    force: bool = False
    """Regrade every submission, also those whose result is up to date (same file, course files and grader)."""
    worker_memory_mb: int = 4096
    """Memory limit of each grading worker process, in MiB (the grader's side: reading outputs, comparing);
    0 for none. An unsandboxed (--unsafe) kernel inherits it."""
    db_url: Optional[str] = None
    """SQLAlchemy URL of the nbgrader gradebook. Default: sqlite in --out."""
    roster: Optional[Path] = None
    """CSV of the class (columns id,name,email or id,first_name,last_name,email): the students' names and
    emails in the gradebook and formgrader. Default: names from the uploads' file names, else the id."""
    unsafe: bool = False
    """Run without the bubblewrap sandbox (only for trusted notebooks)."""
    executor: Literal["local", "celery"] = "local"
    """Where grading runs: worker processes on this machine (--workers), or the Celery workers of --broker
    (see docs/deploy-celery.md)."""
    broker: Optional[str] = None
    """--executor celery: the broker's URL, e.g. redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672//."""
    backend: Optional[str] = None
    """--executor celery: the result backend's URL. Default: the broker when it is Redis (needed with RabbitMQ)."""
    queue: str = CELERY_QUEUE
    """--executor celery: the queue the workers take jobs from."""
    limits: Limits = dataclasses.field(default_factory=Limits)


# ------------------------------------------------------------------------------------------- the course site


def _site_dir() -> Path:
    return Path(os.environ.get("AUTOGRADER_SITE_DIR") or "site-data")


@dataclasses.dataclass
class SiteFiles:
    """Where a course site keeps its state."""

    data_dir: Path = dataclasses.field(default_factory=_site_dir)
    """The site's folder: site.db (SQLite, the default database), blobs/ (submitted files), secret.key.
    Default: $AUTOGRADER_SITE_DIR, else site-data/ in the current folder."""
    db_url: Optional[str] = dataclasses.field(default_factory=lambda: os.environ.get("AUTOGRADER_SITE_DB") or None)
    """SQLAlchemy URL of the site's database (e.g. postgresql://...). Default: $AUTOGRADER_SITE_DB, else SQLite in --data-dir."""
    base_url: str = dataclasses.field(default_factory=lambda: os.environ.get("AUTOGRADER_SITE_URL") or "http://127.0.0.1:8000")
    """The address students open (printed sign-in links start with it; https turns on Secure cookies).
    Default: $AUTOGRADER_SITE_URL, else http://127.0.0.1:8000."""


@dataclasses.dataclass
class Serve:
    """Run the course site: assignments, submissions graded as they arrive, feedback, the class table."""

    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    host: str = "127.0.0.1"
    """Address to listen on (put a reverse proxy with TLS in front for anything but a local test)."""
    port: int = 8000
    workers: int = 1
    """Grading worker processes."""
    kernels_ahead: int = 2
    """Kernels each grading worker keeps started (TensorFlow imported, each for one submission) so feedback
    does not wait for one; 0 for none (less memory: about 0.6 GiB per kernel with TensorFlow)."""
    grading_priority: Literal["low", "idle", "normal"] = "low"
    """How the grading workers and their kernels share the CPU with the web server: low (10 steps of nice
    below, so pages answer quickly while a deep queue is graded), idle (Linux's SCHED_IDLE: only CPU time
    nothing else on the machine wants; grading stops while anything else is busy) or normal (the same)."""
    page_threads: int = 8
    """Threads that run pages at once; requests beyond them wait in arrival order (more threads only take
    turns at Python's interpreter lock, and every page gets slower)."""
    book: Optional[Path] = dataclasses.field(default_factory=lambda: course.ROOT / "_build" / "html")
    """The built book, served at / when it exists."""
    source_dir: Path = course.SOURCE_DIR
    """The instructor's assignments (grading.toml, reference.json): read by the grader only, never served."""
    release_dir: Path = course.RELEASE_DIR
    """The released assignments students download."""
    max_upload_mb: int = 20
    """Largest accepted upload, in MiB (refused while it is read)."""
    worker_memory_mb: int = 4096
    """Memory limit of each grading worker process, in MiB; 0 for none."""
    unsafe: bool = False
    """Grade without the bubblewrap sandbox (only for trusted notebooks, e.g. tests)."""
    demo: bool = False
    """Load the demo course first (demo/: its students, their submissions, an instructor) and print sign-in links."""
    limits: Limits = dataclasses.field(default_factory=Limits)


@dataclasses.dataclass
class RosterImport:
    """Create student accounts from a CSV (columns id,name,email) and print a one-time sign-in link for each."""

    csv: Positional[Path]
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    days: float = 7.0
    """Days until the printed links expire."""
    out: Optional[Path] = None
    """Also write the links as CSV (id,name,email,link) to this file."""


@dataclasses.dataclass
class RosterLink:
    """Print a new one-time sign-in link for existing accounts (a lost password, an expired link)."""

    logins: Positional[tuple[str, ...]]
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    days: float = 7.0


@dataclasses.dataclass
class RosterRemove:
    """Remove accounts: their sessions, links and tokens stop working; their submissions stay."""

    logins: Positional[tuple[str, ...]]
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)


@dataclasses.dataclass
class Roster:
    """The site's student accounts."""

    action: Union[
        Annotated[RosterImport, tyro.conf.subcommand("import")],
        Annotated[RosterLink, tyro.conf.subcommand("link")],
        Annotated[RosterRemove, tyro.conf.subcommand("remove")],
    ]


@dataclasses.dataclass
class InstructorAdd:
    """Create an instructor account (or make an account one) and print its one-time sign-in link."""

    login: Positional[str]
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    name: str = ""
    email: str = ""
    days: float = 7.0


@dataclasses.dataclass
class InstructorList:
    """List the instructor accounts."""

    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)


@dataclasses.dataclass
class Instructor:
    """The site's instructor accounts."""

    action: Union[
        Annotated[InstructorAdd, tyro.conf.subcommand("add")],
        Annotated[InstructorList, tyro.conf.subcommand("list")],
    ]


@dataclasses.dataclass
class ExtensionGrant:
    """Give a student a later deadline for one assignment (a hard deadline moves by as much)."""

    login: Positional[str]
    assignment: Positional[str]
    until: Optional[str] = None
    """The new deadline: a time of the course's zone (2025-03-20T23:59) or one with an offset (...+01:00)."""
    days: Optional[float] = None
    """Instead of --until: this many days after the assignment's deadline (on the course's wall clock)."""
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    source_dir: Path = course.SOURCE_DIR
    """The instructor's assignments; the rules are in its course.toml."""


@dataclasses.dataclass
class ExtensionRevoke:
    """Remove a student's extension: the course's deadline applies again."""

    login: Positional[str]
    assignment: Positional[str]
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    source_dir: Path = course.SOURCE_DIR


@dataclasses.dataclass
class ExtensionList:
    """List the extensions (student, assignment, deadline in the course's zone, granted by)."""

    assignment: Optional[str] = None
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)
    source_dir: Path = course.SOURCE_DIR


@dataclasses.dataclass
class ExtensionCmd:
    """Per-student extensions of the course site's deadlines."""

    action: Union[
        Annotated[ExtensionGrant, tyro.conf.subcommand("grant")],
        Annotated[ExtensionRevoke, tyro.conf.subcommand("revoke")],
        Annotated[ExtensionList, tyro.conf.subcommand("list")],
    ]


@dataclasses.dataclass
class SiteBackup:
    """Write the site's whole state (database rows, submitted files, signing key) into a new folder; safe while it runs."""

    dest: Positional[Path]
    """The backup folder to create (must not exist)."""
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)


@dataclasses.dataclass
class SiteRestore:
    """Restore a backup into an empty site (a new --data-dir, and a new database with --db-url); stop the server first."""

    src: Positional[Path]
    """A folder written by `autograder site backup`."""
    site: SiteFiles = dataclasses.field(default_factory=SiteFiles)


@dataclasses.dataclass
class Site:
    """The course site's data: backups."""

    action: Union[
        Annotated[SiteBackup, tyro.conf.subcommand("backup")],
        Annotated[SiteRestore, tyro.conf.subcommand("restore")],
    ]


@dataclasses.dataclass
class Submit:
    """Submit a notebook to the course site (token from your account page)."""

    notebook: Positional[Path]
    assignment: str
    url: Optional[str] = dataclasses.field(default_factory=lambda: os.environ.get("AUTOGRADER_URL") or None)
    """The site's address. Default: $AUTOGRADER_URL, else the file ~/.config/autograder/site.toml (url = ...)."""
    token: Optional[str] = dataclasses.field(default_factory=lambda: os.environ.get("AUTOGRADER_TOKEN") or None)
    """Your API token. Default: $AUTOGRADER_TOKEN, else ~/.config/autograder/site.toml (token = ...)."""
    wait: bool = False
    """Wait until the submission is graded and print the score."""
    timeout: float = 600.0
    """Seconds to wait with --wait."""


@dataclasses.dataclass
class Worker:
    """Grade jobs from a Celery broker on this machine (in grading worker processes, one job at a time each, as `grade` does)."""

    broker: str
    """The broker's URL, e.g. redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672// (RabbitMQ)."""
    backend: Optional[str] = None
    """The result backend's URL. Default: the broker when it is Redis (needed with RabbitMQ, e.g. a Redis URL)."""
    concurrency: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    """Submissions graded at once on this machine. Default: the number of cores."""
    name: Optional[str] = None
    """This worker's name, NAME@HOST (%h is the host name), as refusals and `celery inspect` show it.
    Default: celery@<host name>."""
    course: Path = course.SOURCE_DIR
    """Folder of the assignment folders this worker grades with (a job names its assignment; a worker whose
    files differ from the coordinator's refuses the job)."""
    queue: str = CELERY_QUEUE
    """The queue to take jobs from."""
    kernels_ahead: int = 0
    """Kernels each grading process keeps started for its next jobs (TensorFlow imported, each for one
    submission): 2 for workers serving a course site, 0 (none) for batches, which keep the machine busy anyway."""
    visibility_timeout: int = VISIBILITY_TIMEOUT_S
    """Redis: seconds after which the job of a worker that vanished is handed out again; longer than the
    longest job (notebook_timeout + 120 s)."""
    loglevel: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Celery's log level."""


Command = Union[
    Annotated[Data, tyro.conf.subcommand("data")],
    Annotated[Release, tyro.conf.subcommand("release")],
    Annotated[Reference, tyro.conf.subcommand("reference")],
    Annotated[GradeOne, tyro.conf.subcommand("grade-one")],
    Annotated[Grade, tyro.conf.subcommand("grade")],
    Annotated[Serve, tyro.conf.subcommand("serve")],
    Annotated[Roster, tyro.conf.subcommand("roster")],
    Annotated[Instructor, tyro.conf.subcommand("instructor")],
    Annotated[ExtensionCmd, tyro.conf.subcommand("extension")],
    Annotated[Submit, tyro.conf.subcommand("submit")],
    Annotated[Worker, tyro.conf.subcommand("worker")],
    Annotated[Site, tyro.conf.subcommand("site")],
]
