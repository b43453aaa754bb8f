"""The Alembic migrations create exactly the schema the models describe, on SQLite in WAL mode and on PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from autograder.site.models import Base, make_engine, migrate, normalize_url
from tests.site.conftest import BOTH

DATABASES = BOTH


def test_migrations_match_the_models(tmp_path, db_url):
    url = db_url or f"sqlite:///{tmp_path / 'site.db'}"
    migrate(url)
    migrate(url)  # a second upgrade is a no-op
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert diff == []
    assert [tuple(v) for v in versions] == [("0003",)]
    if db_url is None:
        with sqlite3.connect(tmp_path / "site.db") as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        engine.dispose()
    else:
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
            # no SQLite pragma reaches PostgreSQL; its own defaults hold
            assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p%40ss@db.example/course", "postgresql+psycopg://u:p%40ss@db.example/course"),
        ("postgres://u@db/course", "postgresql+psycopg://u@db/course"),
        ("postgresql+psycopg://u@db/course", "postgresql+psycopg://u@db/course"),
        ("sqlite:////srv/site.db", "sqlite:////srv/site.db"),
    ],
)
def test_a_plain_postgresql_url_uses_psycopg_3(given, used):
    assert normalize_url(given) == used
