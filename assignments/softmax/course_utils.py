"""Helpers shared by the course's notebooks, the book and the grader: the SIGNS data and mini-batches.

This file is copied beside every released notebook, so it needs only NumPy (and h5py to load the data)
and never imports the autograder.

Where ``load_dataset`` gets the SIGNS files: from a folder given as ``data_dir`` or ``COURSE_DATA_DIR``
(never downloaded: the grader provides its data this way), else from a ``datasets/`` folder in the working
folder or one of its parents, else by download. The download needs ``course_data.json`` beside this file
(the course writes it into each assignment that uses the data): the address of the course's published book
``data/`` folder and the SHA-256 and size of each file. Downloads go into the cache folder
``$XDG_CACHE_HOME/course-signs`` (default ``~/.cache/course-signs``), shared by every assignment, through a
temporary file that is renamed only once its SHA-256 matches; cached files are checked the same way on
every load, and a damaged one is downloaded again.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

TRAIN_FILE = "train_signs.h5"
TEST_FILE = "test_signs.h5"
DATA_INFO = "course_data.json"  # beside this module, written by the course's release
DOWNLOAD_TIMEOUT_S = 60  # per network operation (connect, each read), not for the whole file
PLACE_HINT = (
    f"Put {TRAIN_FILE} and {TEST_FILE} in a folder named datasets beside the notebook, "
    "or set COURSE_DATA_DIR to the folder that holds them."
)


class DataDownloadError(OSError):
    """The SIGNS files could not be downloaded: the network, the server, or a file whose SHA-256 is wrong."""


def find_data_dir(data_dir=None) -> Path:
    """The folder of the SIGNS files.

    In order: ``data_dir`` if given, else the environment variable ``COURSE_DATA_DIR``, else the first
    ``datasets/`` folder holding ``train_signs.h5`` in the current directory or one of its parents.
    Raises ``FileNotFoundError`` that says where to put the files when none is found.
    """

    def complete(folder: Path) -> bool:
        return (folder / TRAIN_FILE).is_file() and (folder / TEST_FILE).is_file()

    if data_dir is not None:
        folder = Path(data_dir)
        if not complete(folder):
            raise FileNotFoundError(f"No {TRAIN_FILE} and {TEST_FILE} in {folder} (the data_dir given). {PLACE_HINT}")
        return folder
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        folder = Path(env)
        if not complete(folder):
            raise FileNotFoundError(f"No {TRAIN_FILE} and {TEST_FILE} in COURSE_DATA_DIR={env}. {PLACE_HINT}")
        return folder
    here = Path.cwd().resolve()
    for parent in (here, *here.parents):
        folder = parent / "datasets"
        if (folder / TRAIN_FILE).is_file():
            if not (folder / TEST_FILE).is_file():
                raise FileNotFoundError(f"{folder} has {TRAIN_FILE} but no {TEST_FILE}. {PLACE_HINT}")
            return folder
    raise FileNotFoundError(
        f"The SIGNS data was not found: no datasets/{TRAIN_FILE} in {here} or its parents, and COURSE_DATA_DIR is not set. {PLACE_HINT}"
    )


def load_dataset(data_dir=None):
    """Load the SIGNS data set (hand signs for the digits 0 to 5, 64x64 RGB photos).

    Returns ``X_train_orig`` (m_train, 64, 64, 3) uint8, ``Y_train_orig`` (1, m_train) int64,
    ``X_test_orig`` (m_test, 64, 64, 3) uint8, ``Y_test_orig`` (1, m_test) int64 and ``classes`` (6,).
    The labels are row vectors, as the course's notebooks expect. See ``find_data_dir`` for where the
    files are looked for locally; without local files, they are downloaded when the course set an address
    (see the module's docstring), else ``FileNotFoundError`` says where to put them.
    """
    import h5py

    folder = _data_folder(data_dir)
    with h5py.File(folder / TRAIN_FILE, "r") as f:
        X_train_orig = np.array(f["train_set_x"][:])
        Y_train_orig = np.array(f["train_set_y"][:])
    with h5py.File(folder / TEST_FILE, "r") as f:
        X_test_orig = np.array(f["test_set_x"][:])
        Y_test_orig = np.array(f["test_set_y"][:])
        classes = np.array(f["list_classes"][:])
    return (
        X_train_orig,
        Y_train_orig.reshape((1, Y_train_orig.shape[0])),
        X_test_orig,
        Y_test_orig.reshape((1, Y_test_orig.shape[0])),
        classes,
    )


def cache_dir() -> Path:
    """The folder downloads go into: ``$XDG_CACHE_HOME/course-signs``, else ``~/.cache/course-signs``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "course-signs"


def _data_folder(data_dir):
    # A place named by the caller or by COURSE_DATA_DIR is final: no download behind its back (the grader
    # names its read-only copy this way, so a graded run never reaches the network through this module).
    if data_dir is not None or os.environ.get("COURSE_DATA_DIR"):
        return find_data_dir(data_dir)
    try:
        return find_data_dir()
    except FileNotFoundError:
        info = _download_info()
        if info is None:
            raise
        return download_signs(info)


def _download_info():
    """``course_data.json`` beside this module, when it offers a download; else None."""
    path = Path(__file__).resolve().parent / DATA_INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not info.get("base_url"):
            return None  # the course publishes no download address
        for name in (TRAIN_FILE, TEST_FILE):
            entry = info["files"][name]
            if not (isinstance(entry["sha256"], str) and isinstance(entry["bytes"], int)):
                raise TypeError(name)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataDownloadError(f"{path} is damaged ({exc!r}); download the assignment again. {PLACE_HINT}") from None
    return info


def _digest(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def download_signs(info, cache=None) -> Path:
    """Make sure both SIGNS files described by ``info`` (the contents of ``course_data.json``) are in the
    cache folder with their SHA-256, downloading what is missing or different; returns the folder.

    Raises ``DataDownloadError`` naming the URL that failed and how to place the files by hand; a failed or
    refused download leaves no file behind.
    """
    folder = Path(cache) if cache is not None else cache_dir()
    base = info["base_url"]
    if not base.startswith(("https://", "http://")):
        raise DataDownloadError(f"{DATA_INFO} names {base!r}, not an http(s) address. {PLACE_HINT}")
    for name in (TRAIN_FILE, TEST_FILE):
        want = info["files"][name]
        target = folder / name
        if target.is_file() and _digest(target) == (want["sha256"], want["bytes"]):
            continue
        _download(base.rstrip("/") + "/" + name, target, want["sha256"], want["bytes"], base)
    return folder


def _download(url: str, target: Path, sha256: str, size: int, base: str) -> None:
    by_hand = (
        f"You can also download {TRAIN_FILE} and {TEST_FILE} by hand from {base} and put them in "
        f"{target.parent} (or in a folder named datasets beside the notebook, or set COURSE_DATA_DIR to their folder)."
    )
    print(f"Downloading {target.name} ({size / 1e6:.1f} MB) from {url} into {target.parent} ...")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise DataDownloadError(f"cannot write into {target.parent}: {exc}. {by_hand}") from None
    tmp = Path(tmp_name)
    try:
        h, got = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                    while got <= size:  # a server sending more than the file's size is cut off
                        block = response.read(1 << 20)
                        if not block:
                            break
                        h.update(block)
                        got += len(block)
                        out.write(block)
            except urllib.error.HTTPError as exc:
                raise DataDownloadError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}. {by_hand}") from None
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise DataDownloadError(f"downloading {url} failed: {reason}. {by_hand}") from None
        if got != size or h.hexdigest() != sha256:
            raise DataDownloadError(
                f"{url} sent a file that is not the course's {target.name} (expected {size} bytes with SHA-256 "
                f"{sha256}, got {got} bytes with {h.hexdigest()}); it was not kept. {by_hand}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def convert_to_one_hot(Y, C):
    """One-hot encode integer labels.

    ``Y`` holds m labels in ``0 .. C-1`` (any shape, e.g. (1, m)); returns a (C, m) float array whose
    column j is 1 in row ``Y[j]`` and 0 elsewhere.
    """
    labels = np.asarray(Y).reshape(-1)
    if labels.size and (labels.dtype.kind not in "iu" and not np.all(labels == np.round(labels))):
        raise ValueError("convert_to_one_hot: labels must be whole numbers")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"convert_to_one_hot: labels must lie in 0..{C - 1}, got {labels.min()}..{labels.max()}")
    return np.eye(C)[labels].T


def mini_batch_indices(m, mini_batch_size, seed):
    """The column indices of each mini-batch, without the data.

    Seeds NumPy's global generator with ``seed``, draws one ``np.random.permutation(m)``, and cuts it into
    full batches of ``mini_batch_size`` followed by one smaller last batch when ``m`` is not a multiple.
    Returns a list of integer index arrays that together cover ``0 .. m-1`` exactly once.
    """
    if int(mini_batch_size) != mini_batch_size or mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be a positive whole number, got {mini_batch_size!r}")
    if int(m) != m or m < 0:
        raise ValueError(f"m must be a whole number >= 0, got {m!r}")
    m, size = int(m), int(mini_batch_size)
    np.random.seed(seed)
    permutation = np.random.permutation(m)
    return [permutation[start : start + size] for start in range(0, m, size)]


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Shuffle the examples and split them into mini-batches.

    ``X`` is (n_x, m) and ``Y`` is (n_y, m), one example per column. The columns are shuffled together
    (the order comes from ``mini_batch_indices(m, mini_batch_size, seed)``), then cut into batches of
    ``mini_batch_size`` columns and one smaller last batch if needed. Returns a list of
    ``(mini_batch_X, mini_batch_Y)`` tuples.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"random_mini_batches expects X (n_x, m) and Y (n_y, m) with the same m; got {X.shape} and {Y.shape}")
    return [(X[:, idx], Y[:, idx]) for idx in mini_batch_indices(X.shape[1], mini_batch_size, seed)]
