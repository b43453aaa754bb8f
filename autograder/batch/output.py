"""The output folder of ``autograder grade``: what lives there, and which folders a batch may write into.

One folder per assignment (default ``grading/<assignment>/``), marked as such by ``autograder.json``:

| name | what |
|---|---|
| ``autograder.json`` | which assignment the folder belongs to |
| ``results/<student>.json`` | one result per submission (the batch's memory) |
| ``extracted/<zip>/`` | the members of the zips given as input |
| ``autograder-grades.csv`` | one row per student |
| ``autograder-feedback/<student>.html`` | one page per student (the folder can be sent as it is) |
| ``autograder-summary.html`` | the instructor's page (tampering notes: never for students) |
| ``gradebook.db`` | nbgrader's gradebook, shared with nbgrader on purpose |

nbgrader's own tools, run in the same folder, write ``grades.csv`` (``nbgrader export``), ``feedback/``,
``autograded/``, ``submitted/``, ``release/``, ``source/`` and ``nbgrader_config.py``: none of those
names is ours, so neither side overwrites the other; both read and write the gradebook.
"""
from __future__ import annotations

import json
from pathlib import Path

from autograder.batch.worker import write_json

MARKER = "autograder.json"
RESULTS = "results"
EXTRACTED = "extracted"
GRADES_CSV = "autograder-grades.csv"
FEEDBACK = "autograder-feedback"
SUMMARY = "autograder-summary.html"
GRADEBOOK = "gradebook.db"
# What nbgrader writes in a course folder (and so in ours when it is run there), gradebook.db excepted.
NBGRADER_NAMES = frozenset(
    {"grades.csv", "feedback", "autograded", "submitted", "release", "source", "nbgrader_config.py", ".nbgrader.log"}
)
# Names an older version of the grader wrote, now nbgrader's or renamed.
OLD_NAMES = ("grades.csv", "feedback", "summary.html")
FORMAT = 1


class OutputError(Exception):
    """The output folder must not be written by this batch (another assignment's results, foreign files)."""


def default_folder(assignment: str) -> Path:
    return Path("grading") / assignment


def _owners_of_results(folder: Path) -> set[str]:
    owners = set()
    for path in sorted((folder / RESULTS).glob("*.json")):
        try:
            owner = json.loads(path.read_text())["result"]["assignment"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(owner, str):
            owners.add(owner)
    return owners


def check_folder(folder: Path, assignment: str) -> str:
    """Raise OutputError when grading ``assignment`` must not write into ``folder``; write nothing.

    Allowed: a folder that does not exist yet, an empty one, one marked for ``assignment``, and one an older
    version of the grader left (no marker, results of ``assignment`` only). Returns a note for the user
    ('' when there is nothing to say).
    """
    if not folder.exists():
        return ""
    if not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder")
    marker = folder / MARKER
    hint = f"grade '{assignment}' into another folder (the default is {default_folder(assignment)}/)"
    if marker.exists():
        try:
            owner = json.loads(marker.read_text())["assignment"]
        except (OSError, ValueError, KeyError, TypeError):
            raise OutputError(f"{marker} cannot be read, so it is not clear whose results {folder} holds; {hint}") from None
        if owner != assignment:
            raise OutputError(f"{folder} holds the results of assignment '{owner}', not '{assignment}'; {hint}")
        return ""
    owners = _owners_of_results(folder)
    others = sorted(owners - {assignment})
    if others:
        raise OutputError(f"{folder} holds results of assignment '{others[0]}', not '{assignment}'; {hint}")
    if owners:
        old = [name for name in OLD_NAMES if (folder / name).exists()]
        if old:
            return (
                f"note: {', '.join(old)} in {folder} were written by an older version of the grader and are no longer "
                f"updated; the reports are now {GRADES_CSV}, {FEEDBACK}/ and {SUMMARY}"
            )
        return ""
    if any(folder.iterdir()):
        raise OutputError(f"{folder} is not empty and was not written by `autograder grade`; {hint}")
    return ""


def claim(folder: Path, assignment: str) -> None:
    """Create ``folder`` if needed and mark it as the output of ``assignment`` (call after check_folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / MARKER).exists():
        write_json(folder / MARKER, {"format": FORMAT, "assignment": assignment, "written_by": "autograder grade"})
