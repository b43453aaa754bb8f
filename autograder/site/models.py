"""The site's database: SQLAlchemy 2 models, the engine (SQLite in WAL mode by default, any URL SQLAlchemy
knows, PostgreSQL included) and the Alembic migrations that create and upgrade the schema.

The schema is owned by the migrations in ``autograder/site/migrations/versions/``; the models here must
agree with them (``tests/site/test_models.py`` compares the two).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

STUDENT = "student"
INSTRUCTOR = "instructor"

# Submission states. acknowledged -> queued; handed to the executor -> grading; its Result stored -> graded.
QUEUED = "queued"
GRADING = "grading"
GRADED = "graded"


def utcnow() -> dt.datetime:
    """Now, in UTC, without tzinfo (every time in the database is naive UTC, also on SQLite)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class CleanText(TypeDecorator):
    """Text that a submission or a roster may control: a NUL character becomes U+FFFD on the way in.

    PostgreSQL refuses NUL in text (SQLite keeps it), and a grade that cannot be stored would be graded
    again at every start and never shown; browsers turn NUL into U+FFFD in a page anyway.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


class CleanString(CleanText):
    """A CleanText of at most ``length`` characters: longer text is cut (PostgreSQL would refuse it, SQLite
    would keep it; only names, addresses and file names shown on pages are stored in these)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        value = super().process_bind_param(value, dialect)
        length = self.impl.length
        return value[:length] if isinstance(value, str) and length else value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)  # the roster's id
    name: Mapped[str] = mapped_column(CleanString(200), default="")
    email: Mapped[str] = mapped_column(CleanString(320), default="")
    role: Mapped[str] = mapped_column(String(20), default=STUDENT)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # SHA-256 of the API token
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised to end every session of the user at once (password set, account removed).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SigninLink(Base):
    """A one-time, expiring link that lets its user set a password (only its SHA-256 is stored)."""

    __tablename__ = "signin_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Submission(Base):
    """One uploaded notebook of one student for one assignment; the file is ``blobs/<sha256>``.

    The same file twice by one student for one assignment is one submission (the unique constraint).
    """

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("user_id", "assignment", "sha256", name="uq_submission_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assignment: Mapped[str] = mapped_column(String(100), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(CleanString(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times handed to an executor
    # Why the last attempt stored no grade (its Result could not be saved): shown to the student while the
    # loop tries again; cleared in the transaction that stores the grade.
    error: Mapped[str | None] = mapped_column(CleanText, nullable=True)


class Grade(Base):
    """The stored Result of a submission: at most one per submission (the primary key), written once."""

    __tablename__ = "grades"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    result_json: Mapped[str] = mapped_column(CleanText)  # JSON: a NUL is already written as \\u0000
    feedback_html: Mapped[str] = mapped_column(CleanText)  # the batch's feedback page, rendered once
    graded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Extension(Base):
    """A later deadline for one student and one assignment, set by an instructor (naive UTC)."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("user_id", "assignment", name="uq_extension"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assignment: Mapped[str] = mapped_column(String(100))
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RegradeRun(Base):
    """An instructor's 'regrade all' of one assignment: its items are graded again, old grades kept until then."""

    __tablename__ = "regrade_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment: Mapped[str] = mapped_column(String(100), index=True)
    scope: Mapped[str] = mapped_column(String(20))  # counted | all
    started_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# Regrade item states: queued -> grading -> done (new grade stored) or failed (the grader's side failed: old grade kept).
DONE = "done"
FAILED = "failed"


class RegradeItem(Base):
    __tablename__ = "regrade_items"

    run_id: Mapped[int] = mapped_column(ForeignKey("regrade_runs.id", ondelete="CASCADE"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    old_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class SigninAttempt(Base):
    """One sign-in attempt on one key (``login:<id>`` or ``addr:<address>``), counted by the rate limiter.

    In the database rather than in memory, so that several site processes behind one proxy share the count.
    """

    __tablename__ = "signin_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(CleanString(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # WAL: readers never wait for the writer. FULL sync: an acknowledged upload survives a power cut too.
    # Foreign keys are off in SQLite unless asked for.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def normalize_url(url: str) -> str:
    """``postgresql://...`` means the driver we ship (psycopg 3); SQLAlchemy alone would pick psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        # Connections enough for the page threads, the grading loop and its callbacks and the gradebook, kept
        # open: a connection made past the pool is closed after use, and opening one runs the pragmas again.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=20)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Pages and uploads run in their thread pools (``page_threads``, ``upload_threads``), the grading loop and
    # the gradebook beside them: enough connections that a busy minute does not queue requests behind the
    # pool, few enough for PostgreSQL's default of 100 with a second process.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=30)


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'site.db').resolve()}"


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def open_db(url: str) -> sessionmaker:
    """Migrate the database at ``url`` and return a session factory bound to it."""
    migrate(url)
    engine = make_engine(url)
    return sessionmaker(engine, expire_on_commit=False)
