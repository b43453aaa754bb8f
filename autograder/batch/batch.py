"""``autograder grade``: grade a whole class, in parallel, resumably, and write the reports.

Each notebook is graded by ``grade()`` through an executor (``autograder.executor``: by default a worker
process of its own on this machine); its outcome lands in ``<out>/results/<student>.json``, written atomically. That folder is the batch's memory:
a result is reused only while its key is unchanged, the key being the submitted file's SHA-256, the
fingerprint of everything else that decides a grade (``autograder.grading.fingerprint``: source notebook,
grading.toml, reference.json, helper modules, data, the grader's code and version, library versions) and
the limits. A rerun regrades exactly the submissions whose key changed and says why; ``--force`` regrades
everyone. Uploads that are not notebooks get a result without a kernel. The gradebook, the CSV and the
pages are then rebuilt from all results, so each student appears exactly once.

The output folder belongs to one assignment (its layout is below); another assignment's folder is refused
before anything is written.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import as_completed
from pathlib import Path

from tqdm import tqdm

from autograder import config
from autograder.batch.submissions import Found, Submission, discover
from autograder.errors import UsageError
from autograder.executor import Executor, Job, LocalExecutor
from autograder.executor.job import Refused
from autograder.files import atomic_write_json
from autograder.grading import fingerprint as fp_mod
from autograder.grading.result import REJECTED, Reason, Result, Why

# Format of the records in results/ (a record of another format is regraded).
RECORD_FORMAT = 2
# Lines of each list printed in the terminal; the summary page lists everything.
MAX_LISTED = 20
NEW = "new"


# ------------------------------------------------------------------------------------- the output folder
#
# One folder per assignment (default grading/<assignment>/), marked as such by autograder.json:
#   autograder.json                      which assignment the folder belongs to
#   results/<student>.json               one record per upload (the batch's memory)
#   extracted/<zip>/                     the members of the zips given as input
#   autograder-grades.csv                one row per student
#   autograder-feedback/<student>.html   one page per student (the folder can be sent as it is)
#   autograder-summary.html              the instructor's page (tampering notes: never for students)
#   gradebook.db                         nbgrader's gradebook, shared with nbgrader on purpose
#   nbgrader_config.py, source/<a>/, submitted/<s>/<a>/, autograded/<s>/<a>/
#                                        the course layout formgrader reads (report/nbgrader_course.py)
# nbgrader's own tools, run in the same folder, write grades.csv (nbgrader export) and feedback/ (generate
# feedback): names that are not ours, so neither side overwrites the other. Formgrader's own autograde
# button would rewrite autograded/ with nbgrader's pipeline; the source folder's README says not to use it.

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
OUTPUT_FORMAT = 1


class OutputError(UsageError):
    """The output folder must not be written by this batch (another assignment's results, foreign files)."""


def default_output(assignment: str) -> Path:
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


def check_output(folder: Path, assignment: str) -> str:
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
    hint = f"grade '{assignment}' into another folder (the default is {default_output(assignment)}/)"
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


def claim_output(folder: Path, assignment: str) -> None:
    """Create ``folder`` if needed and mark it as the output of ``assignment`` (call after check_output)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / MARKER).exists():
        atomic_write_json(folder / MARKER, {"format": OUTPUT_FORMAT, "assignment": assignment, "written_by": "autograder grade"}, indent=1)


def sha256_of(path: Path) -> str:
    return fp_mod.file_digest(path)


def batch_key(fingerprint: fp_mod.Fingerprint, limits: config.Limits, sandbox: bool) -> dict:
    """What, besides the submitted file, decides a grade: course files, grader, libraries, limits, sandbox."""
    return {"fingerprint": fingerprint.to_dict(), "settings": {"limits": dataclasses.asdict(limits), "sandbox": sandbox}}


def _short(difference: str) -> str:
    """'assignment/grading.toml changed' -> 'grading.toml changed'."""
    for prefix in ("assignment/", "helpers/", "data/"):
        if difference.startswith(prefix):
            return difference[len(prefix) :]
    return difference


def why_regrade(old: dict | None, sha: str, key: dict, force: bool) -> str | None:
    """Why the submission must be graded (again), in words, or None when its stored result is up to date."""
    if old is None:
        return NEW
    if force:
        return "--force"
    if old.get("sha256") != sha:
        return "the submission changed"
    old_key = old.get("key")
    try:
        before = fp_mod.Fingerprint.from_dict(old_key["fingerprint"])
        now = fp_mod.Fingerprint.from_dict(key["fingerprint"])
        old_settings = old_key["settings"]
    except (TypeError, KeyError, ValueError):
        return "graded by an older version of the grader"
    changes = now.differences(before)
    code = [c for c in changes if c.startswith("grader/")]
    words = [_short(c) for c in changes if not c.startswith("grader/")]
    if code:
        words.append("the grader's code changed")
    settings = key["settings"]
    if old_settings.get("sandbox") != settings["sandbox"]:
        words.append("sandbox " + ("on" if settings["sandbox"] else "off (--unsafe)"))
    old_limits = old_settings.get("limits") or {}
    for name, value in settings["limits"].items():
        if old_limits.get(name) != value:
            words.append(f"{name} {old_limits.get(name)} -> {value}")
    if not words:
        return None
    return ", ".join(words[:4]) + (f" and {len(words) - 4} more" if len(words) > 4 else "")


def _upload(sub: Submission) -> dict:
    return {"file": sub.file, "origin": sub.origin, "note": sub.note}


def problem_record(spec, sub: Submission, sha: str, key: dict) -> dict:
    """The record of an upload that is not a notebook (graded without a kernel): score zero and why."""
    result = Result(
        assignment=spec.name,
        submission=str(sub.path) if sub.path is not None else sub.file,
        score=0.0,
        max_score=float(spec.max_score),
        status=REJECTED,
        reasons=[Reason(Why.NOT_NOTEBOOK, sub.problem)],
    )
    return record_of(sub, sha, key, result)


def record_of(sub: Submission, sha: str, key: dict, result: Result) -> dict:
    """One upload's record in ``results/``: its result and what decides whether it is still valid."""
    return {
        "format": RECORD_FORMAT,
        "student": sub.student,
        "sha256": sha,
        "key": key,
        "upload": _upload(sub),
        "result": result.to_dict(),
    }


class BatchInterrupted(Exception):
    """Ctrl-C: the running workers were stopped; finished results are kept for the rerun."""


def load_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a half-written file cannot exist (atomic writes), but a hand-edited one can
    return record if isinstance(record, dict) and isinstance(record.get("result"), dict) else None


@dataclasses.dataclass
class Plan:
    """Which notebooks to grade now (with why) and which stored results are still valid."""

    todo: list[tuple[Submission, str, Path, str]]  # (submission, sha256, result file, why)
    kept: list[Submission]

    def counts(self) -> collections.Counter:
        return collections.Counter(why for *_, why in self.todo)

    def describe(self) -> str:
        """'3 regraded: grading.toml changed; 1 new; 2 unchanged (results kept)'."""
        parts = []
        for why, n in sorted(self.counts().items(), key=lambda kv: (kv[0] != NEW, -kv[1], kv[0])):
            parts.append(f"{n} new" if why == NEW else f"{n} regraded: {why}")
        if self.kept:
            parts.append(f"{len(self.kept)} unchanged (results kept)")
        return "; ".join(parts) or "nothing to grade"


def plan(notebooks: list[Submission], results_dir: Path, key: dict, force: bool) -> Plan:
    todo, kept = [], []
    for sub in notebooks:
        sha = sha256_of(sub.path)
        out = results_dir / f"{sub.student}.json"
        why = why_regrade(load_record(out), sha, key, force)
        if why is None:
            kept.append(sub)
        else:
            todo.append((sub, sha, out, why))
    return Plan(todo, kept)


def grade_all(
    spec,
    todo: list[tuple[Submission, str, Path, str]],
    *,
    key: dict,
    workers: int,
    limits: config.Limits,
    sandbox: bool,
    worker_memory_mb: int | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    kernels_ahead: int = 0,
) -> list[Refused]:
    """Grade ``todo`` through an executor (default: ``workers`` local processes, each keeping
    ``kernels_ahead`` kernels started); every item ends with a record.

    Records are written here, by this one process, as results come back: whatever the executor, the
    results folder has a single writer. The exception: a job no worker would grade with this course version
    (``Refused``) gets no record, so no zero stands for a grade; those are returned for the caller to report.
    """
    # The folder, not the name: workers must find an assignment given by path (e.g. a test fixture) too.
    assignment = str(spec.folder.resolve())  # absolute: a relative one would read as a name
    own = executor is None
    executor = executor or LocalExecutor(workers, kernels_ahead=kernels_ahead)
    bar = tqdm(total=len(todo), desc=f"grading {spec.name}", unit="nb", disable=not progress, file=sys.stderr)
    refused: list[Refused] = []
    try:
        futures = {
            executor.submit(
                Job(
                    job_id=sub.student,
                    assignment=assignment,
                    notebook=sub.path,
                    limits=limits,
                    sandbox=sandbox,
                    label=str(sub.path),
                    worker_memory_mb=worker_memory_mb,
                    fingerprint=key["fingerprint"],
                )
            ): (sub, sha, out)
            for sub, sha, out, _ in todo
        }
        for future in as_completed(futures):
            sub, sha, out = futures[future]
            try:
                result = future.result()
            except Refused as exc:
                refused.append(exc)
            else:
                atomic_write_json(out, record_of(sub, sha, key, result), indent=1)
            bar.update(1)
            bar.set_postfix_str(sub.student)
    except KeyboardInterrupt:
        # Stop now: queued submissions never start, running workers are killed (their results are not
        # written, so a rerun grades them); what finished stays on disk.
        executor.stop()
        bar.close()
        raise BatchInterrupted() from None
    if own:
        executor.close()
    bar.close()
    return refused


class NotGraded(UsageError):
    """Some submissions were not graded: no worker holds the coordinator's course version."""


def _not_graded(refused: list[Refused]) -> NotGraded:
    workers: dict[str, list[str]] = {}
    for exc in refused:
        workers.update(exc.refusals)
    listed = "\n".join(f"  {w}: {', '.join(d[:5])}{' ...' if len(d) > 5 else ''}" for w, d in sorted(workers.items()))
    students = ", ".join(sorted(exc.job_id for exc in refused)[:MAX_LISTED])
    return NotGraded(
        f"{len(refused)} submissions were not graded, because every worker holds other course files:\n{listed}\n"
        f"  not graded: {students}{' ...' if len(refused) > MAX_LISTED else ''}\n"
        "No result was written for them: bring the workers to the coordinator's commit and data, then run the "
        "same command again (it grades just those)"
    )


def record_problems(spec, subs: list[Submission], results_dir: Path, key: dict) -> None:
    """Results for uploads that are not notebooks (no worker needed); a file is rewritten only if it changes."""
    for sub in subs:
        digest = hashlib.sha256(f"{sub.file}\n{sub.problem}".encode()).hexdigest()
        record = problem_record(spec, sub, digest, key)
        path = results_dir / f"{sub.student}.json"
        if load_record(path) != json.loads(json.dumps(record)):
            atomic_write_json(path, record, indent=1)


def upload_notes(found: Found) -> list:
    from autograder.report.common import UploadNote

    notes = [UploadNote(s.file, s.note, s.student) for s in found.renamed]
    notes += [UploadNote(s.file, s.reason) for s in found.skipped]
    return notes


def lms_name(sub: Submission, assignment: str) -> str:
    """The student as the upload's path names them, before the id was cleaned: 'Jane Doe' from Moodle's
    'Jane Doe_123_assignsubmission_file_/x.ipynb', 'doejane' from Canvas's 'doejane_12_34_x.ipynb'."""
    import re
    from pathlib import PurePosixPath

    from autograder.batch.submissions import _parse_name

    origin, file = str(sub.origin), sub.file
    zip_label = f"{Path(origin).name}:"
    if origin.lower().endswith(".zip") and file.startswith(zip_label):
        rel = file[len(zip_label) :]
    elif file.startswith(origin.rstrip("/") + "/"):
        rel = file[len(origin.rstrip("/")) + 1 :]
    else:
        rel = Path(file).name
    parts = PurePosixPath(rel).parts or (sub.student,)
    # as submissions.discover reads them: a top-level file by its name, a folder by its name up to '_<digit>'
    return _parse_name(parts[0], assignment)[0] if len(parts) == 1 else re.split(r"_\d", parts[0])[0]


def roster_by_student(roster: dict, students) -> dict:
    """A roster keyed by the batch's ids: a roster id matches ignoring case and the cleaning of ids; roster
    students without an upload get their cleaned id (the one an upload of theirs would get)."""
    from autograder.batch.submissions import safe_id

    by_key = {s.casefold(): s for s in students}
    keyed = {}
    for rid, person in roster.items():
        keyed[by_key.get(rid.casefold()) or by_key.get(safe_id(rid).casefold()) or safe_id(rid)] = person
    return keyed


def write_reports(spec, records: dict[str, dict], out: Path, db_url: str, found: Found | None = None, roster: dict | None = None) -> None:
    """Gradebook, nbgrader's course folder, CSV, one page per student and the instructor's summary, from all results.

    The summary holds tampering notes: it sits beside the feedback folder, not in it, so that folder can be
    sent to students as it is. Uploads that are not notebooks get a short page and a row without scores;
    they stay out of the gradebook and the statistics. ``roster`` (``gradebook.read_roster``) names the
    students; without it, names come from the uploads' paths where they hold one, else the id is shown.
    """
    import logging

    from autograder.grading import reference_store
    from autograder.report import csv_export, feedback, gradebook, nbgrader_course

    problems = {s.student: s for s in (found.not_notebooks if found else []) if s.student in records}
    results = {student: Result.from_dict(rec["result"]) for student, rec in records.items()}
    graded = {s: r for s, r in results.items() if s not in problems}
    people = roster_by_student(roster, graded) if roster is not None else None
    if people is not None and set(graded) - set(people):
        unlisted = sorted(set(graded) - set(people))
        logging.getLogger(__name__).warning(
            "%d students are not in the roster (their id is shown as name): %s", len(unlisted), ", ".join(unlisted[:20])
        )
    uploads = {s.student: s.path for s in (found.notebooks if found else []) if s.student in graded and s.path is not None}
    guessed = {}
    for sub in found.notebooks if found else []:
        person = gradebook.person_from_name(lms_name(sub, spec.name)) if not sub.note else None
        if person is not None:
            guessed[sub.student] = person
    stamps = gradebook.write_gradebook(db_url, spec, graded, roster=people, guessed=guessed)
    nbgrader_course.write_course(out, spec, {s: graded[s] for s in uploads}, uploads, stamps, db_url=db_url)
    csv_export.write_grades_csv(out / GRADES_CSV, spec, results, unscored=set(problems))
    ref_values = reference_store.load(spec)
    fb_dir = out / FEEDBACK
    fb_dir.mkdir(parents=True, exist_ok=True)
    links = {}
    for student, result in results.items():
        page = fb_dir / f"{student}.html"
        links[student] = f"{FEEDBACK}/{page.name}"
        if student in problems:
            sub = problems[student]
            shown = sub.file.replace(":", "/").rsplit("/", 1)[-1]  # the file's own name, not the instructor's paths
            feedback.write_upload_page(page, spec, student, shown, sub.problem)
            continue
        # Plotted series travel on the result's checks; the page draws them beside the reference.
        feedback.write_feedback(page, spec, result, ref_values, student=student)
    feedback.write_instructor_summary(
        out / SUMMARY,
        spec,
        results,
        feedback_links=links,
        not_notebooks={s: sub.file for s, sub in problems.items()},
        uploads=upload_notes(found) if found else [],
    )


def _listing(title: str, lines: list[str]) -> str:
    if not lines:
        return ""
    shown = lines[:MAX_LISTED]
    more = [f"    ... and {len(lines) - MAX_LISTED} more (all are listed in {SUMMARY})"] if len(lines) > MAX_LISTED else []
    return "\n".join([f"  {title}:", *(f"    {line}" for line in shown), *more]) + "\n"


def describe_uploads(found: Found) -> str:
    """The uploads that are not graded as notebooks under their own id, for the terminal."""
    text = _listing(
        f"{len(found.not_notebooks)} not notebooks or not readable (each gets a result that says so; left out of the statistics)",
        [f"{s.student}: {s.problem}" for s in found.not_notebooks],
    )
    text += _listing(
        f"{len(found.renamed)} given another id (two uploads gave the same one)",
        [f"{s.student}: {s.file}: {s.note}" for s in found.renamed],
    )
    text += _listing(f"{len(found.skipped)} files not graded", [f"{s.file}: {s.reason}" for s in found.skipped])
    return text


def _discover(cfg: config.Grade, spec, out: Path) -> tuple[Found, Path]:
    """Find the uploads; zips are unpacked into a private folder first (moved into ``out`` later)."""
    staging = Path(tempfile.mkdtemp(prefix="ag-unpack-"))
    try:
        return discover(cfg.submissions, spec.name, staging), staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _keep_extracted(found: Found, staging: Path, out: Path) -> Found:
    """Move the unpacked zips into ``out/extracted/`` (replacing earlier copies of the same zips)."""
    target = out / EXTRACTED
    entries = sorted(staging.iterdir())
    if not entries:
        return found
    target.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        dest = target / entry.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(entry), str(dest))
    return found.relocate(staging, target)


def run(cfg: config.Grade) -> int:
    """CLI handler of ``autograder grade``."""
    from autograder.grading import core

    started = time.perf_counter()
    # Errors here are AutograderErrors (GradingSetupError, SandboxUnavailable, OutputError, SubmissionError,
    # UsageError): cli.main prints them once and exits with their code.
    spec = core.load_assignment(cfg.assignment)
    roster = None
    if cfg.roster is not None:  # read before grading: a broken roster must not cost a class's grading time
        from autograder.report import gradebook

        roster = gradebook.read_roster(cfg.roster)
    if not cfg.unsafe:
        from autograder.grading import sandbox

        sandbox.check()
    out = (cfg.out if cfg.out is not None else default_output(spec.name)).resolve()
    note = check_output(out, spec.name)
    # Nothing is written before this point, nor when the uploads turn out to be unusable.
    found, staging = _discover(cfg, spec, out)
    try:
        inputs = ", ".join(map(str, cfg.submissions))
        if not found.submissions:
            listed = describe_uploads(found)
            raise UsageError(f"no submissions found in {inputs}" + (f"\n{listed}" if listed else ""))
        if not found.notebooks:
            raise UsageError(
                f"none of the {len(found.submissions)} uploads in {inputs} is a notebook; nothing was graded\n{describe_uploads(found)}"
            )
        claim_output(out, spec.name)
        found = _keep_extracted(found, staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if note:
        print(note)

    key = batch_key(fp_mod.of_assignment(spec), cfg.limits, not cfg.unsafe)
    results_dir = out / RESULTS
    todo = plan(found.notebooks, results_dir, key, cfg.force)
    print(f"{spec.name}: {len(found.notebooks)} notebooks: {todo.describe()}\n{describe_uploads(found)}", end="")
    record_problems(spec, found.not_notebooks, results_dir, key)
    executor = None
    if cfg.executor == "celery":
        from autograder.executor.celery import executor_for

        executor = executor_for(cfg)
    try:
        refused = grade_all(
            spec,
            todo.todo,
            key=key,
            workers=cfg.workers,
            kernels_ahead=cfg.kernels_ahead,
            limits=cfg.limits,
            sandbox=not cfg.unsafe,
            worker_memory_mb=cfg.worker_memory_mb,
            executor=executor,
        )
        if executor is not None:
            executor.close()
    except BatchInterrupted:
        done = len(list(results_dir.glob("*.json")))
        print(
            f"\ninterrupted: {done} results are kept in {results_dir}; run the same command again to grade the rest",
            file=sys.stderr,
        )
        return 130
    records = {}
    for sub in found.submissions:
        rec = load_record(results_dir / f"{sub.student}.json")
        if rec is not None:
            records[sub.student] = rec
    db_url = cfg.db_url or f"sqlite:///{out / GRADEBOOK}"
    from autograder.report import ReportError

    try:
        write_reports(spec, records, out, db_url, found, roster)
    except ReportError as exc:
        raise ReportError(f"the results are in {results_dir}, but the reports failed: {exc}") from exc
    scored = [rec["result"]["score"] for s, rec in records.items() if s in {n.student for n in found.notebooks}]
    print(
        f"graded {len(todo.todo)} of {len(found.notebooks)} notebooks of {spec.name} in {time.perf_counter() - started:.1f} s "
        f"({todo.describe()}); mean {sum(scored) / max(1, len(scored)):.2f} of {spec.max_score:g} over {len(scored)} notebooks\n"
        f"  grades:    {out / GRADES_CSV}\n  feedback:  {out / FEEDBACK}/<student>.html\n"
        f"  summary:   {out / SUMMARY}\n  gradebook: {db_url}"
    )
    if refused:
        raise _not_graded(refused)
    return 0
