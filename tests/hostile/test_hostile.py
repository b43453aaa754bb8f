"""Every attack of ``attacks.py``, an honest blank and the solution of the toy assignment (numpy only), graded
together by one sandboxed batch.

What an instructor would check after grading a class with cheaters in it: the batch finished, everyone has
a result, the solution got full marks, no attack got more than handing in the blank notebook, tampering is
reported, the gradebook holds exactly the results, and nothing outside the output folder changed (no
solution, reference value or helper module was rewritten, no process of a sandbox survived, no working
folder was left behind). The attacks need no TensorFlow, so the whole corpus runs on the toy in the fast
tier; ``test_hostile_tf.py`` (slow) grades a few of them against tf_basics with TensorFlow in the kernel.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import attacks  # noqa: E402
import harness  # noqa: E402

from autograder import course  # noqa: E402
from autograder.batch.batch import GRADEBOOK, GRADES_CSV, RESULTS  # noqa: E402
from autograder.grading import core, pipeline, records, sandbox  # noqa: E402
from autograder.grading.limits import Limits  # noqa: E402
from autograder.grading.result import Code  # noqa: E402
from tests import toy_course  # noqa: E402

pytestmark = pytest.mark.timeout(600)

# Small limits keep the batch short: an attack that never returns costs one worker the notebook timeout,
# twice (the graded run and the run without hidden tests that explains its failed visible checks). The toy
# runs in about a second; the timeouts leave room for a loaded machine.
NOTEBOOK_TIMEOUT = 20
# More workers than cores: the sleeping attacks (the infinite loop) and kernel start-up waits overlap with the
# others' work (measured here under other jobs' load: 106 s with 2 workers, 77-98 s with 4).
WORKERS = 4
LIMITS = ["--cell-timeout", "5", "--notebook-timeout", str(NOTEBOOK_TIMEOUT), "--memory-mb", "512", "--max-processes", "64"]
# Attacks that need the disk or the network: without the sandbox they get full marks (positive control).
NEEDS_SANDBOX = ["read_solution_notebook", "read_reference_values", "network_download"]
LYING = ["lying_float", "lying_ndarray", "lying_dict"]
# Codes of a check whose test cell never recorded it: the attack did not get as far as being judged.
NOT_RECORDED = {Code.RAISED, Code.NOT_RECORDED, Code.NOT_RUN, Code.CELL_TIMEOUT, Code.OUTPUT_CUT}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A private copy of the toy with its reference values, and its spec."""
    folder = toy_course.make_toy(tmp_path_factory.mktemp("course"))
    return folder, core.load_assignment(folder)


@pytest.fixture(scope="module")
def server(toy):
    with harness.serving(harness.solution_code(toy[1])) as srv:
        yield srv


def make_env(toy, out: Path, server) -> attacks.Env:
    folder, spec = toy
    return attacks.env_for(spec, json.loads(spec.reference_path.read_text()), repo=course.ROOT, out=out, solution_url=server.url)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, toy, server):
    if not sandbox.available():
        pytest.skip("the bubblewrap sandbox cannot run here")
    folder, spec = toy
    root = tmp_path_factory.mktemp("hostile")
    guarded = harness.guarded_files(spec) + [toy_course.TOY]
    return harness.sandboxed_batch(
        root,
        str(folder),
        make_env(toy, root / "out", server),
        attacks.ATTACKS,
        toy_course.blank(folder),
        toy_course.solved(folder),
        LIMITS,
        guarded,
        server,
        timeout=500,
        workers=WORKERS,
    )


def test_batch_finishes_with_a_result_for_everyone(batch):
    proc = batch["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    n = len(attacks.ATTACKS) + len(harness.HONEST)
    assert f"graded {n} of {n} notebooks of toy" in proc.stdout
    assert set(batch["results"]) == set(attacks.ATTACKS) | harness.HONEST


def test_solution_gets_full_marks_in_the_same_batch(batch, toy):
    result = batch["results"]["solution"]
    assert result["score"] == result["max_score"] == toy[1].max_score == 10
    assert result["status"] == "graded" and not result["tampering"]


def test_blank_scores_nothing(batch):
    assert batch["results"]["honest_blank"]["score"] == 0


def _known_limit(name):
    reason = "records the public expected value of visible checks, as hard-coding would (see attacks.VISIBLE_FORGERY)"
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason)) if name in attacks.VISIBLE_FORGERY else name


@pytest.mark.parametrize("attack", [_known_limit(n) for n in sorted(attacks.ATTACKS)])
def test_attack_scores_no_more_than_the_blank(batch, attack):
    harness.assert_no_more_than_the_blank(batch["results"], attack)


@pytest.mark.parametrize("attack", sorted(attacks.ATTACKS))
def test_attack_passes_no_hidden_check(batch, attack):
    harness.assert_no_hidden_check_passed(batch["results"][attack])


@pytest.mark.parametrize("attack", sorted(attacks.TAMPERING))
def test_tampering_is_reported(batch, toy, attack):
    notes = batch["results"][attack]["tampering"]
    # every test cell was touched, so every one of them is named
    for grade_id in (g.grade_id for g in toy[1].groups):
        assert any(note.startswith(grade_id) or grade_id in note for note in notes), (grade_id, notes)


def test_code_attacks_are_not_called_tampering_of_cells(batch):
    # Cheating from inside the code leaves the instructor's cells alone: no more notes than the blank gets
    # (an extra plain cell is noted by nothing; the blank has none unless its release is out of date).
    blank = set(batch["results"]["honest_blank"]["tampering"])
    for name in set(attacks.ATTACKS) - attacks.TAMPERING:
        assert set(batch["results"][name]["tampering"]) <= blank, name


def test_runaway_submissions_are_stopped_with_a_reason(batch):
    results = batch["results"]
    assert results["infinite_loop"]["status"] == "incomplete"
    assert any(r["code"] == "notebook_timeout" and f"{NOTEBOOK_TIMEOUT} s" in r["text"] for r in results["infinite_loop"]["reasons"]), (
        results["infinite_loop"]["reasons"]
    )
    # os._exit ends the kernel; kill(-1, 9) spares the caller on Linux and finds nothing else of its uid
    assert results["os_exit"]["status"] == "incomplete"
    assert any(r["code"] == "kernel_died" for r in results["os_exit"]["reasons"]), results["os_exit"]["reasons"]
    for flood in ("output_flood", "display_update_flood"):
        assert any(r["code"] == "output_cut" for r in results[flood]["reasons"]), results[flood]["reasons"]


@pytest.mark.parametrize("attack", LYING)
def test_lying_arithmetic_is_judged_as_the_plain_numbers_it_holds(batch, attack):
    # The lying objects got through the recorder (every check has a record) and earned nothing: records hold
    # plain numbers, judged outside the kernel, so no lying operator ever runs on them.
    checks = harness.checks_of(batch["results"][attack])
    assert [c["name"] for c in checks if c["code"] in NOT_RECORDED] == []
    assert [c["name"] for c in checks if c["points"]] == []


def test_right_shapes_alone_earn_nothing(batch, toy):
    # patched_isinstance makes its fake pass for an ndarray of the right shape: every structural check of the
    # toy recorded the right answer, and each one is held back because no value check of its group passed.
    checks = {c["name"]: c for c in harness.checks_of(batch["results"]["patched_isinstance"])}
    structural = [c.name for c in toy[1].checks() if c.structural]
    assert structural
    for name in structural:
        assert checks[name]["code"] == Code.NEEDS_VALUE_CHECK and checks[name]["points"] == 0, checks[name]
    assert batch["results"]["patched_isinstance"]["score"] == 0


@pytest.mark.parametrize("attack", ["display_update_test_cell", "display_update_flood"])
def test_display_updates_change_no_record(batch, attack):
    # The placeholders the functions showed inside the test cells stayed placeholders: every check ends as in
    # the blank, whose functions raise at the same place.
    codes = {c["name"]: c["code"] for c in harness.checks_of(batch["results"][attack])}
    blank = {c["name"]: c["code"] for c in harness.checks_of(batch["results"]["honest_blank"])}
    assert codes == blank


def test_deep_folder_tree_costs_no_later_submission(batch):
    # deep_folder_tree is graded before most of the class (submissions go in name order; "solution" comes
    # well after it): they all have a result and the solution full marks (above), and no working folder of
    # any submission, the tree's included, is left in the batch's temporary folder.
    assert sorted(batch["results"]).index("deep_folder_tree") < sorted(batch["results"]).index("solution")
    assert [p.name for p in batch["tmp"].iterdir() if p.name.startswith("ag-")] == []


def test_gradebook_has_exactly_the_results(batch):
    from nbgrader.api import Gradebook

    results = batch["results"]
    with Gradebook(f"sqlite:///{batch['out'] / GRADEBOOK}", course_id="course") as gb:
        students = sorted(s.id for s in gb.students)
        submissions = gb.assignment_submissions("toy")
        scores = {s.student_id: s.score for s in submissions}
        assert len(submissions) == len(scores)  # one submission per student
    assert students == sorted(results) == sorted(scores)
    for student, result in results.items():
        assert scores[student] == pytest.approx(result["score"]), student
    assert not (batch["out"] / RESULTS / "ghost.json").exists()


def test_grades_csv_has_one_row_per_student(batch):
    import csv

    rows = list(csv.DictReader((batch["out"] / GRADES_CSV).open()))
    assert sorted(r["student"] for r in rows) == sorted(batch["results"])
    for row in rows:
        assert float(row["total"]) == pytest.approx(batch["results"][row["student"]]["score"])


def test_nothing_outside_the_output_folder_changed(batch):
    harness.assert_files_unchanged_and_no_download(batch)


def test_no_sandbox_process_survives(batch):
    harness.assert_no_sandbox_process_survives(batch)


def test_disk_and_network_attacks_work_without_the_sandbox(tmp_path, toy, server):
    """Positive control: the same notebooks, graded with --unsafe, get full marks, so the attacks are real
    and their zero in the sandboxed batch is the sandbox's doing."""
    folder, spec = toy
    out = tmp_path / "out"
    harness.write_class(tmp_path / "subs", make_env(toy, out, server), NEEDS_SANDBOX, toy_course.blank(folder))
    proc = harness.grade(str(folder), tmp_path / "subs", out, LIMITS, "--unsafe", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = harness.read_results(out)
    for name in NEEDS_SANDBOX:
        assert results[name]["score"] == results[name]["max_score"] == 10, (name, results[name])


def test_display_updates_keep_the_kept_output_bounded(toy, tmp_path):
    """The notebook the grader keeps after the display attacks: test cells hold no record (their placeholders
    were never rewritten) and the whole kept output stays within the notebook's output cap, though the flood
    sent 100 MB of updates."""
    folder, spec = toy
    limits = dataclasses.replace(
        Limits(), cell_timeout=5, notebook_timeout=NOTEBOOK_TIMEOUT, max_output_kb=256, max_notebook_output_kb=1024
    )
    env = attacks.env_for(
        spec, json.loads(spec.reference_path.read_text()), repo=course.ROOT, out=tmp_path / "out", solution_url="http://127.0.0.1:9/"
    )
    steps = ("read", "restore", "prepare", "execute", "collect")
    for name in ("display_update_test_cell", "display_update_flood"):
        # Unsandboxed: these two only display; the caps are the runner's, the same inside the sandbox (the
        # batch above grades both sandboxed and finds every check as in the blank).
        state = core.make_state(attacks.build(name, toy_course.blank(folder), env), spec, limits=limits, sandbox=False)
        state = pipeline.run(state, steps)
        assert state.outcome.status == "ok", (name, state.outcome)
        test_cells = [c for c in state.nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        assert len(test_cells) == len(spec.groups)
        for cell in test_cells:
            assert records.records_in(cell) == [], (name, cell.outputs)
            assert "yyyy" not in json.dumps(cell.outputs), name
        kept = sum(len(json.dumps(o)) for c in state.nb.cells for o in c.get("outputs", []))
        assert kept <= (limits.max_notebook_output_kb + 16) * 1024, (name, kept)
        assert state.collected and all(c.value is None for c in state.collected.values()), name
