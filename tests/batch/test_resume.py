"""A batch killed halfway (SIGKILL, as when the machine goes down) and started again grades only what was left.

Each result file is written once by the worker that graded it (atomically, so a new file is a new inode);
a file that keeps its inode and mtime across the rerun was not graded again.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading import leftovers
from tests import processes, toy_course

# Each run starts a worker and a kernel per submission (~5 s on an idle machine): minutes in all.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

STUDENTS = [f"student{i}" for i in range(6)]


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return toy_course.make_toy(tmp_path_factory.mktemp("course"))


def stamps(results):
    """student -> (inode, mtime) of each result file: both change whenever the file is written again."""
    found = {}
    for path in results.glob("*.json"):
        st = path.stat()
        found[path.stem] = (st.st_ino, st.st_mtime_ns)
    return found


def work_folders(pids):
    """The grader's working folders in the temporary directory that processes in ``pids`` made."""
    return [path for path in Path(tempfile.gettempdir()).glob("ag-*") if leftovers.maker(path.name) in pids]


def check_complete(out, expect_scores):
    """Every student has exactly one result, one CSV row and one gradebook submission, all agreeing."""
    from nbgrader.api import Gradebook

    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert sorted(results) == STUDENTS
    scores = {s: r["result"]["score"] for s, r in results.items()}
    assert scores == expect_scores
    rows = list(csv.DictReader((out / "autograder-grades.csv").open()))
    assert sorted(r["student"] for r in rows) == STUDENTS
    assert {r["student"]: float(r["total"]) for r in rows} == scores
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="course") as gb:
        subs = gb.assignment_submissions("toy")
        assert sorted(s.student_id for s in subs) == STUDENTS
        assert {s.student_id: s.score for s in subs} == pytest.approx(scores)
    assert not list((out / "results").glob(".*.tmp")), "a half-written result was left behind"


def test_killed_batch_resumes_and_force_regrades(toy_dir, tmp_path):
    blank, solved = toy_course.blank(toy_dir), toy_course.solved(toy_dir)
    subs = tmp_path / "subs"
    subs.mkdir()
    expected = {}
    for i, student in enumerate(STUDENTS):
        nb = solved if i % 2 == 0 else blank
        nbformat.write(nb, subs / f"{student}.ipynb")
        expected[student] = 10.0 if i % 2 == 0 else 0.0
    out, results = tmp_path / "out", tmp_path / "out" / "results"
    cmd = toy_course.grade_cmd(toy_dir, subs, out=out, extra=["--unsafe", "--workers", "1"])

    # 1. start, wait until some but not all results exist and a submission is being graded, then kill the
    #    whole process tree
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    tree = {proc.pid}
    try:
        deadline = time.monotonic() + 300
        while len(stamps(results)) < 2 or not work_folders(tree):
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "no result appeared in time"
            tree |= set(processes.descendants(proc.pid))
            time.sleep(0.05)
    finally:
        tree |= set(processes.descendants(proc.pid))
        processes.kill_tree(proc)
    before = stamps(results)
    assert 2 <= len(before) < len(STUDENTS), before
    assert not (out / "autograder-grades.csv").exists()  # the reports come at the end, which was never reached
    left = work_folders(tree)
    assert left, "SIGKILL left no working folder behind; this test no longer shows that the rerun removes them"

    # 2. the rerun grades exactly the students without a result
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = stamps(results)
    kept = {s for s in before if after[s] == before[s]}
    assert kept == set(before), "a finished result was graded again"
    assert set(after) - set(before) == set(STUDENTS) - set(before)
    # the progress bar counts only the work left
    assert f"/{len(STUDENTS) - len(before)} " in rerun.stderr.replace("[", " ")
    check_complete(out, expected)
    assert not [p for p in left if p.exists()], "the rerun left the killed batch's working folders in place"

    # 3. a second rerun has nothing to do; --force regrades everyone
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and stamps(results) == after
    forced = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0, forced.stderr[-3000:]
    regraded = stamps(results)
    assert all(regraded[s] != after[s] for s in STUDENTS)
    check_complete(out, expected)


def test_changed_submission_is_regraded(toy_dir, tmp_path):
    """Resume keys on the file's content: a student who replaces a notebook is graded again."""
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(toy_course.blank(toy_dir), subs / "ann.ipynb")
    out = tmp_path / "out"
    cmd = toy_course.grade_cmd(toy_dir, subs, out=out, extra=["--unsafe", "--workers", "1"])
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    first = json.loads((out / "results" / "ann.json").read_text())
    assert first["result"]["score"] == 0
    nbformat.write(toy_course.solved(toy_dir), subs / "ann.ipynb")
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    second = json.loads((out / "results" / "ann.json").read_text())
    assert second["result"]["score"] == 10 and second["sha256"] != first["sha256"]
    assert os.path.exists(out / "autograder-grades.csv")


def test_ctrl_c_stops_the_batch_soon_and_cleanly(toy_dir, tmp_path):
    """An instructor who presses Ctrl-C wants the batch to stop now; a rerun then resumes."""
    import signal

    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(6):
        nbformat.write(toy_course.solved(toy_dir), subs / f"s{i}.ipynb")
    out = tmp_path / "out"
    cmd = toy_course.grade_cmd(toy_dir, subs, out=out, extra=["--unsafe", "--workers", "1"])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not stamps(out / "results"):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        graded_before = len(stamps(out / "results"))
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the foreground process group
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the batch was still running 60 s after Ctrl-C")
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    assert proc.returncode != 0
    assert "Traceback" not in err
    # at most the submission in flight was finished; nothing queued was started
    assert len(stamps(out / "results")) <= graded_before + 1
