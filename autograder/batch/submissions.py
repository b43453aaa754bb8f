"""Find the submissions in what an instructor hands the grader.

Three shapes are accepted, and may be mixed:

* a folder of notebooks: the student id is the file name (see ``student_id``);
* an nbgrader ``submitted/`` tree: ``submitted/<student>/<assignment>/<notebook>.ipynb``;
* a zip file as a learning-management system exports it (notebooks at any depth), extracted safely.

Every regular file counts as somebody's upload, so a student who handed in a PDF gets a result that says
so instead of silently vanishing.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath

# A zip bigger than this when extracted is refused (a zip bomb must not fill the disk).
MAX_EXTRACTED_BYTES = 2 * 1024**3
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "__MACOSX"}


@dataclasses.dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    origin: str  # where the file came from, for messages


class SubmissionError(Exception):
    """The input cannot be read as submissions (missing path, unreadable zip)."""


def student_id(file_name: str, assignment: str) -> str:
    """A student id from an uploaded file's name.

    ``alice.ipynb`` -> ``alice``; ``alice_tf_basics.ipynb`` and ``tf_basics_alice.ipynb`` -> ``alice``;
    Canvas-style ``doejane_12345_678901_tf_basics.ipynb`` -> ``doejane`` (name, then numeric ids).
    """
    stem = Path(file_name).stem
    canvas = re.match(r"^([^_]+)_(?:late_)?\d+_\d+(?:_|$)", stem)
    if canvas:
        return canvas.group(1)
    for pattern in (rf"^(.+?)[_\-. ]+{re.escape(assignment)}$", rf"^{re.escape(assignment)}[_\-. ]+(.+)$"):
        m = re.match(pattern, stem)
        if m:
            return m.group(1)
    return stem


def safe_id(raw: str) -> str:
    """A student id that is safe as a file name and a gradebook key."""
    cleaned = re.sub(r"[^A-Za-z0-9_.@-]+", "_", raw).strip("._") or "unnamed"
    return cleaned[:100]


def _safe_extract(zip_path: Path, dest: Path) -> Path:
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{zip_path}: not a readable zip file ({exc})") from exc
    target = dest / zip_path.stem
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        if total > MAX_EXTRACTED_BYTES:
            raise SubmissionError(f"{zip_path}: refusing to extract {total / 1e9:.1f} GB")
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts:
                continue  # folders are implied; absolute or climbing paths are never extracted
            if any(part in IGNORED_NAMES for part in name.parts):
                continue
            out = target.joinpath(*name.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return target


def _is_nbgrader_tree(folder: Path, assignment: str) -> bool:
    return any(p.is_dir() for p in folder.glob(f"*/{assignment}"))


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") or p in IGNORED_NAMES for p in rel.parts):
            yield path


def discover(inputs, assignment: str, scratch: Path) -> list[Submission]:
    """Every submission in ``inputs`` (folders, nbgrader trees, zips), one per student.

    When one student appears twice, the later input wins; ``scratch`` receives extracted zips.
    """
    found: dict[str, Submission] = {}
    for item in map(Path, inputs):
        if not item.exists():
            raise SubmissionError(f"{item}: no such file or folder")
        if item.is_file() and item.suffix.lower() == ".zip":
            folder = _safe_extract(item, scratch)
            origin = str(item)
        elif item.is_dir():
            folder, origin = item, str(item)
        else:
            found[student_id(item.name, assignment)] = Submission(student_id(item.name, assignment), item, str(item))
            continue
        if _is_nbgrader_tree(folder, assignment):
            for student_dir in sorted(p for p in folder.iterdir() if (p / assignment).is_dir()):
                notebooks = sorted((student_dir / assignment).glob("*.ipynb"))
                preferred = [nb for nb in notebooks if nb.stem == assignment] or notebooks
                if preferred:
                    found[student_dir.name] = Submission(student_dir.name, preferred[0], origin)
            continue
        for path in _files(folder):
            rel = path.relative_to(folder)
            # An LMS may put each student's upload in a folder named after the student.
            name = rel.parts[0] if len(rel.parts) > 1 else path.name
            sid = student_id(name, assignment) if len(rel.parts) == 1 else re.split(r"_\d", name)[0]
            if sid in found and found[sid].path.suffix == ".ipynb" and path.suffix != ".ipynb":
                continue  # a student's notebook beats their other files
            found[sid] = Submission(sid, path, origin)
    return [dataclasses.replace(found[k], student=safe_id(k)) for k in sorted(found)]
