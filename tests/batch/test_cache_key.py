"""Issue #11, item 1: a stored result is reused only while nothing that decides its grade has changed.

The key is the submitted file plus the fingerprint of the course files, the grader and its libraries, plus
the limits; a rerun regrades exactly the submissions whose key changed and says why.
"""

from __future__ import annotations

import csv
import subprocess

import nbformat
import pytest

from autograder import config
from autograder.grading import spec as spec_mod
from tests.toy_course import blank, grade_cmd, make_toy, solved

pytestmark = pytest.mark.timeout(600)

# Right to 1e-6: passes the visible check (rtol 1e-5) but not scale.hidden (rtol 1e-7) until it is loosened.
NEARLY = "def scale(x, a):\n    return np.asarray(x, dtype=np.float64) * a * (1 + 1e-6)\n"


def stamps(results):
    return {p.stem: (p.stat().st_ino, p.stat().st_mtime_ns) for p in results.glob("*.json")}


def scores(out):
    return {r["student"]: float(r["total"]) for r in csv.DictReader((out / "autograder-grades.csv").open())}


@pytest.mark.slow
def test_a_rerun_regrades_exactly_what_changed_and_says_why(tmp_path):
    toy = make_toy(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    ann = solved(toy)
    for cell in ann.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale":
            cell.source = NEARLY
    nbformat.write(ann, subs / "ann.ipynb")
    nbformat.write(solved(toy), subs / "bob.ipynb")
    nbformat.write(blank(toy), subs / "cid.ipynb")
    out = tmp_path / "out"
    cmd = grade_cmd(toy, subs, out=out, extra=["--unsafe", "--workers", "2"])

    def run():
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    assert "toy: 3 notebooks: 3 new" in run()
    assert scores(out) == {"ann": 9, "bob": 10, "cid": 0}
    first = stamps(out / "results")

    # nothing changed: nothing is graded
    stdout = run()
    assert "toy: 3 notebooks: 3 unchanged (results kept)" in stdout and "graded 0 of 3 notebooks" in stdout
    assert stamps(out / "results") == first

    # a tolerance in grading.toml changes and one student hands in again: every result is regraded,
    # without --force, and ann's score moves
    spec_file = toy / "grading.toml"
    spec_file.write_text(spec_file.read_text().replace("rtol = 1e-7", "rtol = 1e-5", 1))
    nbformat.write(solved(toy), subs / "cid.ipynb")
    stdout = run()
    assert "toy: 3 notebooks: 2 regraded: grading.toml changed; 1 regraded: the submission changed" in stdout
    assert "graded 3 of 3 notebooks" in stdout
    assert scores(out) == {"ann": 10, "bob": 10, "cid": 10}
    second = stamps(out / "results")
    assert all(second[s] != first[s] for s in first)


def _record(key, sha="abc"):
    return {"sha256": sha, "key": key, "result": {}}


@pytest.fixture
def key(toy_copy):
    from autograder.batch import batch
    from autograder.grading import fingerprint

    (toy_copy / "reference.json").write_text('{"format": 1, "values": {}}')
    fp = fingerprint.of_assignment(spec_mod.load(toy_copy))
    return batch.batch_key(fp, config.Limits(), True)


def test_why_a_result_is_regraded(key):
    from autograder.batch import batch
    from autograder.grading import fingerprint

    assert batch.why_regrade(_record(key), "abc", key, force=False) is None
    assert batch.why_regrade(None, "abc", key, force=False) == batch.why_regrade(None, "abc", key, force=True) == "new"
    assert batch.why_regrade(_record(key), "abc", key, force=True) == "--force"
    assert batch.why_regrade(_record(key), "other", key, force=False) == "the submission changed"
    # a result of the grader before keys existed: no way to know what graded it
    assert batch.why_regrade({"sha256": "abc", "result": {}}, "abc", key, False) == "graded by an older version of the grader"
    limits = batch.batch_key(fingerprint.Fingerprint.from_dict(key["fingerprint"]), config.Limits(cell_timeout=10), False)
    assert batch.why_regrade(_record(key), "abc", limits, False) == "sandbox off (--unsafe), cell_timeout 300 -> 10"
    fp = key["fingerprint"]
    code = fingerprint.Fingerprint.build(fp["version"], {**fp["files"], "grader/grading/compare.py": "0" * 64}, fp["environment"])
    changed = batch.batch_key(code, config.Limits(), True)
    assert batch.why_regrade(_record(key), "abc", changed, False) == "the grader's code changed"
    files = {**fp["files"], "assignment/reference.json": "1" * 64, "helpers/selfcheck.py": "2" * 64}
    changed = batch.batch_key(fingerprint.Fingerprint.build(fp["version"], files, fp["environment"]), config.Limits(), True)
    assert batch.why_regrade(_record(key), "abc", changed, False) == "reference.json changed, selfcheck.py changed"
    numpy = fingerprint.Fingerprint.build(fp["version"], fp["files"], {**fp["environment"], "numpy": "0.0"})
    changed = batch.batch_key(numpy, config.Limits(), True)
    assert batch.why_regrade(_record(key), "abc", changed, False) == f"numpy {fp['environment']['numpy']} -> 0.0"
