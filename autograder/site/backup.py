"""``autograder site backup DEST`` and ``autograder site restore SRC``: the whole state of a course site in
one folder, independent of the database it came from (a SQLite site can be restored into PostgreSQL and back).

A backup folder holds:

  backup.json            what it is: format, time, schema revision, row counts, every blob with its SHA-256
  tables/<table>.jsonl   the rows of each table, one JSON object per line (times as ISO text)
  blobs/<aa>/<sha>.ipynb the submitted files the rows name (each checked against its name while copied)
  secret.key             the cookie-signing key, when the site has one on disk (keeps students signed in)

Backing up is safe while the server runs: every table is read in one snapshot (a read transaction on
SQLite in WAL mode, REPEATABLE READ on PostgreSQL), and blobs never change once their row exists. The folder
is written under a temporary name and renamed when complete, so a folder called DEST is a whole backup.

Restoring needs an empty database: the target is migrated to the backup's schema revision, the rows are
inserted in one transaction (so a failed restore leaves nothing), PostgreSQL's id sequences are moved past the
restored ids, and then the schema is upgraded to the newest revision like at every start. Every blob is
verified before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Integer, MetaData, func, inspect, select, text
from sqlalchemy.engine import Connection

from autograder.errors import CheckFailed, UsageError
from autograder.files import atomic_write, atomic_write_json
from autograder.site.models import MIGRATIONS, make_engine, migrate, normalize_url
from autograder.site.security import SECRET_FILE
from autograder.site.storage import blob_path

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "backup.json"
BATCH = 200  # rows per read and per insert: memory stays bounded by feedback pages, not by the class size


class BackupError(UsageError):
    """The backup or the restore cannot be done as asked (nothing was changed)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _encode(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise BackupError(f"cannot write a value of type {type(value).__name__} into a backup")


def _decoder(column):
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    if kind is dt.datetime:
        return dt.datetime.fromisoformat
    if kind is dt.date:
        return dt.date.fromisoformat
    return None


def _tables(conn: Connection) -> list:
    """The site's tables of the connected database, parents before children (Alembic's own table left out)."""
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def _revision(conn: Connection) -> str:
    if not inspect(conn).has_table("alembic_version"):
        raise BackupError("this database has no site schema (no alembic_version table): nothing to back up")
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) != 1:
        raise BackupError(f"the database's schema revision is not one revision: {rows}")
    return rows[0]


def _snapshot(conn: Connection) -> Connection:
    """``conn``, set so that every following read sees one state of the database."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")  # pysqlite starts no transaction for reads; WAL keeps this one's view
        return conn
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn.execution_options(isolation_level="SERIALIZABLE")


def backup(url: str, data_dir: Path, dest: Path) -> dict:
    """Write a backup of the site (database at ``url``, files in ``data_dir``) to the new folder ``dest``."""
    dest = Path(dest)
    if dest.exists():
        raise BackupError(f"{dest} exists already: a backup goes into a new folder")
    blobs = data_dir / "blobs"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        (work / "tables").mkdir()
        engine = make_engine(url)
        counts: dict[str, int] = {}
        shas: set[str] = set()
        try:
            with engine.connect() as plain:
                conn = _snapshot(plain)
                revision = _revision(conn)
                tables = _tables(conn)
                for table in tables:
                    n = 0
                    with open(work / "tables" / f"{table.name}.jsonl", "w", encoding="utf-8") as fh:
                        order = list(table.primary_key.columns) or list(table.columns)
                        rows = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
                        for row in rows.mappings():
                            record = {k: _encode(v) for k, v in row.items()}
                            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                            n += 1
                            if table.name == "submissions":
                                shas.add(row["sha256"])
                        fh.flush()
                        os.fsync(fh.fileno())
                    counts[table.name] = n
                conn.rollback()
            dialect = engine.dialect.name
        finally:
            engine.dispose()
        files, problems = {}, []
        for sha in sorted(shas):
            source = blob_path(blobs, sha)
            if not source.is_file():
                problems.append(f"{source} is missing")
                continue
            target = blob_path(work / "blobs", sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            got = _sha256(target)
            if got != sha:
                problems.append(f"{source} is damaged (its content's SHA-256 is {got})")
                continue
            files[sha] = target.stat().st_size
        if problems:
            raise CheckFailed("the site's files do not match its database; no backup was written:\n  " + "\n  ".join(problems[:20]))
        secret = data_dir / SECRET_FILE
        if secret.is_file():
            atomic_write(work / SECRET_FILE, secret.read_bytes(), mode=0o600)
        manifest = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": dialect,
            "revision": revision,
            "tables": [t.name for t in tables],
            "rows": counts,
            "blobs": files,
            "secret_key": secret.is_file(),
        }
        atomic_write_json(work / MANIFEST, manifest, indent=1, sort_keys=True)
        os.chmod(work, 0o700)  # password hashes, the signing key and every student's work
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("backup of %s written to %s", url, dest)
    return manifest


def read_manifest(src: Path) -> dict:
    path = Path(src) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a site backup ({MANIFEST}: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
    return manifest


def verify(src: Path) -> dict:
    """The backup's manifest, after checking that every table file and every blob is there and whole."""
    src = Path(src)
    manifest = read_manifest(src)
    problems = []
    for table, n in manifest["rows"].items():
        path = src / "tables" / f"{table}.jsonl"
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        with open(path, encoding="utf-8") as fh:
            lines = sum(1 for _ in fh)
        if lines != n:
            problems.append(f"{path} has {lines} rows, the backup recorded {n}")
    for sha, size in manifest["blobs"].items():
        path = blob_path(src / "blobs", sha)
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.stat().st_size != size or _sha256(path) != sha:
            problems.append(f"{path} is damaged (its content does not match its SHA-256)")
    if problems:
        raise CheckFailed(f"{src} is not a whole backup; nothing was restored:\n  " + "\n  ".join(problems[:20]))
    return manifest


def _schema_at(url: str, revision: str, current: str | None) -> None:
    """Bring the (empty) target's schema to ``revision``: up from nothing or an older one, down from a newer one."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    script = ScriptDirectory.from_config(cfg)
    try:
        script.get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the backup's schema revision {revision!r} is unknown to this version of the site (a newer one made it)"
        ) from None
    if current == revision:
        return
    newer = current is not None and revision in {r.revision for r in script.iterate_revisions(current, "base")}
    (command.downgrade if newer else command.upgrade)(cfg, revision)


def _reset_sequences(conn: Connection, tables) -> None:
    """PostgreSQL hands out ids from sequences that restored rows did not move: move them past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}).scalar()
        if seq is None:
            continue
        top = conn.execute(select(func.max(pk[0]))).scalar()
        conn.execute(text("SELECT setval(:s, :v, :called)"), {"s": seq, "v": top or 1, "called": top is not None})


def restore(src: Path, url: str, data_dir: Path) -> dict:
    """Restore the backup ``src`` into the empty site at ``url`` and ``data_dir``; returns the manifest."""
    src = Path(src)
    manifest = verify(src)
    url = normalize_url(url)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = _revision(conn) if inspect(conn).has_table("alembic_version") else None
            filled = [t.name for t in _tables(conn) if conn.execute(select(t).limit(1)).first() is not None]
        if filled:
            raise BackupError(f"the target database is not empty (rows in {', '.join(filled)}): restore into a new database")
        _schema_at(url, manifest["revision"], current)
        # the blobs first: a row is never there without its file (a restore that fails later leaves only
        # unreferenced blobs, which are harmless)
        for sha in manifest["blobs"]:
            target = blob_path(data_dir / "blobs", sha)
            if target.is_file() and _sha256(target) == sha:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, blob_path(src / "blobs", sha).read_bytes())
        with engine.begin() as conn:
            tables = {t.name: t for t in _tables(conn)}
            missing = [t for t in manifest["tables"] if t not in tables]
            if missing:
                raise BackupError(f"the schema at revision {manifest['revision']} has no table {', '.join(missing)}")
            for name in manifest["tables"]:
                table = tables[name]
                decode = {c.name: _decoder(c) for c in table.columns}
                batch: list[dict] = []
                with open(src / "tables" / f"{name}.jsonl", encoding="utf-8") as fh:
                    for line in fh:
                        row = json.loads(line)
                        unknown = set(row) - set(decode)
                        if unknown:
                            raise BackupError(f"{name}: the backup has columns the schema lacks: {', '.join(sorted(unknown))}")
                        batch.append({k: (decode[k](v) if decode[k] and v is not None else v) for k, v in row.items()})
                        if len(batch) >= BATCH:
                            conn.execute(table.insert(), batch)
                            batch = []
                if batch:
                    conn.execute(table.insert(), batch)
            _reset_sequences(conn, [tables[n] for n in manifest["tables"]])
    finally:
        engine.dispose()
    migrate(url)  # to the newest schema, as at every start
    secret = src / SECRET_FILE
    if manifest.get("secret_key") and secret.is_file() and not (data_dir / SECRET_FILE).exists():
        atomic_write(data_dir / SECRET_FILE, secret.read_bytes(), mode=0o600)
    log.info("restored %s into %s", src, url)
    return manifest


def run(cmd) -> int:
    """The CLI: ``autograder site backup|restore``."""
    from autograder import config
    from autograder.site.models import default_url

    action = cmd.action
    site = action.site
    url = site.db_url or default_url(site.data_dir)
    if isinstance(action, config.SiteBackup):
        if site.db_url is None and not (site.data_dir / "site.db").is_file():
            raise BackupError(f"no site database in {site.data_dir} (give --data-dir, or --db-url for PostgreSQL)")
        m = backup(url, site.data_dir, action.dest)
        print(
            f"backup written to {action.dest}: {m['rows'].get('users', 0)} accounts, {m['rows'].get('submissions', 0)} "
            f"submissions, {m['rows'].get('grades', 0)} grades, {len(m['blobs'])} files (schema {m['revision']})"
        )
        return 0
    if isinstance(action, config.SiteRestore):
        m = restore(action.src, url, site.data_dir)
        print(
            f"restored {action.src} (taken {m['created']}) into {site.db_url or site.data_dir}: "
            f"{m['rows'].get('submissions', 0)} submissions, {m['rows'].get('grades', 0)} grades, {len(m['blobs'])} files; "
            "start the server: what was waiting or being graded is graded then"
        )
        return 0
    raise AssertionError(f"no handler for {type(action).__name__}")
