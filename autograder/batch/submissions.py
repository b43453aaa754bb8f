"""Find the submissions in what an instructor hands the grader.

Three shapes are accepted, and may be mixed:

* a folder of files: the student id is the file name (see ``student_id``); a sub-folder is one student's
  upload folder (as some LMS export them), named after the student;
* an nbgrader ``submitted/`` tree: ``submitted/<student>/<assignment>/<notebook>.ipynb``;
* a zip file as a learning-management system exports it (either layout inside), extracted safely.

Nothing is merged or dropped without a word. ``discover`` returns every upload either as a ``Submission``
under an id of its own or as a ``Skipped`` entry with the reason:

* files that are not notebooks (a PDF, a README, an empty file) are still submissions, with ``problem`` set:
  they get a result that says what the file is, but no kernel, and they stay out of the statistics;
* a zip member that cannot be read (damaged, too large, encrypted) is a submission with ``problem`` too;
* system files (``.DS_Store``, ``__MACOSX/``, Jupyter's ``.ipynb_checkpoints/``), hidden files and unsafe
  zip paths are skipped, and listed;
* of several files in one student's folder (or one Canvas student's files), one is graded: a notebook before
  other files, then the one named after the assignment, then the first by name; the others are listed;
* when two students' uploads give the same id (``bob.ipynb`` and ``bob!.ipynb``, two Canvas students called
  ``doejane``; ids are compared ignoring case), a notebook wins over a file that is not one (which is listed),
  and of two notebooks the first by input and path keeps the id while the next gets ``<id>-2``, ``<id>-3``, ...
  (``Submission.note`` names both files; the result records the file, so the rule can be undone by hand).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from autograder.errors import UsageError
from autograder.grading import translation

# A zip member bigger than this is not extracted (no honest notebook comes close; the grader reads at
# most 50 MiB), and a zip stops being extracted after this many bytes in all (a zip bomb must not fill the
# disk). Either way the members left out become results that say so.
MAX_MEMBER_BYTES = 100 * 1024**2
MAX_EXTRACTED_BYTES = 2 * 1024**3
_SNIFF_BYTES = 4096
# nbgrader writes this beside every submitted notebook; it is not the student's upload.
NBGRADER_TIMESTAMP = "timestamp.txt"


@dataclasses.dataclass(frozen=True)
class Submission:
    student: str
    path: Path | None  # None when the file could not be extracted from its zip
    origin: str  # the input it came from (a folder, a zip, a file), for messages
    file: str = ""  # the upload as the instructor knows it: its path in the input, or zip:member
    problem: str | None = None  # why it cannot be graded as a notebook; None for a notebook
    note: str = ""  # how its id was chosen, when another upload gave the same one

    def __post_init__(self):
        if not self.file:
            object.__setattr__(self, "file", str(self.path))


@dataclasses.dataclass(frozen=True)
class Skipped:
    file: str  # a file, or a folder with the number of files in it
    reason: str


@dataclasses.dataclass
class Found:
    """What ``discover`` found: the submissions (one per id, sorted by id) and the uploads skipped."""

    submissions: list[Submission]
    skipped: list[Skipped]

    @property
    def notebooks(self) -> list[Submission]:
        return [s for s in self.submissions if s.problem is None]

    @property
    def not_notebooks(self) -> list[Submission]:
        return [s for s in self.submissions if s.problem is not None]

    @property
    def renamed(self) -> list[Submission]:
        return [s for s in self.submissions if s.note]

    def relocate(self, old: Path, new: Path) -> Found:
        """The same uploads with paths under ``old`` moved to ``new`` (extracted zips, once kept)."""

        def move(sub: Submission) -> Submission:
            if sub.path is not None and (sub.path == old or old in sub.path.parents):
                return dataclasses.replace(sub, path=new / sub.path.relative_to(old))
            return sub

        return Found([move(s) for s in self.submissions], list(self.skipped))


class SubmissionError(UsageError):
    """The input cannot be read as submissions (missing path, unreadable zip)."""


def _parse_name(file_name: str, assignment: str) -> tuple[str, str | None]:
    """(student id, the LMS's own user id when the name carries one) from an uploaded file's name; a
    translated notebook's language suffix is not part of it (``alice_tf_basics.zh.ipynb`` is alice's)."""
    stem = translation.without_language(Path(file_name).stem)
    canvas = re.match(r"^([^_]+)_(?:late_)?(\d+)_\d+(?:_|$)", stem)
    if canvas:
        return canvas.group(1), canvas.group(2)
    for pattern in (rf"^(.+?)[_\-. ]+{re.escape(assignment)}$", rf"^{re.escape(assignment)}[_\-. ]+(.+)$"):
        m = re.match(pattern, stem)
        if m:
            return m.group(1), None
    return stem, None


def student_id(file_name: str, assignment: str) -> str:
    """A student id from an uploaded file's name.

    ``alice.ipynb`` -> ``alice``; ``alice_tf_basics.ipynb``, ``tf_basics_alice.ipynb`` and
    ``alice_tf_basics.zh.ipynb`` -> ``alice``;
    Canvas-style ``doejane_12345_678901_tf_basics.ipynb`` -> ``doejane`` (name, then numeric ids).
    """
    return _parse_name(file_name, assignment)[0]


def safe_id(raw: str) -> str:
    """A student id that is safe as a file name and a gradebook key."""
    cleaned = re.sub(r"[^A-Za-z0-9_.@-]+", "_", raw).strip("._") or "unnamed"
    return cleaned[:100]


def ignored_reason(name: str, *, folder: bool = False) -> str | None:
    """Why a file or folder name is never a student's upload (system and hidden files), or None."""
    low = name.lower()
    if low == "__macosx":
        return "macOS archive metadata"
    if low == ".ipynb_checkpoints":
        return "Jupyter's autosave copies"
    if low == "__pycache__":
        return "Python's bytecode cache"
    if low in (".ds_store", "thumbs.db", "desktop.ini"):
        return "a system file (folder settings)"
    if name.startswith("._"):
        return "macOS metadata of another file"
    if name.startswith("~$"):
        return "an Office lock file"
    if name.startswith("."):
        return "a hidden folder" if folder else "a hidden file (its name starts with a dot)"
    return None


def not_a_notebook(path: Path) -> str | None:
    """What the file is when it cannot be a notebook ('a PDF document'), or None when it may be one.

    A notebook is JSON, so a file that does not start with '{' (after a byte-order mark and white space) is
    not one; the grader's read step judges the rest.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        return f"a file that cannot be read ({exc.strerror or exc})"
    if not head:
        return "an empty file"
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"{") or (not body and len(head) == _SNIFF_BYTES):
        return None
    if not body:
        return "an empty file (only white space)"
    magic = [
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ]
    for start, what in magic:
        if body.startswith(start):
            return what
    suffix = path.suffix.lower()
    if body.startswith(b"PK\x03\x04"):
        return {".docx": "a Word document", ".xlsx": "an Excel workbook", ".pptx": "a PowerPoint file"}.get(suffix, "a zip archive")
    if re.match(rb"(?i)<(!doctype html|html)", body):
        return "an HTML page (an exported notebook, not the .ipynb file)"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 4:  # not just a character cut at the end of the sample
            return "a binary file"
    kinds = {".py": "a Python script", ".md": "a Markdown text", ".txt": "a text file", ".csv": "a CSV table"}
    return kinds.get(suffix, "a text file")


def _join(label: str, rel: str) -> str:
    """How an upload is named: 'uploads/alice.ipynb', or 'export.zip:alice.ipynb' inside a zip."""
    return f"{label}{rel}" if label.endswith(":") else f"{label}/{rel}"


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def _files(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")


# ---------------------------------------------------------------------------------------------- zips


@dataclasses.dataclass
class _Member:
    name: PurePosixPath
    problem: str


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: Path, budget: int) -> int:
    """Extract one member to ``out``; return its size. Raises what reading it raises; leaves no partial file."""
    written = 0
    try:
        with archive.open(info) as src, open(out, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                written += len(block)
                if written > min(MAX_MEMBER_BYTES, budget):  # the header lied about the size
                    raise _TooBig(written)
                dst.write(block)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return written


class _TooBig(Exception):
    pass


def _member_problem(exc: BaseException) -> str:
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in str(exc):
        return "it is damaged in the zip (bad CRC-32 checksum)"
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc).lower():
        return "it is encrypted in the zip (password protected)"
    if isinstance(exc, NotImplementedError):
        return f"the zip stores it in a way that cannot be read ({exc})"
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        return f"it could not be written out ({exc.strerror or exc})"
    return f"it cannot be read from the zip ({type(exc).__name__}: {str(exc)[:200]})"


def _extract(zip_path: Path, target: Path) -> tuple[list[_Member], list[Skipped]]:
    """Extract what can be read; return the members that could not be (with why) and the ones skipped."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{zip_path}: not a readable zip file ({exc})") from None
    target.mkdir(parents=True)
    problems: list[_Member] = []
    skipped: list[Skipped] = []
    ignored: dict[str, list] = {}  # the ignored prefix -> [reason, number of members]
    seen: set[str] = set()
    total = 0
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            label = f"{zip_path.name}:{info.filename}"
            if info.is_dir():
                continue  # folders are implied by the files in them
            if name.is_absolute() or ".." in name.parts or not name.parts or "\\" in info.filename:
                skipped.append(Skipped(label, "an unsafe path in the zip (absolute, or climbing out of it); not extracted"))
                continue
            hit = next(
                ((i, why) for i, part in enumerate(name.parts) if (why := ignored_reason(part, folder=i < len(name.parts) - 1))), None
            )
            if hit is not None:
                i, why = hit
                prefix = "/".join(name.parts[: i + 1]) + ("/" if i < len(name.parts) - 1 else "")
                ignored.setdefault(prefix, [why, 0])[1] += 1
                continue
            key = str(name).lower()
            if key in seen:
                skipped.append(Skipped(label, "the zip holds an earlier member of the same name, which was used"))
                continue
            seen.add(key)
            if info.file_size > MAX_MEMBER_BYTES:
                problems.append(
                    _Member(name, f"it is {_size(info.file_size)} unpacked, more than the {_size(MAX_MEMBER_BYTES)} a submission may have")
                )
                continue
            if total + info.file_size > MAX_EXTRACTED_BYTES:
                problems.append(_Member(name, f"the zip unpacks to more than {_size(MAX_EXTRACTED_BYTES)}, and this member is past that"))
                continue
            out = target.joinpath(*name.parts)
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                total += _copy_member(archive, info, out, MAX_EXTRACTED_BYTES - total)
            except _TooBig:
                problems.append(
                    _Member(
                        name,
                        f"it unpacks to more than its zip entry says (over {_size(min(MAX_MEMBER_BYTES, MAX_EXTRACTED_BYTES - total))})",
                    )
                )
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError, ValueError) as exc:
                problems.append(_Member(name, _member_problem(exc)))
    for prefix, (why, count) in ignored.items():
        what = f"{zip_path.name}:{prefix}" + (f" ({_files(count)})" if prefix.endswith("/") else "")
        skipped.append(Skipped(what, f"{why}; not extracted"))
    return problems, skipped


# ------------------------------------------------------------------------------------------ discover


@dataclasses.dataclass
class _Upload:
    raw_id: str
    group: str  # the uploads of one group (a student's folder, one Canvas user, one file) give one submission
    path: Path | None
    origin: str
    file: str
    problem: str | None
    preferred: bool  # named after the assignment
    order: int = 0


def _walk(folder: Path, label: str) -> tuple[list[Path], list[Skipped]]:
    """The regular files under ``folder`` and the entries skipped (system, hidden, links to folders)."""
    files, skipped = [], []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs.sort()
        keep = []
        for d in dirs:
            path = here / d
            shown = _join(label, path.relative_to(folder).as_posix()) + "/"
            why = ignored_reason(d, folder=True)
            if why is None and path.is_symlink():
                why = "a link to a folder (not followed)"
            if why is None:
                keep.append(d)
            else:
                count = sum(len(n) for _, _, n in os.walk(path))
                skipped.append(Skipped(f"{shown} ({_files(count)})", why))
        dirs[:] = keep
        for n in sorted(names):
            path = here / n
            shown = _join(label, path.relative_to(folder).as_posix())
            why = ignored_reason(n)
            if why is None and not path.is_file():
                why = "not a regular file (a broken link, a device or a pipe)"
            if why is None:
                files.append(path)
            else:
                skipped.append(Skipped(shown, why))
    return files, skipped


def _problem_of(path: Path) -> str | None:
    what = not_a_notebook(path)
    return None if what is None else f"not a notebook: {path.name} is {what}"


def _named_after(name: str, assignment: str) -> bool:
    stem = Path(name).stem.lower()
    return stem == assignment.lower() or assignment.lower() in stem


def _is_nbgrader_tree(folder: Path, assignment: str) -> bool:
    return any(p.is_dir() for p in folder.glob(f"*/{assignment}"))


def _from_nbgrader_tree(folder: Path, label: str, origin: str, assignment: str, uploads: list, skipped: list) -> None:
    for entry in sorted(folder.iterdir()):
        shown = _join(label, entry.name)
        why = ignored_reason(entry.name, folder=entry.is_dir())
        if why:
            skipped.append(Skipped(shown + ("/" if entry.is_dir() else ""), why))
            continue
        if not entry.is_dir():
            skipped.append(Skipped(shown, f"not in a <student>/{assignment}/ folder of the nbgrader tree"))
            continue
        if not (entry / assignment).is_dir():
            continue  # a student with uploads for other assignments only
        for stray in sorted(p for p in entry.iterdir() if p.is_file()):
            skipped.append(Skipped(f"{shown}/{stray.name}", f"not in {entry.name}/{assignment}/"))
        files, skips = _walk(entry / assignment, f"{shown}/{assignment}")
        skipped.extend(skips)
        for path in files:
            if path.name == NBGRADER_TIMESTAMP and path.parent == entry / assignment:
                continue
            uploads.append(
                _Upload(
                    entry.name,
                    f"{origin}::{entry.name}",
                    path,
                    origin,
                    f"{shown}/{assignment}/{path.relative_to(entry / assignment).as_posix()}",
                    _problem_of(path),
                    _named_after(path.name, assignment),
                )
            )


def _upload_for(rel: PurePosixPath, path: Path | None, problem: str | None, origin: str, label: str, assignment: str) -> _Upload:
    shown = _join(label, rel.as_posix())
    if len(rel.parts) == 1:
        raw, lms_user = _parse_name(rel.name, assignment)
        # A Canvas user's files belong together; any other file at the top is one student's upload.
        group = f"{origin}::canvas:{raw}_{lms_user}" if lms_user else f"{origin}::{rel}"
    else:
        # An LMS may put each student's upload in a folder named after the student.
        raw = re.split(r"_\d", rel.parts[0])[0]
        group = f"{origin}::{rel.parts[0]}"
    if problem is None and path is not None:
        problem = _problem_of(path)
    return _Upload(raw, group, path, origin, shown, problem, _named_after(rel.name, assignment))


def _scratch_folder(scratch: Path, stem: str, taken: set[str]) -> Path:
    name, n = stem, 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name.lower())
    return scratch / name


def discover(inputs, assignment: str, scratch: Path) -> Found:
    """Every upload in ``inputs`` (folders, nbgrader trees, zips, single files): submissions and skipped files.

    Zips are extracted into ``scratch/<zip name>/`` (``-2``, ``-3`` for zips of the same name). See the
    module's docstring for how ids are chosen.
    """
    uploads: list[_Upload] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()
    for item in map(Path, inputs):
        if not item.exists():
            raise SubmissionError(f"{item}: no such file or folder")
        origin = str(item)
        if item.is_file() and item.suffix.lower() == ".zip":
            folder = _scratch_folder(scratch, item.stem, taken)
            if folder.exists():
                shutil.rmtree(folder)
            problems, skips = _extract(item, folder)
            skipped.extend(skips)
            label = f"{item.name}:"
            for member in problems:
                uploads.append(
                    _upload_for(member.name, None, f"not extracted from {item.name}: {member.problem}", origin, label, assignment)
                )
        elif item.is_dir():
            folder, label = item, str(item)
        else:
            raw, _ = _parse_name(item.name, assignment)
            uploads.append(_Upload(raw, f"{origin}::", item, origin, str(item), _problem_of(item), True))
            continue
        if _is_nbgrader_tree(folder, assignment):
            _from_nbgrader_tree(folder, label, origin, assignment, uploads, skipped)
            continue
        files, skips = _walk(folder, label)
        skipped.extend(skips)
        for path in files:
            uploads.append(_upload_for(PurePosixPath(path.relative_to(folder).as_posix()), path, None, origin, label, assignment))
    for i, up in enumerate(uploads):
        up.order = i
    return _assign_ids(uploads, skipped)


def _assign_ids(uploads: list[_Upload], skipped: list[Skipped]) -> Found:
    # 1. one upload per group: a notebook first, then the one named after the assignment, then by name
    groups: dict[str, list[_Upload]] = {}
    for up in uploads:
        groups.setdefault(up.group, []).append(up)
    chosen: list[_Upload] = []
    for members in groups.values():
        members.sort(key=lambda u: (u.problem is not None, not u.preferred, u.file))
        best = members[0]
        chosen.append(best)
        for other in members[1:]:
            skipped.append(Skipped(other.file, f"another upload of '{best.raw_id}'; {best.file} is graded instead"))
    # 2. one submission per id: a notebook beats other files; notebooks of the same id get suffixes
    clusters: dict[str, list[_Upload]] = {}
    for up in sorted(chosen, key=lambda u: u.order):
        clusters.setdefault(safe_id(up.raw_id).lower(), []).append(up)
    taken = set(clusters)
    subs: list[Submission] = []
    for members in clusters.values():
        # The upload whose name needed no cleaning keeps the id ('bob.ipynb' before 'bob!.ipynb').
        members.sort(key=lambda u: (safe_id(u.raw_id) != u.raw_id, u.order))
        base = safe_id(members[0].raw_id)
        notebooks = [u for u in members if u.problem is None]
        others = [u for u in members if u.problem is not None]
        keep = notebooks or others[:1]
        first = keep[0]
        for other in others if notebooks else others[1:]:
            skipped.append(Skipped(other.file, f"{other.problem}; {first.file} gives the same id '{base}' and is used"))
        subs.append(Submission(base, first.path, first.origin, first.file, first.problem))
        n = 1
        for up in keep[1:]:
            while True:
                n += 1
                new = f"{base}-{n}"
                if new.lower() not in taken:
                    break
            taken.add(new.lower())
            note = f"the id '{base}' is also that of {first.file}; graded as '{new}'"
            subs.append(Submission(new, up.path, up.origin, up.file, up.problem, note))
    subs.sort(key=lambda s: s.student)
    return Found(subs, skipped)
