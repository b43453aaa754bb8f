"""nbgrader's gradebook schema, created in-process.

nbgrader's ``Gradebook`` creates its tables in an empty database and then asks a new ``alembic`` process for
the schema revision to stamp. That process costs seconds (tens of seconds on a busy machine) and needs the
``alembic`` command on PATH, which an unactivated virtual environment does not provide. Both the release
(nbgrader's throwaway course database) and the report (the instructor's gradebook) create the schema here
first; ``Gradebook`` then finds the tables and the revision and leaves them alone.
"""

from __future__ import annotations

from pathlib import Path


def alembic_head() -> str:
    """The schema revision of the installed nbgrader (what ``alembic heads`` prints), read in-process."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).resolve().parent / "alembic")).get_current_head()


def create_schema(db_url: str) -> None:
    """Create nbgrader's tables and stamp the schema revision, if the database has no tables yet.

    A database with tables is left alone, so ``nbgrader db upgrade`` still sees the revision it was made with.
    The tables and the stamp are written in one transaction: a failure leaves the database empty.
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url, future=True)
    try:
        if inspect(engine).get_table_names():
            return
        head = alembic_head()
        with engine.begin() as conn:
            Base.metadata.create_all(bind=conn)
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    finally:
        engine.dispose()
