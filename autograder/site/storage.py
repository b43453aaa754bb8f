"""Submitted files: checked, stored content-addressed on disk, and recorded in the database before the
site answers.

A file lives at ``<data dir>/blobs/<aa>/<sha256>.ipynb``, written through a synced temporary file and a
rename, so a blob is either complete or absent. The row is committed after the blob is on disk: a crash in
between leaves at most an unreferenced blob (harmless, it is content-addressed), never a row without its
file. The same file twice by one student for one assignment is one submission (a unique constraint, so two
racing requests cannot make two).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from autograder.batch.submissions import not_a_notebook
from autograder.site.catalog import Offered, notebook_grade_ids
from autograder.site.models import Submission, User

DEFAULT_MAX_UPLOAD_MB = 20


class UploadRefused(Exception):
    """An upload that is not stored; ``message`` is for the student, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def too_large(limit_bytes: int) -> UploadRefused:
    return UploadRefused(
        f"The file is larger than the limit of {limit_bytes // 2**20} MiB. A notebook is usually far smaller: "
        "clear the outputs of large cells (Edit \u2192 Clear Outputs) and save it again.",
        413,
    )


def clean_filename(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    return base or "submission.ipynb"


def blob_path(blobs: Path, sha256: str) -> Path:
    return blobs / sha256[:2] / f"{sha256}.ipynb"


@dataclasses.dataclass
class Stored:
    submission: Submission
    new: bool  # False: this student had already submitted this very file for this assignment


def _check(tmp: Path, data: bytes, offered: Offered, others: dict[str, Offered]) -> None:
    if not data.strip():
        raise UploadRefused("The file is empty. Save the notebook in Jupyter (File \u2192 Save) and upload the .ipynb file.")
    what = not_a_notebook(tmp)
    if what is not None:
        raise UploadRefused(f"This is not a notebook: it looks like {what}. Upload the .ipynb file saved from Jupyter.")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise UploadRefused(
            f"This file is not a readable notebook: it is not valid JSON{where}. It may be damaged or cut off; "
            "save it again in Jupyter and upload the .ipynb file."
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise UploadRefused("This file is JSON but not a Jupyter notebook (format 4). Upload the .ipynb file saved from Jupyter.")
    ids = notebook_grade_ids(nb)
    if not ids & offered.grade_ids:
        mine = [o.name for o in others.values() if o.name != offered.name and ids & o.grade_ids]
        which = f" It looks like the notebook of {mine[0]}." if mine else ""
        raise UploadRefused(
            f"This is not a notebook of {offered.name}: none of its graded cells are there.{which} "
            f"Submit the {offered.spec.notebook} you downloaded for this assignment."
        )


def store(
    factory: sessionmaker,
    blobs: Path,
    user_id: int,
    offered: Offered,
    filename: str | None,
    data: bytes,
    *,
    others: dict[str, Offered] | None = None,
    admit: Callable[[Session], None] | None = None,
    created_at: dt.datetime | None = None,
) -> Stored:
    """Check ``data`` and store it as a submission of ``user_id``; raise UploadRefused (nothing stored) if it is no good.

    ``admit(db)`` applies the course rules to a new submission (not to the same file again): it raises
    UploadRefused. It runs once before the file is written (so a refused upload leaves nothing) and again
    inside the transaction that adds the row, after the student's row is locked, so two racing uploads
    cannot both pass a daily limit.
    """
    blobs.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=blobs)
    tmp = Path(name)
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _check(tmp, data, offered, others or {})
        sha = hashlib.sha256(data).hexdigest()
        if admit is not None:
            with factory() as db:
                existing = _existing(db, user_id, offered, sha)
                if existing is not None:
                    return Stored(existing, False)
                admit(db)
        final = blob_path(blobs, sha)
        if not final.exists():
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the rename itself is durable before the row is committed
            finally:
                os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)
    with factory() as db:
        if admit is not None:
            # A no-op write on the student's row: SQLite takes its write lock, PostgreSQL locks the row, so the
            # rules are checked and the row added by one upload of this student at a time.
            db.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch))
        existing = _existing(db, user_id, offered, sha)
        if existing is not None:
            db.expunge(existing)  # keeps its loaded fields: a rollback expires what the session still holds
            db.rollback()
            return Stored(existing, False)
        if admit is not None:
            try:
                admit(db)
            except UploadRefused:
                db.rollback()
                raise  # a racing upload won the last slot; the blob (content-addressed) is harmless
        sub = Submission(user_id=user_id, assignment=offered.name, sha256=sha, size=len(data), filename=clean_filename(filename))
        if created_at is not None:
            sub.created_at = created_at
        db.add(sub)
        try:
            db.commit()
        except IntegrityError:  # the same file, stored by a request racing with this one
            db.rollback()
            existing = _existing(db, user_id, offered, sha)
            if existing is None:
                raise  # another constraint: an error of the server, not a submission to hand back
            return Stored(existing, False)
        return Stored(sub, True)


def _existing(db: Session, user_id: int, offered: Offered, sha: str) -> Submission | None:
    return db.scalar(
        select(Submission).where(Submission.user_id == user_id, Submission.assignment == offered.name, Submission.sha256 == sha)
    )
