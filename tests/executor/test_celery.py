"""The Celery executor (issue 14): a real redis-server, real `autograder worker`s, real batches.

Two workers with folders of their own stand for two machines. What is checked is what an instructor
would look at: the results folder, autograder-grades.csv and the gradebook, and what the batch says.
"""

from __future__ import annotations

import csv
import json
import shutil
import time

import nbformat
import pytest

from autograder.executor.celery import CeleryExecutor, grade_wire
from autograder.executor.job import Job, State
from autograder.grading import fingerprint as fp_mod
from autograder.grading import spec as spec_mod
from autograder.grading.limits import Limits
from autograder.grading.result import Why
from tests.executor import cluster as cl
from tests.toy_course import make_toy, replaced, solved

WRONG_SCALE = "def scale(x, k):\n    return x + k\n"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy(tmp_path_factory.mktemp("celery-toy"))


def _class(toy, folder, n: int) -> dict[str, float]:
    """``n`` toy submissions in ``folder``: every third one wrong in scale; student -> expected score."""
    folder.mkdir(parents=True, exist_ok=True)
    full = spec_mod.load(toy).max_score
    expected = {}
    for i in range(n):
        student = f"s{i:02d}"
        nb = solved(toy) if i % 3 else replaced(solved(toy), "scale", WRONG_SCALE)
        nbformat.write(nb, folder / f"{student}.ipynb")
        expected[student] = full if i % 3 else full - 3  # scale carries 3 points
    return expected


def _outputs(out, assignment="toy"):
    """(records, CSV rows, gradebook scores) of a batch's output folder."""
    from nbgrader.api import Gradebook

    records = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    rows = list(csv.DictReader((out / "autograder-grades.csv").open()))
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="course") as gb:
        graded = [(s.student_id, s.score) for s in gb.assignment_submissions(assignment)]
    return records, rows, graded


def _assert_once_each(out, expected: dict[str, float]) -> None:
    records, rows, graded = _outputs(out)
    assert sorted(records) == sorted(expected)
    assert {s: r["result"]["score"] for s, r in records.items()} == pytest.approx(expected)
    assert all(r["result"]["status"] == "graded" for r in records.values())
    assert sorted(r["student"] for r in rows) == sorted(expected)  # one row each, none twice
    assert {r["student"]: float(r["total"]) for r in rows} == pytest.approx(expected)
    assert sorted(s for s, _ in graded) == sorted(expected)
    assert dict(graded) == pytest.approx(expected)


def _two_machines(cluster, toy):
    return [cluster.worker(name, cl.copy_course(toy, cluster.folder / f"machine-{name}")) for name in ("a", "b")]


# ------------------------------------------------------------------------------------ without a broker


def test_a_worker_refuses_a_job_of_another_course_version(toy, tmp_path):
    mine = cl.copy_course(toy, tmp_path / "machine")
    toml = mine / "toy" / "grading.toml"
    toml.write_text(toml.read_text().replace("Draw the exponent uniformly", "Draw the exponent evenly"))
    nb = tmp_path / "s.ipynb"
    nbformat.write(solved(toy), nb)
    coordinator = fp_mod.of_assignment(spec_mod.load(toy)).to_dict()
    wire = Job(job_id="s", assignment=str(toy), notebook=nb, sandbox=False, fingerprint=coordinator).to_wire()
    answer = grade_wire(wire, mine, "b@host")
    assert answer == {"refused": {"worker": "b@host", "differences": ["assignment/grading.toml changed"]}}
    missing = grade_wire({**wire, "assignment": "no_such"}, mine, "b@host")
    assert missing["refused"]["worker"] == "b@host" and "no usable assignment 'no_such'" in missing["refused"]["differences"][0]


def test_a_worker_with_the_same_files_grades_the_job_by_name(toy, tmp_path):
    mine = cl.copy_course(toy, tmp_path / "machine")
    nb = tmp_path / "s.ipynb"
    nbformat.write(replaced(solved(toy), "scale", WRONG_SCALE), nb)
    coordinator = fp_mod.of_assignment(spec_mod.load(toy)).to_dict()
    wire = Job(job_id="s", assignment=str(toy), notebook=nb, sandbox=False, fingerprint=coordinator, label="up/s.ipynb").to_wire()
    wire["assignment"] = "toy"  # what the coordinator sends: a name, found in the worker's course folder
    result = grade_wire(wire, mine, "a@host")
    assert result["submission"] == "up/s.ipynb" and result["status"] == "graded"
    assert result["score"] == spec_mod.load(toy).max_score - 3


# ------------------------------------------------------------------------------------ with a broker
# Each test is bounded (pytest-timeout raises in the test, so the cluster's finalizer still runs).


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_worker_killed_mid_job_loses_nothing_and_duplicates_nothing(cluster, toy, tmp_path):
    a, b = _two_machines(cluster, toy)
    expected = _class(toy, tmp_path / "subs", 6)
    out = tmp_path / "out"
    batch = cl.start_grade(toy, [tmp_path / "subs"], out, cluster.broker, ["--unsafe"], log=tmp_path / "batch.log")
    cluster.others.append(batch)
    deadline = time.time() + 120
    while not a.grading_processes() and time.time() < deadline and batch.poll() is None:
        time.sleep(0.05)
    assert a.grading_processes(), "worker a never started a job"
    a.kill()  # the machine vanishes: its Celery process, pool, grading process and kernel
    assert batch.wait(timeout=300) == 0, (tmp_path / "batch.log").read_text()[-3000:]
    _assert_once_each(out, expected)
    assert b.alive()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_broker_restarting_mid_batch_loses_nothing(cluster, toy, tmp_path):
    _two_machines(cluster, toy)
    expected = _class(toy, tmp_path / "subs", 6)
    out = tmp_path / "out"
    batch = cl.start_grade(toy, [tmp_path / "subs"], out, cluster.broker, ["--unsafe"], log=tmp_path / "batch.log")
    cluster.others.append(batch)
    deadline = time.time() + 180
    while not list((out / "results").glob("*.json")) and time.time() < deadline and batch.poll() is None:
        time.sleep(0.1)
    done_before = len(list((out / "results").glob("*.json")))
    assert 0 < done_before < len(expected), "the batch was not under way when the broker stopped"
    cluster.redis.stop()
    time.sleep(4)
    assert batch.poll() is None  # the coordinator waits for the broker
    cluster.redis.start()
    assert batch.wait(timeout=300) == 0, (tmp_path / "batch.log").read_text()[-3000:]
    _assert_once_each(out, expected)
    # the workers saw the broker go (the outage happened while they worked) and came back to it
    assert all("Connection to broker lost" in w.log.read_text() for w in cluster.workers)
    assert all(w.alive() for w in cluster.workers)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_worker_with_another_grading_toml_refuses_and_the_batch_finishes_on_the_other(cluster, toy, tmp_path):
    cluster.worker("a", cl.copy_course(toy, cluster.folder / "machine-a"))
    course_b = cl.copy_course(toy, cluster.folder / "machine-b")
    toml = course_b / "toy" / "grading.toml"
    toml.write_text(toml.read_text().replace("Draw the exponent uniformly", "Draw the exponent evenly"))
    b = cluster.worker("b", course_b)
    expected = _class(toy, tmp_path / "subs", 4)
    proc = cl.grade(toy, [tmp_path / "subs"], tmp_path / "out", cluster.broker, ["--unsafe"], timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_once_each(tmp_path / "out", expected)
    assert f"worker {b.hostname} refuses jobs of toy" in proc.stderr
    assert "assignment/grading.toml changed" in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_when_every_worker_refuses_nothing_is_stored_and_the_batch_says_why(cluster, toy, tmp_path):
    course_b = cl.copy_course(toy, cluster.folder / "machine-b")
    toml = course_b / "toy" / "grading.toml"
    toml.write_text(toml.read_text().replace("Draw the exponent uniformly", "Draw the exponent evenly"))
    b = cluster.worker("b", course_b)
    _class(toy, tmp_path / "subs", 3)
    proc = cl.grade(toy, [tmp_path / "subs"], tmp_path / "out", cluster.broker, ["--unsafe"], timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "3 submissions were not graded" in proc.stderr
    assert f"{b.hostname}: assignment/grading.toml changed" in proc.stderr
    assert not list((tmp_path / "out" / "results").glob("s*.json"))  # no zero stands in for a grade


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_job_over_its_time_limit_is_a_zero_with_the_reason_and_the_worker_lives_on(cluster, toy, tmp_path):
    a = cluster.worker("a", cl.copy_course(toy, cluster.folder / "machine-a"))
    slow, good = tmp_path / "slow.ipynb", tmp_path / "good.ipynb"
    nbformat.write(replaced(solved(toy), "scale", "import time\ntime.sleep(600)\n"), slow)
    nbformat.write(solved(toy), good)
    fingerprint = fp_mod.of_assignment(spec_mod.load(toy)).to_dict()

    def job(path, job_id, **kw):
        return Job(job_id=job_id, assignment=str(toy), notebook=path, sandbox=False, fingerprint=fingerprint, **kw)

    ex = CeleryExecutor(cluster.broker, poll_interval=0.2)
    try:
        late = ex.submit(job(slow, "slow", limits=Limits(cell_timeout=600, notebook_timeout=600), time_limit=8))
        deadline = time.time() + 60
        while not any(s.state == State.RUNNING for s in ex.jobs()) and time.time() < deadline:
            time.sleep(0.1)
        assert [(s.job_id, s.where) for s in ex.jobs() if s.state == State.RUNNING] == [("slow", a.hostname)]
        result = late.result(timeout=120)
        assert result.status == "incomplete" and result.score == 0
        assert result.reasons == ["the grader gave up after 8 s"] and result.reasons[0].code == Why.WORKER_LOST
        after = ex.submit(job(good, "good")).result(timeout=120)
        assert after.score == after.max_score > 0  # the same worker grades the next one
        assert ex.jobs() == []
        ex.close()
    finally:
        ex.stop()  # nothing left to stop unless an assertion failed
    assert a.alive() and not a.grading_processes()
    assert "was graded already" not in a.log.read_text()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_stop_ends_the_running_job_on_its_worker_and_drops_the_queued_ones(cluster, toy, tmp_path):
    a = cluster.worker("a", cl.copy_course(toy, cluster.folder / "machine-a"))
    slow, good = tmp_path / "slow.ipynb", tmp_path / "good.ipynb"
    nbformat.write(replaced(solved(toy), "scale", "import time\ntime.sleep(600)\n"), slow)
    nbformat.write(solved(toy), good)
    long = Limits(cell_timeout=600, notebook_timeout=600)
    ex = CeleryExecutor(cluster.broker, poll_interval=0.2)
    try:
        running = ex.submit(Job(job_id="slow", assignment=str(toy), notebook=slow, sandbox=False, limits=long))
        queued = [ex.submit(Job(job_id=f"q{i}", assignment=str(toy), notebook=good, sandbox=False)) for i in range(2)]
        deadline = time.time() + 60
        while not a.grading_processes() and time.time() < deadline:
            time.sleep(0.1)
        while not any(s.state == State.RUNNING for s in ex.jobs()) and time.time() < deadline:
            time.sleep(0.1)
        assert a.grading_processes() and [s.job_id for s in ex.jobs() if s.state == State.RUNNING] == ["slow"]
    finally:
        ex.stop()
    assert running.result(timeout=5).reasons == ["the batch was interrupted"]
    assert running.result().reasons[0].code == Why.INTERRUPTED
    assert all(f.cancelled() for f in queued)
    assert ex.jobs() == []
    deadline = time.time() + 60
    while a.grading_processes() and time.time() < deadline:
        time.sleep(0.2)
    assert not a.grading_processes(), "the interrupted job's worker process was not ended"
    assert a.alive()
    with CeleryExecutor(cluster.broker, poll_interval=0.2) as again:  # the worker takes new jobs
        result = again.submit(Job(job_id="next", assignment=str(toy), notebook=good, sandbox=False)).result(timeout=120)
    assert result.score == result.max_score
    graded = [line for line in a.log.read_text().splitlines() if "succeeded in" in line]
    assert not [line for line in graded if "grade[q" in line], "a revoked job was graded"


# ------------------------------------------------------------------------------ tf_basics, like the local executor


def _tf_basics_class(folder) -> None:
    """12 tf_basics submissions: the solution, the blank, the hard-coded one and wrong variants."""
    import copy
    import importlib.util

    from autograder import course, release

    spec = spec_mod.load("tf_basics")
    source = nbformat.read(spec.notebook_path, as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    loader = importlib.util.spec_from_file_location("tf_variants", course.ROOT / "tests/assignments/tf_basics/variants.py")
    variants = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(variants)
    released = release.released_notebook(spec.notebook_path, spec.name)

    def filled(replace):
        nb = copy.deepcopy(released)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = replace.get(gid, answers[gid])
        return nb

    wrong = [filled({gid: src}) for gid, by_name in variants.WRONG.items() for src in by_name.values()]
    kinds = [filled({}), copy.deepcopy(released), filled(variants.HARDCODED), *wrong[::3]]
    folder.mkdir(parents=True)
    for i in range(12):
        nbformat.write(kinds[i % len(kinds)], folder / f"student{i:02d}.ipynb")


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_tf_basics_over_two_machines_grades_as_the_local_executor_byte_for_byte(cluster, tmp_path):
    from autograder import course

    _tf_basics_class(tmp_path / "subs")
    local = cl.grade("tf_basics", [tmp_path / "subs"], tmp_path / "local", None, ["--workers", "2"], timeout=900)
    assert local.returncode == 0, local.stderr[-3000:]
    for name in ("a", "b"):
        machine = cluster.folder / f"machine-{name}"
        machine.mkdir(parents=True)
        shutil.copytree(course.SOURCE_DIR / "tf_basics", machine / "course" / "tf_basics")
        cluster.worker(name, machine / "course", visibility_timeout=1800)  # nothing is killed here
    remote = cl.grade("tf_basics", [tmp_path / "subs"], tmp_path / "celery", cluster.broker, timeout=900)
    assert remote.returncode == 0, remote.stderr[-3000:]
    ours, theirs = (tmp_path / d / "autograder-grades.csv" for d in ("local", "celery"))
    assert theirs.read_bytes() == ours.read_bytes()
    scores = {r["student"]: float(r["total"]) for r in csv.DictReader(ours.open())}
    assert len(scores) == 12 and len(set(scores.values())) > 2  # full marks, zeros and partial scores alike
    assert "refuses" not in remote.stderr


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_no_process_is_left_behind(cluster, toy):
    """The fixture's finalizer: a worker and the broker are gone after close()."""
    a = cluster.worker("a", cl.copy_course(toy, cluster.folder / "machine-a"))
    pid, redis_pid = a.proc.pid, cluster.redis.proc.pid
    cluster.close()
    for gone in (pid, redis_pid):
        assert not _exists(gone)


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
