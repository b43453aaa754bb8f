"""The Alembic migrations create exactly the schema the models describe, on SQLite in WAL mode."""
from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from autograder.site.models import Base, make_engine, migrate


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.db'}"
    migrate(url)
    migrate(url)  # a second upgrade is a no-op
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
    with sqlite3.connect(tmp_path / "site.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
