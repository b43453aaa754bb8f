"""Fetch the upstream archive and unpack the class folders the build needs.

Only the images are trusted, never the archive: GitHub regenerates its zip files, so their bytes can
change while the photos inside stay the same. The caller checks each photo against the manifest.
"""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from autograder.errors import AutograderError

CHUNK = 1 << 16
TIMEOUT_S = 60


class DownloadError(AutograderError):
    """A download or an archive that cannot be used; the message names the URL or file and the reason."""

    exit_code = 1


def fetch(url: str, dest: Path, progress: bool = True) -> Path:
    """Download ``url`` to the file ``dest`` with a progress bar; raise ``DownloadError`` on failure."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, open(dest, "wb") as out:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            got = 0
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="downloading", disable=not progress) as bar:
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"download of {url} failed: {exc.reason}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # Timeouts, resets mid-stream and malformed URLs end up here.
        raise DownloadError(f"download of {url} failed: {exc or type(exc).__name__}") from None
    if total is not None and got != total:
        raise DownloadError(f"download of {url} failed: got {got} of {total} bytes")
    return dest


def extract_dataset(archive: Path, dest: Path, classes: Iterable[int]) -> Path:
    """Unpack ``.../Dataset/<c>/<image>`` for each class ``c`` into ``dest/Dataset/<c>/``; return that folder.

    Paths are rebuilt from the class and the file's base name, so no member can write outside ``dest``.
    """
    wanted = {str(c) for c in classes}
    dataset = dest / "Dataset"
    found = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                parts = PurePosixPath(info.filename).parts
                if len(parts) < 3 or parts[-3] != "Dataset" or parts[-2] not in wanted:
                    continue
                name = parts[-1]
                if name.startswith(".") or name in ("", "..") or "\\" in name:
                    continue
                target = dataset / parts[-2] / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                found += 1
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DownloadError(f"{archive.name} is not a usable zip archive: {exc}") from None
    if not found:
        raise DownloadError(f"the archive holds no images under Dataset/{{{','.join(sorted(wanted))}}}/")
    return dataset
