"""A throwaway PostgreSQL server for the tests: ``initdb`` in a temporary folder, ``pg_ctl`` on a free loopback port
with its socket in that folder, stopped and removed afterwards.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the ``postgres`` user that
Debian's package creates (else ``nobody``), through ``runuser``, over a folder chowned to it. The folder is
made under /tmp (not pytest's per-user 0700 folder, which that user could not enter).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"


class Unavailable(Exception):
    """No PostgreSQL server can be started here (the reason says why)."""


def bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0
    )
    for candidate in reversed(versions):
        folder = Path(candidate).parent
        if (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> str | None:
    """The user to run the server as (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (SUPERUSER, "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise Unavailable("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


class Server:
    """``with Server() as pg: pg.create_database("x") -> URL``; everything is gone after the block."""

    def __init__(self) -> None:
        folder = bin_dir()
        if folder is None:
            raise Unavailable("PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
        self.bin = folder
        self.user = _run_as()
        self.root: Path | None = None
        self.port = 0
        self.started = False

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", self.user, "--"] if self.user else []) + list(args)

    def __enter__(self) -> Server:
        self.root = Path(tempfile.mkdtemp(prefix="autograder-pg-", dir="/tmp"))
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        assert self.root is not None
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.root, info.pw_uid, info.pw_gid)
        data, log = self.root / "data", self.root / "server.log"
        init = subprocess.run(
            self._cmd(str(self.bin / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}): {init.stderr[-2000:]}")
        self.port = _free_port()
        # A test server: nothing here has to survive a power cut, so no fsync.
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off"
        start = subprocess.run(
            self._cmd(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"),
            capture_output=True,
            text=True,
            timeout=90,
        )
        self.started = True  # pg_ctl may have started it even when it reports a failure: stop in any case
        if start.returncode != 0:
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed ({start.returncode}): {start.stderr[-1000:]}\n{text}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        """Run one statement on the server's maintenance database, outside a transaction (CREATE DATABASE)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # ends the site's pooled connections too

    def __exit__(self, *exc) -> None:
        try:
            if self.started and self.root is not None:
                subprocess.run(
                    self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"),
                    capture_output=True,
                    timeout=60,
                )
                self.started = False
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None
