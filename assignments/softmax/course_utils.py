"""Helpers shared by the course's notebooks, the book and the grader: the SIGNS data and mini-batches.

This file is copied beside every released notebook, so it needs only NumPy (and h5py to load the data)
and never imports the autograder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

TRAIN_FILE = "train_signs.h5"
TEST_FILE = "test_signs.h5"
BUILD_HINT = (
    "Build the data with `autograder data build` in the course repository (it writes datasets/), "
    "or set COURSE_DATA_DIR to the folder that holds train_signs.h5 and test_signs.h5."
)


def find_data_dir(data_dir=None) -> Path:
    """The folder of the SIGNS files.

    In order: ``data_dir`` if given, else the environment variable ``COURSE_DATA_DIR``, else the first
    ``datasets/`` folder holding ``train_signs.h5`` in the current directory or one of its parents.
    Raises ``FileNotFoundError`` that says how to build the data when none is found.
    """

    def complete(folder: Path) -> bool:
        return (folder / TRAIN_FILE).is_file() and (folder / TEST_FILE).is_file()

    if data_dir is not None:
        folder = Path(data_dir)
        if not complete(folder):
            raise FileNotFoundError(f"No {TRAIN_FILE} and {TEST_FILE} in {folder} (the data_dir given). {BUILD_HINT}")
        return folder
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        folder = Path(env)
        if not complete(folder):
            raise FileNotFoundError(f"No {TRAIN_FILE} and {TEST_FILE} in COURSE_DATA_DIR={env}. {BUILD_HINT}")
        return folder
    here = Path.cwd().resolve()
    for parent in (here, *here.parents):
        folder = parent / "datasets"
        if (folder / TRAIN_FILE).is_file():
            if not (folder / TEST_FILE).is_file():
                raise FileNotFoundError(f"{folder} has {TRAIN_FILE} but no {TEST_FILE}. {BUILD_HINT}")
            return folder
    raise FileNotFoundError(
        f"The SIGNS data was not found: no datasets/{TRAIN_FILE} in {here} or its parents, and COURSE_DATA_DIR is not set. {BUILD_HINT}"
    )


def load_dataset(data_dir=None):
    """Load the SIGNS data set (hand signs for the digits 0 to 5, 64x64 RGB photos).

    Returns ``X_train_orig`` (m_train, 64, 64, 3) uint8, ``Y_train_orig`` (1, m_train) int64,
    ``X_test_orig`` (m_test, 64, 64, 3) uint8, ``Y_test_orig`` (1, m_test) int64 and ``classes`` (6,).
    The labels are row vectors, as the course's notebooks expect. See ``find_data_dir`` for where the
    files are looked for.
    """
    import h5py

    folder = find_data_dir(data_dir)
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
