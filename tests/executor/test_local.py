"""The local executor: every job's Future yields a Result, whatever happens to its worker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.executor import Job, LocalExecutor, Priority, State
from autograder.grading.limits import Limits
from tests.processes import children, descendants
from tests.toy_course import make_toy, replaced, solved


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy(tmp_path_factory.mktemp("executor"))


def _job(toy, path, job_id, **kw) -> Job:
    return Job(job_id=job_id, assignment=str(toy), notebook=path, sandbox=False, **kw)


def test_jobs_yield_the_results_grade_gives_and_the_label(toy, tmp_path):
    good, wrong = tmp_path / "good.ipynb", tmp_path / "wrong.ipynb"
    nbformat.write(solved(toy), good)
    nbformat.write(replaced(solved(toy), "scale", "def scale(x, k):\n    return x + k\n"), wrong)
    with LocalExecutor(workers=2) as ex:
        futures = {
            "good": ex.submit(_job(toy, good, "good", label="uploads/good.ipynb")),
            "wrong": ex.submit(_job(toy, wrong, "wrong")),
        }
        results = {k: f.result(timeout=120) for k, f in futures.items()}
    assert results["good"].score == results["good"].max_score > 0
    assert results["good"].submission == "uploads/good.ipynb"
    assert results["wrong"].score < results["wrong"].max_score
    assert results["wrong"].submission == str(wrong)


@pytest.mark.slow
def test_a_worker_that_overruns_becomes_an_incomplete_result(toy, tmp_path):
    # The notebook limit is the executor's own bound on the worker (plus a grace it must not wait out here).
    slow = tmp_path / "slow.ipynb"
    nbformat.write(replaced(solved(toy), "scale", "import time\ntime.sleep(600)\n"), slow)
    job = _job(toy, slow, "slow", limits=Limits(cell_timeout=600, notebook_timeout=600))
    ex = LocalExecutor(workers=1)
    try:
        import autograder.executor.job as job_mod

        grace, job_mod.WORKER_GRACE_S = job_mod.WORKER_GRACE_S, -590  # gives up after 10 s
        try:
            future = ex.submit(job)
            deadline = time.time() + 60
            while not any(s.state == State.RUNNING for s in ex.jobs()) and time.time() < deadline:
                time.sleep(0.1)
            assert [s.job_id for s in ex.jobs() if s.state == State.RUNNING] == ["slow"]
            result = future.result(timeout=120)
        finally:
            job_mod.WORKER_GRACE_S = grace
    finally:
        ex.close()
    assert result.status == "incomplete" and result.score == 0
    assert "gave up after 10 s" in result.reasons[0]
    assert ex.jobs() == []


def test_a_worker_that_cannot_start_its_job_is_a_result_not_an_exception(toy, tmp_path):
    missing = tmp_path / "gone.ipynb"  # removed before the worker reads it
    with LocalExecutor() as ex:
        result = ex.submit(_job(toy, missing, "gone")).result(timeout=120)
    assert result.status in {"rejected", "incomplete"} and result.score == 0
    assert result.assignment == "toy" and result.max_score > 0  # a zero out of the assignment's points


def test_stop_cancels_what_has_not_started(toy, tmp_path):
    path = tmp_path / "a.ipynb"
    nbformat.write(solved(toy), path)
    ex = LocalExecutor(workers=1)
    futures = [ex.submit(_job(toy, path, f"s{i}")) for i in range(4)]
    ex.stop()
    done = [f for f in futures if not f.cancelled()]
    assert len(done) <= 1  # at most the one that had started
    for f in done:
        assert f.result(timeout=60).score is not None


def test_the_wire_form_carries_the_notebook(toy, tmp_path):
    path = tmp_path / "w.ipynb"
    nbformat.write(solved(toy), path)
    job = _job(toy, path, "w", label="w.ipynb", worker_memory_mb=512)
    wire = json.loads(json.dumps(job.to_wire()))
    other = tmp_path / "elsewhere"
    other.mkdir()
    back = Job.from_wire(wire, other)
    assert back.notebook.read_bytes() == path.read_bytes() and back.notebook.parent == other
    assert (back.job_id, back.assignment, back.limits, back.label, back.worker_memory_mb) == ("w", str(toy), job.limits, "w.ipynb", 512)
    wire["file_name"] = "../../escape.ipynb"
    assert Job.from_wire(wire, other).notebook.parent == other  # a name, never a path


def _workers_below_us(besides: frozenset[int] = frozenset()) -> list[int]:
    """This test's grading workers: those of the session's default pool (an earlier test graded through it)
    live on until the session ends, and are passed in ``besides``. Workers are our own children; a kernel
    a worker is forking shows the worker's command line until it execs, and is not counted."""
    found = []
    for pid in children(os.getpid()):
        try:
            if b"autograder.executor.worker" in Path(f"/proc/{pid}/cmdline").read_bytes() and pid not in besides:
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_a_worker_grades_job_after_job_and_one_that_overran_is_replaced(toy, tmp_path):
    good, slow = tmp_path / "good.ipynb", tmp_path / "slow.ipynb"
    nbformat.write(solved(toy), good)
    nbformat.write(replaced(solved(toy), "scale", "import time\ntime.sleep(600)\n"), slow)
    pids = []
    # A large parent (a site that ran for a while, a test session): Linux hands its peak memory down to the
    # worker's getrusage across fork and exec, which once made every worker retire after its first job.
    ballast = np.ones(1_200_000_000 // 8)
    del ballast
    before = frozenset(_workers_below_us())

    def graded(ex, job):
        future = ex.submit(job)
        deadline = time.time() + 60
        while not ex.jobs()[0].where and time.time() < deadline:
            time.sleep(0.02)
        pids.append(ex.jobs()[0].where)
        return future.result(timeout=120)

    with LocalExecutor(workers=1) as ex:
        first, second = graded(ex, _job(toy, good, "a")), graded(ex, _job(toy, good, "b"))
        overran = graded(ex, _job(toy, slow, "slow", time_limit=8))
        third = graded(ex, _job(toy, good, "c"))
        assert len(_workers_below_us(before)) == 1  # idle, waiting for the next job
    assert first.score == second.score == third.score == first.max_score > 0
    assert overran.status == "incomplete" and overran.reasons == ["the grader gave up after 8 s"]
    assert pids[0] == pids[1] == pids[2] != pids[3]  # the same worker until it overran; then a fresh one
    assert _workers_below_us(before) == []  # close() ended every worker


def test_warm_up_starts_the_workers_before_the_first_job(toy, tmp_path):
    path = tmp_path / "a.ipynb"
    nbformat.write(solved(toy), path)
    before = frozenset(_workers_below_us())
    with LocalExecutor(workers=2, kernels_ahead=1) as ex:
        ex.warm_up(_job(toy, path, "warm"))
        deadline = time.time() + 60
        while len(_workers_below_us(before)) < 2 and time.time() < deadline:
            time.sleep(0.1)
        assert len(_workers_below_us(before)) == 2
        # each keeps a kernel started ahead, in a folder with no notebook yet
        deadline = time.time() + 60
        while len(_kernels_below_us()) < 2 and time.time() < deadline:
            time.sleep(0.1)
        assert [busy for busy in _kernels_below_us().values()] == [False, False]
        result = ex.submit(_job(toy, path, "first")).result(timeout=120)
    assert result.score == result.max_score
    assert _workers_below_us(before) == [] and _kernels_below_us() == {}


def _kernels_below_us() -> dict[int, bool]:
    """Kernel pid -> whether its folder holds a notebook (a kernel started ahead has none yet)."""
    found = {}
    for pid in descendants(os.getpid()):
        try:
            if b"ipykernel_launcher" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found[pid] = (Path(f"/proc/{pid}/cwd") / "submission.ipynb").exists()
        except OSError:
            continue
    return found


@pytest.mark.parametrize("priority", [Priority.IDLE, pytest.param(Priority.LOW, marks=pytest.mark.slow)])
def test_workers_and_their_kernels_run_below_us_when_asked(toy, tmp_path, priority):
    path = tmp_path / "a.ipynb"
    nbformat.write(solved(toy), path)
    before = frozenset(_workers_below_us())
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    with LocalExecutor(workers=1, kernels_ahead=1, priority=priority) as ex:
        ex.warm_up(_job(toy, path, "warm"))
        deadline = time.time() + 60
        while not (_workers_below_us(before) and _kernels_below_us()) and time.time() < deadline:
            time.sleep(0.1)
        [worker] = _workers_below_us(before)
        kernels = list(_kernels_below_us())
        assert kernels
        if priority == Priority.IDLE:  # the scheduling class, inherited by the kernels; nice unchanged
            assert {os.sched_getscheduler(pid) for pid in [worker, *kernels]} == {os.SCHED_IDLE}
        else:
            assert {os.sched_getscheduler(pid) for pid in [worker, *kernels]} == {os.SCHED_OTHER}
            assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in [worker, *kernels]} == {min(ours + 10, 19)}
        result = ex.submit(_job(toy, path, "first")).result(timeout=120)
    assert result.score == result.max_score
