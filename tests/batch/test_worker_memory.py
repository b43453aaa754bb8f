"""Issue #10, item 5 (the worker's part): the grader's own worker process has a memory bound, so a submission
that floods the grader's side becomes that student's result, never a crash or a hang of the batch."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import nbformat
import pytest

from autograder.grading import sandbox
from tests.toy_course import blank, grade_cmd, make_toy, solved

pytestmark = pytest.mark.timeout(600)


def with_extra(nb, after: str, source: str):
    """``nb`` with a plain code cell inserted after the cell whose grade_id is ``after``."""
    at = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return nb


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_bound_memory_caps_the_data_limit_and_leaves_the_hard_limit():
    proc = run_python(
        "import resource\n"
        "from autograder.executor.worker import bound_memory\n"
        "hard = resource.getrlimit(resource.RLIMIT_DATA)[1]\n"
        "bound_memory(0)\n"
        "assert resource.getrlimit(resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY\n"
        "bound_memory(300)\n"
        "assert resource.getrlimit(resource.RLIMIT_DATA) == (300 * 2**20, hard)\n"
        "try:\n"
        "    block = bytearray(400 * 2**20)\n"
        "except MemoryError:\n"
        "    print('refused')\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused"
    assert resource.getrlimit(resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY  # this process: untouched


def test_a_worker_out_of_memory_becomes_the_students_result():
    """A worker that dies of MemoryError (exit OUT_OF_MEMORY) or is killed becomes a result with the reason."""
    from autograder.executor import job, local

    status, reason = local.death_reason(job.OUT_OF_MEMORY, b"MemoryError", 512)
    assert status == "incomplete" and "more than its 512 MiB of memory" in reason
    status, reason = local.death_reason(-9, b"", 512)
    assert status == "incomplete" and "killed by SIGKILL" in reason and "out of memory" in reason


@pytest.mark.slow
@pytest.mark.skipif(not sandbox.available(), reason="the bubblewrap sandbox cannot run here")
def test_an_output_flood_beyond_the_workers_memory_is_that_students_result(tmp_path):
    # Sandboxed, as in production: the kernel has its own memory limit (an --unsafe kernel would inherit the
    # worker's). The runner's output caps drop what is beyond them, but a message arrives whole in the
    # worker's memory before it can be measured: one print of 150 MB costs the worker several times that.
    toy = make_toy(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    flood = solved(toy)
    for _ in range(2):
        flood = with_extra(flood, "scale_tests", "print('x' * 150_000_000)")
    nbformat.write(flood, subs / "flood.ipynb")
    nbformat.write(solved(toy), subs / "honest.ipynb")
    nbformat.write(blank(toy), subs / "blank.ipynb")
    out = tmp_path / "out"
    cmd = grade_cmd(toy, subs, out=out, extra=["--workers", "2", "--worker-memory-mb", "450"])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text())["result"] for p in (out / "results").glob("*.json")}
    assert results["honest"]["score"] == 10 and results["blank"]["score"] == 0
    flooded = results["flood"]
    assert flooded["status"] == "incomplete", flooded
    assert any(r["code"] == "grader_memory" and "450 MiB" in r["text"] for r in flooded["reasons"]), flooded["reasons"]
    assert flooded["score"] < 10
