"""Build ``train_signs.h5`` and ``test_signs.h5`` in the course's SIGNS format from the photos.

The recipe, step by step:

1. Find the photos: a local copy (a folder holding ``Dataset/0..5``, or the ``Dataset`` folder itself), or
   the pinned upstream archive, downloaded to a temporary folder.
2. Choose 180 training and 20 test photos per class. The choice depends only on the sorted file names and
   ``SEED``: each name gets a key ``sha256(seed, class, name)`` and the names are taken in key order, so
   the split is the same on every machine and with every NumPy version.
3. Check the SHA-256 of every chosen photo against ``manifest.json`` before it is decoded.
4. Decode with Pillow, convert to RGB, resize to 64x64 with a fixed filter (Lanczos).
5. Order each split by another seeded key, so the classes are mixed like in the course's files.
6. Write both files to temporary names in the output folder and move them into place only when both are
   complete, with a content hash of the arrays and a recipe id stored as HDF5 attributes; a later build
   with valid files and the same recipe does nothing.

The manifest was generated once from the unchanged upstream photos with
``make_manifest(Path(".../Dataset"))`` and is kept in the repository (hashes only, never images).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from autograder import config, course
from autograder.errors import AutograderError
from autograder.files import atomic_write

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.json"
TRAIN_FILE = "train_signs.h5"
TEST_FILE = "test_signs.h5"
SEED = 1
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# Bump when the recipe changes in a way the spec and manifest do not capture, so old files get rebuilt.
RECIPE_VERSION = 1
RESAMPLE = "LANCZOS"


class DataError(AutograderError):
    """Bad input or bad files: the message is shown to the user as is, without a traceback."""

    exit_code = 1


@dataclasses.dataclass(frozen=True)
class Spec:
    """What to build. The CLI always uses the course's values; tests pass smaller ones."""

    classes: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    n_train: int = 180
    n_test: int = 20
    size: int = 64
    seed: int = SEED

    @property
    def per_class(self) -> int:
        return self.n_train + self.n_test


SIGNS = Spec()


# ----------------------------------------------------------------------------------------------- manifest


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_images(dataset_dir: Path, classes: Iterable[int]) -> dict[int, list[str]]:
    """Image file names per class folder, sorted (byte order of the names, the same on every system)."""
    out = {}
    for c in classes:
        folder = dataset_dir / str(c)
        if not folder.is_dir():
            raise DataError(f"class folder {folder} is missing")
        try:
            out[c] = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        except OSError as exc:
            raise DataError(f"cannot list the photos in {folder}: {exc.strerror or exc}") from None
    return out


def make_manifest(dataset_dir: Path, classes: Iterable[int] = SIGNS.classes) -> dict[str, str]:
    """``{"<class>/<file>": sha256}`` for every image of ``classes`` under ``dataset_dir``."""
    return {
        f"{c}/{name}": sha256_bytes((dataset_dir / str(c) / name).read_bytes())
        for c, names in list_images(dataset_dir, classes).items()
        for name in names
    }


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, str]:
    """The project's manifest: image path relative to ``Dataset/`` -> SHA-256 of its bytes."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the image manifest {path}: {exc}") from None
    return dict(files)


def write_manifest(files: Mapping[str, str], path: Path = MANIFEST_PATH) -> None:
    """Store a manifest (used once, to record the hashes of the unchanged upstream photos)."""
    doc = {
        "about": "SHA-256 of each Sign Language Digits photo that the SIGNS build may use, keyed by its path under Dataset/",
        "upstream_commit": course.UPSTREAM_COMMIT,
        "files": dict(sorted(files.items())),
    }
    atomic_write(path, json.dumps(doc, indent=1) + "\n", mode=0o644)


# ------------------------------------------------------------------------------------------ the selection


def _key(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def select(names: Mapping[int, list[str]], spec: Spec = SIGNS) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Split the photos into (train, test) lists of ``("<class>/<file>", label)``, already in final order."""
    train, test = [], []
    for c in spec.classes:
        have = names[c]
        if len(have) < spec.per_class:
            raise DataError(
                f"class {c} has only {len(have)} images; the build needs at least {spec.per_class} "
                f"({spec.n_train} train + {spec.n_test} test)"
            )
        ranked = sorted(have, key=lambda n: _key(spec.seed, "pick", c, n))
        test += [(f"{c}/{n}", c) for n in ranked[: spec.n_test]]
        train += [(f"{c}/{n}", c) for n in ranked[spec.n_test : spec.per_class]]
    train.sort(key=lambda item: _key(spec.seed, "train-order", item[0]))
    test.sort(key=lambda item: _key(spec.seed, "test-order", item[0]))
    return train, test


# ------------------------------------------------------------------------------------------- the images


def resolve_dataset_dir(source: Path, classes: Iterable[int]) -> Path:
    """The folder holding the class folders: ``source/Dataset`` or ``source`` itself."""
    if not source.exists():
        raise DataError(f"source folder {source} does not exist (give --source or set SIGNS_SOURCE)")
    if not source.is_dir():
        raise DataError(f"source {source} is not a folder (give the folder holding Dataset/0..5)")
    for candidate in (source / "Dataset", source):
        if candidate.is_dir() and any((candidate / str(c)).is_dir() for c in classes):
            missing = [str(c) for c in classes if not (candidate / str(c)).is_dir()]
            if missing:
                raise DataError(f"{candidate} lacks the class folder(s) {', '.join(missing)}")
            return candidate
    want = "/".join(str(c) for c in classes)
    raise DataError(f"{source} holds neither Dataset/{{{want}}} nor the class folders {want} themselves")


def read_verified(dataset_dir: Path, items: list[tuple[str, int]], manifest: Mapping[str, str]) -> dict[str, bytes]:
    """Read the chosen images and check each against the manifest; nothing is decoded before all pass."""
    blobs = {}
    for rel, _ in items:
        path = dataset_dir / rel
        want = manifest.get(rel)
        if want is None:
            raise DataError(f"{path} is not in the image manifest; the build uses only the upstream photos")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read image {path}: {exc.strerror or exc}") from None
        if sha256_bytes(data) != want:
            raise DataError(f"checksum mismatch for {path}: the file differs from the upstream photo {rel}")
        blobs[rel] = data
    return blobs


def decode(path_for_messages: Path, data: bytes, size: int) -> np.ndarray:
    """One photo as a (size, size, 3) uint8 array."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
            small = rgb.resize((size, size), resample=getattr(Image.Resampling, RESAMPLE))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot read image {path_for_messages}: {exc}") from None
    return np.asarray(small, dtype=np.uint8)


def load_split(
    dataset_dir: Path, items: list[tuple[str, int]], blobs: Mapping[str, bytes], spec: Spec, bar
) -> tuple[np.ndarray, np.ndarray]:
    x = np.empty((len(items), spec.size, spec.size, 3), dtype=np.uint8)
    y = np.empty((len(items),), dtype=np.int64)
    for i, (rel, label) in enumerate(items):
        x[i] = decode(dataset_dir / rel, blobs[rel], spec.size)
        y[i] = label
        bar.update(1)
    return x, y


# ---------------------------------------------------------------------------------------- the HDF5 files


def content_hash(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over each array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def recipe_id(spec: Spec, manifest: Mapping[str, str]) -> str:
    """Everything that decides the arrays; stored in the files so a changed recipe triggers a rebuild."""
    doc = {
        "version": RECIPE_VERSION,
        "spec": dataclasses.asdict(spec),
        "resample": RESAMPLE,
        "manifest": _key(*sorted(f"{k}={v}" for k, v in manifest.items())),
    }
    return _key(json.dumps(doc, sort_keys=True))


def _expected(prefix: str, spec: Spec) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    m = spec.n_train if prefix == "train" else spec.n_test
    m *= len(spec.classes)
    return {
        f"{prefix}_set_x": ((m, spec.size, spec.size, 3), np.dtype(np.uint8)),
        f"{prefix}_set_y": ((m,), np.dtype(np.int64)),
        "list_classes": ((len(spec.classes),), np.dtype(np.int64)),
    }


def inspect_file(path: Path, prefix: str, spec: Spec = SIGNS) -> tuple[list[str], dict]:
    """Problems with one SIGNS file (empty list when it has the format) and its attributes."""
    import h5py

    if not path.is_file():
        return [f"{path} does not exist"], {}
    problems: list[str] = []
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            arrays = {}
            for name, (shape, dtype) in _expected(prefix, spec).items():
                if name not in f or not isinstance(f[name], h5py.Dataset):
                    problems.append(f"{path.name}: dataset {name} is missing")
                    continue
                a = f[name][()]
                if a.shape != shape or a.dtype != dtype:
                    problems.append(f"{path.name}: {name} is {a.shape} {a.dtype}, expected {shape} {dtype}")
                arrays[name] = a
    except OSError as exc:
        return [f"{path} is not a readable HDF5 file ({exc})"], {}
    if problems:
        return problems, attrs
    classes = arrays["list_classes"]
    if classes.tolist() != list(spec.classes):
        problems.append(f"{path.name}: list_classes is {classes.tolist()}, expected {list(spec.classes)}")
    labels = arrays[f"{prefix}_set_y"]
    if not np.isin(labels, classes).all():
        problems.append(f"{path.name}: {prefix}_set_y holds labels outside list_classes")
    stored = attrs.get("content_sha256")
    if stored is not None and stored != content_hash(arrays):
        problems.append(f"{path.name}: the arrays do not match their stored content hash (file damaged?)")
    attrs["_computed_sha256"] = content_hash(arrays)
    return problems, attrs


def _write(path: Path, arrays: Mapping[str, np.ndarray], attrs: Mapping[str, str]) -> None:
    import h5py

    with h5py.File(path, "x") as f:
        for name, a in arrays.items():
            # No creation times: the same arrays give the same bytes, so the SHA-256 that release records for
            # students' downloads (data/published.py) survives a rebuild.
            f.create_dataset(name, data=a, track_times=False)
        for k, v in attrs.items():
            f.attrs[k] = v


def write_pair(out: Path, train: Mapping[str, np.ndarray], test: Mapping[str, np.ndarray], recipe: str) -> None:
    """Write both files next to their targets, then move both into place; on failure remove the temp files."""
    out.mkdir(parents=True, exist_ok=True)
    train_hash, test_hash = content_hash(train), content_hash(test)
    common = {
        "recipe": recipe,
        "pair_sha256": _key(train_hash, test_hash),
        "source": f"Sign Language Digits Dataset, commit {course.UPSTREAM_COMMIT} (Apache-2.0)",
        "built_by": "autograder data build",
    }
    temps: list[Path] = []
    try:
        for name, arrays, digest in ((TRAIN_FILE, train, train_hash), (TEST_FILE, test, test_hash)):
            # A fresh name opened exclusively (not mkstemp), so the file gets the umask's permissions.
            tmp = out / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            temps.append(tmp)
            _write(tmp, arrays, {**common, "content_sha256": digest})
        os.replace(temps[0], out / TRAIN_FILE)
        os.replace(temps[1], out / TEST_FILE)
    finally:
        for t in temps:
            t.unlink(missing_ok=True)


def check_pair(out: Path, spec: Spec = SIGNS) -> tuple[list[str], dict, dict]:
    """Problems with the two files in ``out`` (format, content hashes, same build) and their attributes."""
    p_train, a_train = inspect_file(out / TRAIN_FILE, "train", spec)
    p_test, a_test = inspect_file(out / TEST_FILE, "test", spec)
    problems = p_train + p_test
    if not problems and "pair_sha256" in a_train and a_train.get("pair_sha256") != a_test.get("pair_sha256"):
        problems.append(f"{TRAIN_FILE} and {TEST_FILE} come from different builds")
    return problems, a_train, a_test


def up_to_date(out: Path, spec: Spec, recipe: str) -> bool:
    """True when both files are valid, complete, from one build, and made by this recipe."""
    problems, a_train, a_test = check_pair(out, spec)
    if problems:
        return False
    for attrs in (a_train, a_test):
        if attrs.get("recipe") != recipe or attrs.get("content_sha256") != attrs.get("_computed_sha256"):
            return False
    return a_train.get("pair_sha256") == _key(a_train["_computed_sha256"], a_test["_computed_sha256"])


# ------------------------------------------------------------------------------------------------ build


@dataclasses.dataclass
class BuildResult:
    out: Path
    skipped: bool
    seconds: float
    n_train: int
    n_test: int


def build_arrays(
    dataset_dir: Path, spec: Spec, manifest: Mapping[str, str], progress: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The train and test arrays, from verified photos."""
    from tqdm import tqdm

    names = list_images(dataset_dir, spec.classes)
    train_items, test_items = select(names, spec)
    blobs = read_verified(dataset_dir, train_items + test_items, manifest)
    classes = np.asarray(spec.classes, dtype=np.int64)
    with tqdm(total=len(blobs), unit="img", desc="loading images", disable=not progress) as bar:
        x_tr, y_tr = load_split(dataset_dir, train_items, blobs, spec, bar)
        x_te, y_te = load_split(dataset_dir, test_items, blobs, spec, bar)
    return (
        {"train_set_x": x_tr, "train_set_y": y_tr, "list_classes": classes},
        {"test_set_x": x_te, "test_set_y": y_te, "list_classes": classes.copy()},
    )


def build(
    out: Path,
    source: Path | None = None,
    url: str = course.UPSTREAM_ARCHIVE,
    force: bool = False,
    *,
    spec: Spec = SIGNS,
    manifest: Mapping[str, str] | None = None,
    progress: bool = True,
    log=print,
) -> BuildResult:
    """Build (or keep) the two SIGNS files in ``out``. Raises ``DataError`` for bad input."""
    start = time.perf_counter()
    out = Path(out)
    manifest = load_manifest() if manifest is None else manifest
    recipe = recipe_id(spec, manifest)
    n_train, n_test = spec.n_train * len(spec.classes), spec.n_test * len(spec.classes)
    if not force and up_to_date(out, spec, recipe):
        log(f"SIGNS files in {out} are valid and up to date ({n_train} train, {n_test} test images); nothing to do (--force rebuilds).")
        return BuildResult(out, True, time.perf_counter() - start, n_train, n_test)

    if source is not None:
        train, test = build_arrays(resolve_dataset_dir(Path(source).expanduser(), spec.classes), spec, manifest, progress)
    else:
        from autograder.data import download

        log(f"No local copy given (--source or SIGNS_SOURCE); downloading {url}")
        with tempfile.TemporaryDirectory(prefix="signs-download-") as tmp:
            try:
                archive = download.fetch(url, Path(tmp) / "archive.zip", progress=progress)
                dataset_dir = download.extract_dataset(archive, Path(tmp) / "unpacked", spec.classes)
            except download.DownloadError as exc:
                raise DataError(str(exc)) from None
            train, test = build_arrays(dataset_dir, spec, manifest, progress)

    try:
        write_pair(out, train, test, recipe)
    except OSError as exc:  # e.g. an output folder that cannot be created, or a full disk
        raise DataError(f"cannot write the SIGNS files to {out}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - start
    log(f"Wrote {out / TRAIN_FILE} ({n_train} images) and {out / TEST_FILE} ({n_test} images) in {seconds:.1f} s.")
    return BuildResult(out, False, seconds, n_train, n_test)


def run_build(cfg: config.DataBuild) -> int:
    """``autograder data build``."""
    build(cfg.out, source=cfg.source, url=cfg.url, force=cfg.force)
    return 0


def run_verify(cfg: config.DataVerify, spec: Spec = SIGNS) -> int:
    """``autograder data verify``."""
    out = Path(cfg.out)
    problems, a_train, a_test = check_pair(out, spec)
    if problems:
        hint = (
            "build them with: autograder data build"
            if any("does not exist" in p for p in problems)
            else ("rebuild them with: autograder data build --force")
        )
        raise DataError("; ".join(problems) + f"\n{hint}")
    n_tr, n_te = spec.n_train * len(spec.classes), spec.n_test * len(spec.classes)
    hashed = (
        "content hashes match"
        if "content_sha256" in a_train and "content_sha256" in a_test
        else ("no stored content hash (not built by autograder)")
    )
    print(f"OK: {out / TRAIN_FILE} ({n_tr} images) and {out / TEST_FILE} ({n_te} images) have the SIGNS format; {hashed}.")
    return 0
