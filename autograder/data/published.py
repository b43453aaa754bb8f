"""The SIGNS files as students download them: their names, sizes and SHA-256, and ``course_data.json``.

Students who have no local copy of the data get it from the course's published book: the book build copies
the built files into ``_build/html/data/`` (``book/_ext/signs_data.py``, with ``SHA256SUMS`` and a credit
page), and ``course_utils.load_dataset`` downloads them from there and checks each against the SHA-256 that
``autograder release`` wrote into ``course_data.json`` beside the notebook.

Single source of truth: the built files in the data folder (``datasets/``, or ``$COURSE_DATA_DIR``). Release
hashes them and the book publishes those same bytes, both through ``digests`` here; nothing is hashed twice
from different inputs. The build is byte-deterministic (the photos are pinned by the manifest, the recipe is
seeded, and h5py writes no creation times: ``track_times=False`` in ``data/signs.py``), so a rebuild on the
same library versions gives the same hashes. A rebuild that changes a byte (another Pillow, another recipe)
makes ``autograder release --check`` report ``course_data.json`` as out of date, before students download
files their checksums refuse.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from autograder.errors import AutograderError, UsageError

FILES = ("train_signs.h5", "test_signs.h5")
COURSE_DATA = "course_data.json"  # beside the released notebook; read by course_utils (same name there)
SUMS = "SHA256SUMS"


class DataNotBuilt(AutograderError):
    """The SIGNS files that would be published (or recorded) are missing."""


def file_digest(path: Path) -> dict:
    """``{"sha256": hex, "bytes": size}`` of one file, read in blocks (the training file is ~13 MB)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return {"sha256": h.hexdigest(), "bytes": size}


def digests(folder: Path) -> dict[str, dict]:
    """File name -> digest of each SIGNS file in ``folder``; ``DataNotBuilt`` names what is missing."""
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise DataNotBuilt(
            f"the SIGNS files are not built: no {' or '.join(missing)} in {folder} "
            "(run `autograder data build`, or set COURSE_DATA_DIR to the folder that holds them)"
        )
    return {name: file_digest(folder / name) for name in FILES}


def _check_url(base_url: str | None) -> None:
    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise UsageError(f"the data URL must start with https:// or http://, got {base_url!r}")


def course_data(base_url: str | None, files: dict[str, dict]) -> dict:
    """The document of ``course_data.json``: where to download (None: nowhere) and what to expect."""
    _check_url(base_url)
    return {
        "about": "The SIGNS files the notebook loads: where course_utils.load_dataset downloads them and their SHA-256.",
        "base_url": base_url.rstrip("/") + "/" if base_url else None,
        "files": {name: dict(files[name]) for name in sorted(files)},
    }


def course_data_bytes(base_url: str | None, folder: Path) -> bytes:
    """``course_data.json`` as release writes it: fixed key order and layout, so reruns compare equal."""
    _check_url(base_url)  # before hashing ~15 MB
    return (json.dumps(course_data(base_url, digests(folder)), indent=1, sort_keys=True) + "\n").encode("utf-8")


def sha256sums(files: dict[str, dict]) -> str:
    """The ``SHA256SUMS`` text of the published folder (the format ``sha256sum -c`` reads)."""
    return "".join(f"{files[name]['sha256']}  {name}\n" for name in sorted(files))


__all__ = ["FILES", "COURSE_DATA", "SUMS", "DataNotBuilt", "file_digest", "digests", "course_data", "course_data_bytes", "sha256sums"]
