"""``autograder grade``: grade a whole class, in parallel, resumably, and write the reports.

Each submission is graded by ``grade()`` in a worker process of its own (``autograder.batch.worker``);
its outcome lands in ``<out>/results/<student>.json``, written atomically. That folder is the batch's
memory: a batch killed halfway and started again grades only the students without a result for the
same file (same SHA-256), and ``--force`` regrades everyone. The gradebook, grades.csv and the feedback
pages are then rebuilt from all results, so each student appears exactly once.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder import config
from autograder.batch.submissions import Submission, SubmissionError, discover
from autograder.batch.worker import job_for, write_json
from autograder.grading.result import REJECTED, Result

# Time a worker gets beyond the notebook limit to start, restore, compare and write its result.
WORKER_GRACE_S = 120


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def failed_result(assignment: str, sub: Submission, sha: str, reason: str) -> dict:
    """The record of a submission whose worker died: a result with the reason, score zero."""
    from autograder.grading import core

    spec = core.load_assignment(assignment)
    result = Result(
        assignment=spec.name,
        submission=str(sub.path),
        score=0.0,
        max_score=float(spec.max_score),
        status=REJECTED,
        reasons=[reason],
    )
    return {"student": sub.student, "sha256": sha, "result": result.to_dict()}


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class BatchInterrupted(Exception):
    """Ctrl-C: the running workers were stopped; finished results are kept for the rerun."""


# Workers alive now, so that Ctrl-C can stop them (they run in sessions of their own, which the
# terminal's SIGINT does not reach); once _STOP is set no new worker starts.
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()
_STOP = threading.Event()


def _stop_all_workers() -> None:
    _STOP.set()
    with _LIVE_LOCK:
        for proc in list(_LIVE):
            _kill_group(proc)


def grade_in_worker(job: dict, timeout: float) -> str | None:
    """Run one worker; return None on success or the reason it failed."""
    if _STOP.is_set():
        return "the batch was interrupted"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
        job_file = f.name
    try:
        # A session of its own, so that a timeout kills the worker and everything it started.
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.batch.worker", job_file],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return f"the grader gave up after {timeout:.0f} s"
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        if proc.returncode != 0 or not Path(job["output"]).exists():
            tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            return f"grading crashed (exit status {proc.returncode}){': ' + tail[0] if tail else ''}"
        return None
    finally:
        Path(job_file).unlink(missing_ok=True)


def load_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a half-written file cannot exist (atomic writes), but a hand-edited one can


def grade_all(
    assignment: str,
    submissions: list[Submission],
    results_dir: Path,
    *,
    workers: int,
    limits: config.Limits,
    sandbox: bool,
    force: bool = False,
    progress: bool = True,
) -> dict[str, dict]:
    """Grade every submission lacking an up-to-date result; return all results by student."""
    todo = []
    for sub in submissions:
        sha = sha256_of(sub.path)
        out = results_dir / f"{sub.student}.json"
        old = None if force else load_record(out)
        if old is None or old.get("sha256") != sha:
            todo.append((sub, sha, out))
    timeout = limits.notebook_timeout + WORKER_GRACE_S
    _STOP.clear()
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    bar = tqdm(total=len(todo), desc=f"grading {Path(assignment).name}", unit="nb", disable=not progress, file=sys.stderr)
    try:
        futures = {
            pool.submit(
                grade_in_worker,
                job_for(sub.student, sub.path, sha, out, assignment, limits, sandbox),
                timeout,
            ): (sub, sha, out)
            for sub, sha, out in todo
        }
        for future in as_completed(futures):
            sub, sha, out = futures[future]
            try:
                problem = future.result()
            except Exception as exc:  # the pool itself must not stop the batch
                problem = f"grading failed: {exc}"
            if problem:
                write_json(out, failed_result(assignment, sub, sha, problem))
            bar.update(1)
            bar.set_postfix_str(sub.student)
    except KeyboardInterrupt:
        # Stop now: queued submissions never start, running workers are killed (their results are not
        # written, so a rerun grades them); what finished stays on disk.
        _stop_all_workers()
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        raise BatchInterrupted() from None
    pool.shutdown(wait=True)
    bar.close()
    records = {}
    for sub in submissions:
        rec = load_record(results_dir / f"{sub.student}.json")
        if rec is not None:
            records[sub.student] = rec
    return records


def write_reports(spec, records: dict[str, dict], out: Path, db_url: str) -> None:
    """Gradebook, grades.csv, one feedback page per student and the instructor's summary, from all results.

    The summary holds tampering notes: it sits beside ``feedback/``, not in it, so that folder can be sent
    to students as it is.
    """
    from autograder.grading import reference_store
    from autograder.report import csv_export, feedback, gradebook

    results = {student: Result.from_dict(rec["result"]) for student, rec in records.items()}
    gradebook.write_gradebook(db_url, spec, results)
    csv_export.write_grades_csv(out / "grades.csv", spec, results)
    ref_values = reference_store.load(spec)
    fb_dir = out / "feedback"
    fb_dir.mkdir(parents=True, exist_ok=True)
    links = {}
    for student, result in results.items():
        page = fb_dir / f"{student}.html"
        # Plotted series travel on the result's checks; the page draws them beside the reference.
        feedback.write_feedback(page, spec, result, ref_values, student=student)
        links[student] = f"feedback/{page.name}"
    feedback.write_instructor_summary(out / "summary.html", spec, results, feedback_links=links)


def run(cfg: config.Grade) -> int:
    """CLI handler of ``autograder grade``."""
    from autograder.grading import core

    started = time.perf_counter()
    try:
        spec = core.load_assignment(cfg.assignment)
    except core.GradingSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.unsafe:
        from autograder.grading import sandbox

        try:
            sandbox.check()
        except sandbox.SandboxUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    out = cfg.out.resolve()
    try:
        subs = discover(cfg.submissions, spec.name, out / "extracted")
    except SubmissionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not subs:
        print(f"error: no submissions found in {', '.join(map(str, cfg.submissions))}", file=sys.stderr)
        return 2
    # The folder, not the name: workers must find an assignment given by path (e.g. a test fixture) too.
    try:
        records = grade_all(
            str(spec.folder),
            subs,
            out / "results",
            workers=cfg.workers,
            limits=cfg.limits,
            sandbox=not cfg.unsafe,
            force=cfg.force,
        )
    except BatchInterrupted:
        done = len(list((out / "results").glob("*.json")))
        print(
            f"\ninterrupted: {done} results are kept in {out / 'results'}; run the same command again to grade "
            "the rest",
            file=sys.stderr,
        )
        return 130
    db_url = cfg.db_url or f"sqlite:///{out / 'gradebook.db'}"
    from autograder.report import ReportError

    try:
        write_reports(spec, records, out, db_url)
    except ReportError as exc:
        print(f"error: the results are in {out / 'results'}, but the reports failed: {exc}", file=sys.stderr)
        return 1
    scores = [rec["result"]["score"] for rec in records.values()]
    max_score = max((rec["result"]["max_score"] for rec in records.values()), default=0)
    print(
        f"graded {len(records)} submissions of {spec.name} in {time.perf_counter() - started:.1f} s; "
        f"mean {sum(scores) / max(1, len(scores)):.2f} of {max_score:g}\n"
        f"  grades:    {out / 'grades.csv'}\n  feedback:  {out / 'feedback'}/<student>.html\n"
        f"  summary:   {out / 'summary.html'}\n  gradebook: {db_url}"
    )
    return 0
