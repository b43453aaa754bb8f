"""A TensorFlow smoke test of the hostile suite: a handful of attacks, the blank and the solution of tf_basics,
graded by one sandboxed batch with TensorFlow in every kernel (slow; the whole corpus runs on the toy in
``test_hostile.py``).

The attacks chosen go through what TensorFlow changes: the recorder's tensor path (``.numpy()``), builtins
patched under TensorFlow's own code, lying numbers returned where tensors are expected, and the sandbox
with the course's data folder mounted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import attacks  # noqa: E402
import harness  # noqa: E402

from autograder import course  # noqa: E402
from autograder.grading import core, sandbox  # noqa: E402
from tests import toy_course  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SMOKE = ["read_reference_values", "stack_frame_locals", "lying_float", "patched_isinstance", "display_update_test_cell"]
# The cell timeout leaves room for `import tensorflow` on a busy machine (it took over 20 s at load 15).
LIMITS = ["--cell-timeout", "60", "--notebook-timeout", "120", "--memory-mb", "2048", "--max-processes", "128"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    if not sandbox.available():
        pytest.skip("the bubblewrap sandbox cannot run here")
    spec = core.load_assignment("tf_basics")
    release_dir = course.RELEASE_DIR / spec.name
    released = nbformat.read(release_dir / spec.notebook, as_version=4)
    solved = toy_course.fill_in(released, nbformat.read(spec.notebook_path, as_version=4))
    root = tmp_path_factory.mktemp("hostile_tf")
    with harness.serving(harness.solution_code(spec)) as server:
        env = attacks.env_for(
            spec,
            json.loads(spec.reference_path.read_text()),
            repo=course.ROOT,
            out=root / "out",
            solution_url=server.url,
            release_dir=release_dir,
        )
        yield harness.sandboxed_batch(
            root, spec.name, env, SMOKE, released, solved, LIMITS, harness.guarded_files(spec), server, timeout=800
        )


def test_batch_finishes_and_the_solution_gets_full_marks(batch):
    proc, results = batch["proc"], batch["results"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(results) == set(SMOKE) | harness.HONEST
    assert results["solution"]["score"] == results["solution"]["max_score"] == 23
    assert results["solution"]["status"] == "graded" and not results["solution"]["tampering"]
    assert results["honest_blank"]["score"] == 0


@pytest.mark.parametrize("attack", SMOKE)
def test_attack_scores_no_more_than_the_blank_and_passes_no_hidden_check(batch, attack):
    harness.assert_no_more_than_the_blank(batch["results"], attack)
    harness.assert_no_hidden_check_passed(batch["results"][attack])


def test_nothing_changed_and_no_sandbox_process_survives(batch):
    harness.assert_files_unchanged_and_no_download(batch)
    harness.assert_no_sandbox_process_survives(batch)
