"""The students' helper module: loading SIGNS files, one-hot labels, mini-batches."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import h5py
import numpy as np
import pytest

from autograder import course

HELPER = course.STUDENT_HELPERS / "course_utils.py"


@pytest.fixture(scope="module")
def cu():
    """The module loaded from its file, as a notebook beside it would import it."""
    spec = importlib.util.spec_from_file_location("course_utils_under_test", HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_signs(folder, m_train=12, m_test=6, seed=0):
    """Small files in the SIGNS format; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_set_x": rng.integers(0, 256, (m_train, 64, 64, 3), dtype=np.uint8),
        "train_set_y": rng.integers(0, 6, m_train).astype(np.int64),
        "test_set_x": rng.integers(0, 256, (m_test, 64, 64, 3), dtype=np.uint8),
        "test_set_y": rng.integers(0, 6, m_test).astype(np.int64),
    }
    for prefix in ("train", "test"):
        with h5py.File(folder / f"{prefix}_signs.h5", "w") as f:
            f[f"{prefix}_set_x"] = arrays[f"{prefix}_set_x"]
            f[f"{prefix}_set_y"] = arrays[f"{prefix}_set_y"]
            f["list_classes"] = np.arange(6, dtype=np.int64)
    return arrays


def assert_loaded(result, arrays):
    X_train, Y_train, X_test, Y_test, classes = result
    m_train, m_test = len(arrays["train_set_y"]), len(arrays["test_set_y"])
    assert X_train.shape == (m_train, 64, 64, 3) and X_train.dtype == np.uint8
    assert Y_train.shape == (1, m_train) and Y_test.shape == (1, m_test)
    assert X_test.shape == (m_test, 64, 64, 3)
    assert np.array_equal(X_train, arrays["train_set_x"]) and np.array_equal(X_test, arrays["test_set_x"])
    assert Y_train[0].tolist() == arrays["train_set_y"].tolist()
    assert Y_test[0].tolist() == arrays["test_set_y"].tolist()
    assert classes.tolist() == [0, 1, 2, 3, 4, 5]


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def test_needs_only_numpy_and_h5py():
    tree = ast.parse(HELPER.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"numpy", "h5py"}


def test_imports_on_its_own(tmp_path):
    # A copy beside a notebook, with no autograder on the path.
    (tmp_path / "course_utils.py").write_text(HELPER.read_text())
    code = "import sys, course_utils; print('autograder' in sys.modules)"
    # ``-c`` puts the working folder first on sys.path, as Jupyter does with a notebook's folder.
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_load_from_data_dir(cu, tmp_path, no_env):
    arrays = write_signs(tmp_path / "mydata")
    assert_loaded(cu.load_dataset(tmp_path / "mydata"), arrays)
    assert_loaded(cu.load_dataset(str(tmp_path / "mydata")), arrays)


def test_load_from_env(cu, tmp_path, monkeypatch):
    arrays = write_signs(tmp_path / "elsewhere", seed=3)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    assert_loaded(cu.load_dataset(), arrays)


def test_data_dir_argument_wins_over_env(cu, tmp_path, monkeypatch):
    arrays = write_signs(tmp_path / "given", seed=1)
    write_signs(tmp_path / "env", seed=2)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert_loaded(cu.load_dataset(tmp_path / "given"), arrays)


def test_finds_datasets_in_a_parent_folder(cu, tmp_path, monkeypatch, no_env):
    arrays = write_signs(tmp_path / "course" / "datasets", seed=4)
    deep = tmp_path / "course" / "assignments" / "week3"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert_loaded(cu.load_dataset(), arrays)


def test_nearest_datasets_folder_wins(cu, tmp_path, monkeypatch, no_env):
    write_signs(tmp_path / "datasets", seed=5)
    near = write_signs(tmp_path / "sub" / "datasets", seed=6)
    monkeypatch.chdir(tmp_path / "sub")
    assert_loaded(cu.load_dataset(), near)


def test_missing_data_says_where_to_put_it(cu, tmp_path, monkeypatch, no_env):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        cu.load_dataset()
    message = str(info.value)
    assert "folder named datasets beside the notebook" in message and "COURSE_DATA_DIR" in message
    assert str(tmp_path) in message
    # Students never have the course repository (it holds the solutions): no message may send them there.
    assert "repository" not in message and "autograder" not in message


def test_env_pointing_at_an_empty_folder(cu, tmp_path, monkeypatch):
    write_signs(tmp_path / "datasets")  # present, but the explicit setting must not be silently ignored
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"COURSE_DATA_DIR=.*empty.*folder named datasets"):
        cu.load_dataset()


def test_data_dir_without_test_file(cu, tmp_path, no_env):
    write_signs(tmp_path / "half")
    (tmp_path / "half" / "test_signs.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"No train_signs.h5 and test_signs.h5 in .*half"):
        cu.load_dataset(tmp_path / "half")


def test_convert_to_one_hot(cu):
    Y = np.array([[1, 0, 5, 2, 1]])
    one_hot = cu.convert_to_one_hot(Y, 6)
    assert one_hot.shape == (6, 5)
    assert one_hot.argmax(axis=0).tolist() == [1, 0, 5, 2, 1]
    assert one_hot.sum(axis=0).tolist() == [1.0] * 5
    assert set(np.unique(one_hot).tolist()) == {0.0, 1.0}
    assert cu.convert_to_one_hot(np.array([3, 0]), 4).tolist() == [[0, 1], [0, 0], [0, 0], [1, 0]]
    assert cu.convert_to_one_hot(np.zeros((1, 0), np.int64), 3).shape == (3, 0)


def test_convert_to_one_hot_rejects_labels_out_of_range(cu):
    with pytest.raises(ValueError, match=r"0\.\.5"):
        cu.convert_to_one_hot(np.array([[0, 6]]), 6)
    with pytest.raises(ValueError):
        cu.convert_to_one_hot(np.array([[-1]]), 6)


def test_mini_batch_sizes_and_last_batch(cu):
    X = np.arange(3 * 148).reshape(3, 148).astype(float)
    Y = np.arange(148).reshape(1, 148)
    batches = cu.random_mini_batches(X, Y, mini_batch_size=64, seed=0)
    assert [b[0].shape for b in batches] == [(3, 64), (3, 64), (3, 20)]
    assert [b[1].shape for b in batches] == [(1, 64), (1, 64), (1, 20)]
    even = cu.random_mini_batches(X[:, :128], Y[:, :128], mini_batch_size=32, seed=1)
    assert [b[0].shape[1] for b in even] == [32, 32, 32, 32]


def test_mini_batches_cover_every_column_once_and_keep_pairs(cu):
    X = np.arange(2 * 100).reshape(2, 100)
    Y = np.arange(100).reshape(1, 100) * 10
    batches = cu.random_mini_batches(X, Y, mini_batch_size=16, seed=7)
    order = np.concatenate([b[1][0] for b in batches]) // 10
    assert sorted(order.tolist()) == list(range(100))
    assert order.tolist() != list(range(100))  # shuffled
    for bx, by in batches:
        assert np.array_equal(bx[0], by[0] // 10) and np.array_equal(bx[1], by[0] // 10 + 100)


def test_mini_batches_follow_one_seeded_permutation(cu):
    m = 50
    np.random.seed(3)
    permutation = np.random.permutation(m)
    X = np.arange(m).reshape(1, m)
    batches = cu.random_mini_batches(X, X, mini_batch_size=20, seed=3)
    assert np.concatenate([b[0][0] for b in batches]).tolist() == permutation.tolist()
    indices = cu.mini_batch_indices(m, 20, 3)
    assert [len(i) for i in indices] == [20, 20, 10]
    assert np.concatenate(indices).tolist() == permutation.tolist()


def test_same_seed_same_batches_other_seed_other_batches(cu):
    X = np.random.default_rng(0).normal(size=(4, 70))
    Y = np.arange(70).reshape(1, 70)
    a = cu.random_mini_batches(X, Y, 32, seed=2)
    b = cu.random_mini_batches(X, Y, 32, seed=2)
    c = cu.random_mini_batches(X, Y, 32, seed=9)
    assert len(a) == len(b) == 3
    assert all(np.array_equal(xa, xb) and np.array_equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))
    assert not np.array_equal(a[0][1], c[0][1])


def test_mini_batch_input_errors(cu):
    with pytest.raises(ValueError, match="same m"):
        cu.random_mini_batches(np.zeros((2, 10)), np.zeros((1, 9)))
    with pytest.raises(ValueError, match="mini_batch_size"):
        cu.mini_batch_indices(10, 0, 1)
    assert cu.mini_batch_indices(0, 8, 1) == []
