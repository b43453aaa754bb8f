"""What decides a grade, as digests: ``of_assignment(spec) -> Fingerprint``.

A grade depends on more than the submitted file: the source notebook (hidden tests, restored cells),
grading.toml (checks, points, tolerances), reference.json, the helper modules copied beside every notebook,
the data folder the kernel reads, the grader's own code and version, and the versions of the libraries the
kernel and the comparators run on. A ``Fingerprint`` holds one SHA-256 per file (labelled by where it sits,
e.g. ``assignment/grading.toml``, ``helpers/selfcheck.py``, ``grader/grading/compare.py``,
``data/train_signs.h5``), those versions, and one combined digest of it all. Two machines or two runs grade
alike when their combined digests agree; ``differences`` names what does not (a batch says why it regrades,
a remote worker can say which course file it holds in another version).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from autograder import course
from autograder.grading.spec import Assignment

FORMAT = 1
PACKAGE = "dl-course-autograder"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the autograder package
# The package's code that takes part in grading one submission (the CLI, reports, reference build and data
# builders do not): every step of the pipeline and what it reads (grading/, reference values included),
# the released notebook (tampering notes) and the worker process that runs grade() and hands back the Result.
GRADER_CODE = ("grading", "release.py", "executor/worker.py")
# Distributions whose version can change what a notebook computes or how it is read and judged.
LIBRARIES = (
    ("numpy",),
    ("scipy",),
    ("tensorflow-cpu", "tensorflow"),
    ("h5py",),
    ("nbformat",),
    ("nbclient",),
    ("ipykernel",),
    ("jupyter-client",),
    ("nbgrader",),
)
CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible_files(folder: Path, pattern: str = "*") -> Iterable[Path]:
    """Regular files under ``folder`` (recursively), hidden ones and caches left out, in a stable order."""
    for path in sorted(folder.rglob(pattern)):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            yield path


def _version(*dists: str) -> str:
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def _combine(version: str, files: Mapping[str, str], environment: Mapping[str, str]) -> str:
    text = json.dumps({"format": FORMAT, "version": version, "files": dict(files), "environment": dict(environment)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """Digests of everything that decides a grade, and one combined digest of them."""

    version: str  # the grader's package version
    files: Mapping[str, str]  # label -> SHA-256 of the file's bytes
    environment: Mapping[str, str]  # python and library -> version
    combined: str

    @classmethod
    def build(cls, version: str, files: Mapping[str, str], environment: Mapping[str, str]) -> Fingerprint:
        files = MappingProxyType(dict(sorted(files.items())))
        environment = MappingProxyType(dict(sorted(environment.items())))
        return cls(version=version, files=files, environment=environment, combined=_combine(version, files, environment))

    def differences(self, other: Fingerprint) -> list[str]:
        """What differs from ``other``, in words: 'assignment/grading.toml changed', 'numpy 1.26.4 -> 2.0.0', ..."""
        out = []
        if self.version != other.version:
            out.append(f"grader version {other.version} -> {self.version}")
        for label in sorted(set(self.files) | set(other.files)):
            mine, theirs = self.files.get(label), other.files.get(label)
            if mine == theirs:
                continue
            out.append(f"{label} {'added' if theirs is None else 'removed' if mine is None else 'changed'}")
        for name in sorted(set(self.environment) | set(other.environment)):
            mine, theirs = self.environment.get(name), other.environment.get(name)
            if mine != theirs:
                out.append(f"{name} {theirs or 'absent'} -> {mine or 'absent'}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "files": dict(self.files),
            "environment": dict(self.environment),
            "combined": self.combined,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Fingerprint:
        """The fingerprint stored by ``to_dict``; ValueError when ``data`` is not one (e.g. an older format)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a fingerprint of this format")
        version, files, env = data.get("version"), data.get("files"), data.get("environment")
        if not (isinstance(version, str) and isinstance(files, dict) and isinstance(env, dict)):
            raise ValueError("malformed fingerprint")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in [*files.items(), *env.items()]):
            raise ValueError("malformed fingerprint")
        built = cls.build(version, files, env)
        if built.combined != data.get("combined"):
            raise ValueError("the combined digest does not match the digests it combines")
        return built


def grader_files(package_dir: Path = _PACKAGE_DIR) -> dict[str, str]:
    """label -> digest of the grader's own code (``grader/<path in the package>``)."""
    files = {}
    for part in GRADER_CODE:
        path = package_dir / part
        for found in _visible_files(path, "*.py") if path.is_dir() else [path]:
            files[f"grader/{found.relative_to(package_dir).as_posix()}"] = file_digest(found)
    return files


def environment() -> dict[str, str]:
    env = {"python": platform.python_version()}
    for names in LIBRARIES:
        env[names[-1]] = _version(*names)
    return env


def of_assignment(
    spec: Assignment,
    *,
    data_dir: Path | None = None,
    helpers: Path = course.STUDENT_HELPERS,
    package_dir: Path = _PACKAGE_DIR,
) -> Fingerprint:
    """The fingerprint of grading ``spec`` here: its files, the helpers, the data folder, grader and libraries.

    ``data_dir`` defaults to the folder grading uses (``course.datasets_dir()``, when it exists). A file the
    assignment needs but lacks (e.g. no reference.json yet) is simply absent from ``files``.
    """
    files: dict[str, str] = {}
    for path in (spec.notebook_path, spec.spec_path, spec.reference_path):
        if path.is_file():
            files[f"assignment/{path.name}"] = file_digest(path)
    for path in sorted(Path(helpers).glob("*.py")):
        files[f"helpers/{path.name}"] = file_digest(path)
    if data_dir is None:
        data_dir = course.datasets_dir()
    if data_dir.is_dir():
        for path in _visible_files(data_dir):
            files[f"data/{path.relative_to(data_dir).as_posix()}"] = file_digest(path)
    files.update(grader_files(package_dir))
    return Fingerprint.build(_version(PACKAGE), files, environment())


__all__ = ["Fingerprint", "of_assignment", "grader_files", "environment", "file_digest"]
