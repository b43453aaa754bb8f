"""Release: the student version of each source notebook, made by nbgrader.

``autograder release`` writes ``assignments/<name>/<name>.ipynb`` plus copies of the student helper modules
and the students' ``requirements.txt`` (all from ``autograder/student/``), and, for a notebook that loads the
SIGNS data when the course's data address is set (``--data-url``), ``course_data.json``: that address and the
SHA-256 of each file, taken from the built files in the data folder, which the book publishes as they are
(``autograder/data/published.py``); and for each translation of the assignment (``source_solutions/<name>/
<language>.toml``, ``autograder/grading/translation.py``) the notebook in that language, ``<name>.<language>.ipynb``:
the same cells with their Markdown translated. Without an address there is nothing to download, so no ``course_data.json``:
the committed release then depends on no built file's bytes (another Pillow may decode a photo differently). ``--check`` compares instead of writing.
``released_notebook`` gives the released version in memory (the grader's restore step compares submissions
with it to note tampering).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import re
import tempfile
from pathlib import Path

import nbformat

from autograder import config, course, errors, gradebook_schema
from autograder.data import published
from autograder.files import atomic_write
from autograder.grading import spec as spec_mod
from autograder.grading import translation

# What students get beside each notebook from autograder/student/: the helper modules and the packages to install.
REQUIREMENTS = "requirements.txt"
# Names release owns in a release folder: it removes them when a fresh release no longer has them.
_OWNED_SUFFIXES = (".py", ".ipynb")
_OWNED_NAMES = (REQUIREMENTS, published.COURSE_DATA)


class ReleaseError(errors.AutograderError, RuntimeError):
    """nbgrader could not generate the student version."""

    exit_code = 1


_CACHE: dict[str, str] = {}


def _generate(source_text: str, name: str) -> str:
    """Run nbgrader generate_assignment on one notebook in a throwaway course; return the released JSON."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="ag-release-") as tmp:
        root = Path(tmp)
        # Only the notebook goes into the throwaway source folder: grading.toml and reference.json never
        # travel with a release.
        src = root / "source" / name
        src.mkdir(parents=True)
        (src / f"{name}.ipynb").write_text(source_text, encoding="utf-8")
        cfg = Config()
        cfg.CourseDirectory.root = str(root)
        cfg.CourseDirectory.course_id = "course"
        cfg.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        (root / "exchange").mkdir()  # unused by generate_assignment, but nbgrader checks that it exists
        cfg.Exchange.root = str(root / "exchange")
        gradebook_schema.create_schema(cfg.CourseDirectory.db_url)  # spares nbgrader an `alembic` process
        api = NbGraderAPI(config=cfg)
        api.log.setLevel(logging.ERROR)
        result = api.generate_assignment(name, force=True, create=True)
        out = root / "release" / name / f"{name}.ipynb"
        if not result.get("success") or not out.is_file():
            detail = (result.get("error") or result.get("log") or "no output").strip()
            raise ReleaseError(f"nbgrader could not release '{name}':\n{detail}")
        nb = nbformat.read(out, as_version=4)
    return _serialize(nb)


def _serialize(nb) -> str:
    # One canonical text for a notebook, so releases compare byte for byte across runs.
    return nbformat.writes(nb) + "\n"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dl-course-autograder" / "released"


def released_text(source_path: Path, name: str | None = None) -> str:
    """The released notebook (as its file text) for the source notebook at ``source_path``.

    nbgrader takes several seconds, so results are kept in memory and in the user's cache folder, keyed
    by the source text and the nbgrader version (a changed source is released afresh).
    """
    # The version from the package metadata: importing nbgrader itself takes seconds.
    nbgrader_version = importlib.metadata.version("nbgrader")
    text = Path(source_path).read_text(encoding="utf-8")
    name = name or Path(source_path).stem
    key = hashlib.sha256(f"{nbgrader_version}\0{name}\0{text}".encode()).hexdigest()
    if key in _CACHE:
        return _CACHE[key]
    cached = _cache_dir() / f"{key}.ipynb"
    try:
        _CACHE[key] = cached.read_text(encoding="utf-8")
        return _CACHE[key]
    except OSError:
        pass
    _CACHE[key] = _generate(text, name)
    try:
        atomic_write(cached, _CACHE[key])
    except OSError:
        pass  # the cache is an optimisation only
    return _CACHE[key]


def released_notebook(source_path: Path, name: str | None = None):
    """The released version of a source notebook, in memory (nbformat 4 NotebookNode)."""
    return nbformat.reads(released_text(source_path, name), as_version=4)


_LOADS_DATA = re.compile(r"\bload_dataset\s*\(")


def loads_data(nb: dict) -> bool:
    """Whether a code cell of the notebook calls ``load_dataset(...)`` (it then needs the SIGNS files).

    The one rule for it: release writes ``course_data.json`` for these notebooks, the site serves them the data.
    """
    for cell in nb.get("cells") or []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source")
            text = "".join(source) if isinstance(source, list) else str(source or "")
            if _LOADS_DATA.search(text):
                return True
    return False


def expected_files(
    name: str,
    source_dir: Path = course.SOURCE_DIR,
    *,
    data_dir: Path | None = None,
    data_url: str | None = None,
    helpers: Path = course.STUDENT_HELPERS,
) -> dict[str, bytes]:
    """File name -> content of a complete release of ``name``.

    ``data_dir`` (default: ``course.datasets_dir()``) holds the built SIGNS files, hashed for
    ``course_data.json`` when the notebook loads them and ``data_url`` is set; ``DataNotBuilt`` when they are
    missing then.
    """
    text = released_text(source_dir / name / f"{name}.ipynb", name)
    files = {f"{name}.ipynb": text.encode("utf-8")}
    files.update(translated_files(name, text, source_dir))
    for helper in sorted(helpers.glob("*.py")):
        files[helper.name] = helper.read_bytes()
    files[REQUIREMENTS] = (helpers / REQUIREMENTS).read_bytes()
    if data_url is not None and loads_data(json.loads(text)):
        files[published.COURSE_DATA] = published.course_data_bytes(data_url, data_dir or course.datasets_dir())
    return files


def translated_files(name: str, released: str, source_dir: Path = course.SOURCE_DIR) -> dict[str, bytes]:
    """``<name>.<language>.ipynb`` -> content, for each translation of the assignment; ``TranslationError``
    (naming every cell and hint to bring up to date) when one no longer matches the English text."""
    folder = source_dir / name
    if not any((folder / f"{lang}.toml").is_file() for lang in translation.TRANSLATED):
        return {}
    try:
        spec = spec_mod.load(folder)
    except spec_mod.SpecError as exc:
        raise translation.TranslationError(str(exc)) from None
    nb = nbformat.reads(released, as_version=4)
    files = {}
    for language, mine in spec.translations.items():
        problems = spec_mod.translation_problems(spec, language, nb)
        if problems:
            raise translation.TranslationError(
                f"the {translation.LANGUAGES[language]} text of '{name}' is out of date:\n  " + "\n  ".join(problems)
            )
        files[translation.notebook_name(f"{name}.ipynb", language)] = _serialize(translation.translated(nb, mine)).encode("utf-8")
    return files


def compare(
    name: str,
    source_dir: Path = course.SOURCE_DIR,
    release_dir: Path = course.RELEASE_DIR,
    *,
    data_dir: Path | None = None,
    data_url: str | None = None,
) -> list[str]:
    """What is out of date in ``release_dir/name`` (empty when the release is current)."""
    target = release_dir / name
    problems = []
    want = expected_files(name, source_dir, data_dir=data_dir, data_url=data_url)
    for fname, content in want.items():
        path = target / fname
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_bytes() != content:
            problems.append(f"{path}: differs from a fresh release")
    if target.is_dir():
        for path in sorted(target.iterdir()):
            if path.name not in want and not path.name.startswith(".") and path.name != "__pycache__":
                problems.append(f"{path}: not part of the release")
    return problems


def write(
    name: str,
    source_dir: Path = course.SOURCE_DIR,
    release_dir: Path = course.RELEASE_DIR,
    *,
    data_dir: Path | None = None,
    data_url: str | None = None,
) -> Path:
    """Write the release of ``name``; files are replaced whole (``files.atomic_write``), readable by all."""
    want = expected_files(name, source_dir, data_dir=data_dir, data_url=data_url)
    target = release_dir / name
    target.mkdir(parents=True, exist_ok=True)
    for fname, content in want.items():
        atomic_write(target / fname, content, mode=0o644)
    for path in target.iterdir():  # helpers (or a data file) that no longer belong would mislead students
        owned = path.suffix in _OWNED_SUFFIXES or path.name in _OWNED_NAMES
        if path.is_file() and path.name not in want and owned:
            path.unlink()
    return target


def run(cfg: config.Release) -> int:
    """CLI: ``autograder release [--assignments A ...] [--check]``."""
    known = course.assignment_names()
    names = list(cfg.assignments) or known
    bad = errors.unknown_assignments(names, known)
    if bad:
        raise bad
    stale = []
    for name in names:
        if cfg.check:
            problems = compare(name, data_dir=cfg.data_dir, data_url=cfg.data_url)
            stale.extend(problems)
            print(f"{name}: {'out of date' if problems else 'up to date'}")
        else:
            print(f"{name}: released to {write(name, data_dir=cfg.data_dir, data_url=cfg.data_url)}")
    if stale:
        raise errors.CheckFailed("out of date (run `autograder release`):\n  " + "\n  ".join(stale))
    return 0


__all__ = [
    "ReleaseError",
    "REQUIREMENTS",
    "loads_data",
    "released_notebook",
    "released_text",
    "expected_files",
    "compare",
    "write",
    "run",
]
