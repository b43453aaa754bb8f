"""The assignments a site serves: what students may download, and what an upload must look like.

An assignment is served when ``<source dir>/<name>/grading.toml`` loads and ``<release dir>/<name>/`` holds
its released notebook. Students get only the release folder (the notebook, the helper modules, requirements.txt
and course_data.json that ``autograder release`` put beside it), zipped; nothing of the source folder (solutions, hidden tests,
reference values) is ever read into a response.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import zipfile
from pathlib import Path

from autograder.grading import spec as spec_mod
from autograder.grading import translation
from autograder.release import loads_data  # one rule: the notebooks release writes course_data.json for

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Offered:
    """One assignment of the site."""

    spec: spec_mod.Assignment
    release_dir: Path
    grade_ids: frozenset[str]  # of the released notebook's graded cells: how an upload is told to be ours
    zip_bytes: bytes
    needs_data: bool = False  # the released notebook loads the SIGNS files (course_utils.load_dataset)
    # language -> file name of the notebook in that language, in the zip beside the English one
    translated: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def folder(self) -> str:
        """How a Job names the assignment: the absolute source folder (workers find it by path)."""
        return str(self.spec.folder.resolve())

    @property
    def title(self) -> str:
        return self.name.replace("_", " ")


def _release_files(folder: Path) -> list[Path]:
    # Regular files only, no dot files, no links (a link could point anywhere, source_solutions/ included).
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def _zip(name: str, files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{name}/{path.name}", date_time=(2024, 1, 1, 0, 0, 0))  # fixed: the same bytes every start
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def notebook_grade_ids(nb: dict) -> set[str]:
    ids = set()
    for cell in nb.get("cells") or []:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
        if isinstance(gid, str) and (nbg.get("grade") or nbg.get("solution")):
            ids.add(gid)
    return ids


def load_one(source_folder: Path, release_dir: Path) -> Offered:
    """One assignment (raises SpecError, or OSError/ValueError for its release)."""
    spec = spec_mod.load(source_folder)
    folder = release_dir / spec.name
    notebook = folder / spec.notebook
    if not notebook.is_file():
        raise FileNotFoundError(f"no released notebook {notebook} (run `autograder release`)")
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    names = {lang: translation.notebook_name(spec.notebook, lang) for lang in spec.translations}
    translated = {lang: name for lang, name in names.items() if (folder / name).is_file()}
    return Offered(spec, folder, frozenset(notebook_grade_ids(nb)), _zip(spec.name, _release_files(folder)), loads_data(nb), translated)


def load(source_dir: Path, release_dir: Path) -> dict[str, Offered]:
    """Every assignment that can be served, by name (one that cannot is logged and left out)."""
    offered = {}
    for spec_file in sorted(source_dir.glob("*/grading.toml")):
        try:
            one = load_one(spec_file.parent, release_dir)
        except (spec_mod.SpecError, OSError, ValueError) as exc:
            log.warning("not serving %s: %s", spec_file.parent.name, exc)
            continue
        offered[one.name] = one
    return offered
