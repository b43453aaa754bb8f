"""nbgrader's gradebook schema, created without an `alembic` process."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from autograder import gradebook_schema, release
from tests.toy_course import TOY


def test_new_database_gets_nbgrader_tables_and_the_revision_alembic_reports(tmp_path, monkeypatch):
    # The revision must be the one nbgrader's own `alembic heads` gives, or `nbgrader db upgrade` would try
    # to migrate a current database.
    from nbgrader.api import Gradebook, get_alembic_version

    gradebook_schema.create_schema(f"sqlite:///{tmp_path / 'gb.db'}")
    with sqlite3.connect(tmp_path / "gb.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        stamped = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"assignment", "notebook", "base_cell", "student", "submitted_assignment", "grade"} <= tables
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert stamped == [(get_alembic_version(),)]
    gb = Gradebook(f"sqlite:///{tmp_path / 'gb.db'}")  # nbgrader accepts the database as its own
    try:
        gb.add_student("alice")
        assert [s.id for s in gb.students] == ["alice"]
    finally:
        gb.close()
        gb.engine.dispose()


def test_a_database_with_tables_is_left_alone(tmp_path):
    with sqlite3.connect(tmp_path / "gb.db") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('an-older-revision')")
    gradebook_schema.create_schema(f"sqlite:///{tmp_path / 'gb.db'}")
    with sqlite3.connect(tmp_path / "gb.db") as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        stamped = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert tables == ["alembic_version"]
    assert stamped == [("an-older-revision",)]


def test_release_runs_no_alembic_process(monkeypatch):
    # nbgrader asks a new `alembic` process for the revision of an empty database (seconds each time, and it
    # fails when the environment's bin/ is not on PATH); the release must never get there.
    import nbgrader.api

    def no_alembic():
        raise AssertionError("nbgrader started an alembic process")

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_alembic)
    released = release._generate((TOY / "toy.ipynb").read_text(), "toy")  # bypasses every cache
    assert released == release.released_text(TOY / "toy.ipynb")
