"""Write the demo submissions that ``make all`` grades (run again after changing an assignment).

Four students per assignment, made from the released notebook the way students make them:

* ``alice``   fills in every function correctly (the solution code);
* ``bob``     gets some right and makes classic mistakes in the others;
* ``carol``   hands in a notebook whose code crashes the kernel halfway (``os._exit``);
* ``mallory`` tries to cheat: reads the solutions and reference values from disk, patches numpy and the
  checker, forges records and edits a test cell's points;
* ``wei``     works in the Chinese notebook (``<name>.zh.ipynb``) and makes bob's mistakes: her feedback is in
  Chinese.

Usage: ``.venv/bin/python demo/build_demo.py``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

# Mistakes for bob, by assignment and solution cell (grade_id). Everything else bob answers correctly.
BOB_MISTAKES = {
    "tf_basics": {
        "sigmoid": "def sigmoid(z):\n    z = tf.cast(z, tf.float32)\n    return 1 / (1 + tf.exp(z))\n",
        "one_hot_matrix": "def one_hot_matrix(labels, C):\n    return tf.one_hot(labels, C, axis=-1)\n",
    },
    "signs_model": {
        "compute_cost": (
            "def compute_cost(Z3, Y):\n"
            "    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=tf.transpose(Y), "
            "logits=tf.transpose(Z3)))\n"
        ),
    },
}

CRASH = "import os\nos._exit(3)  # the kernel dies here\n"

CHEAT_CELL = """# Everything a cheater might try from inside the notebook.
import glob, json, os
import numpy as np
guesses = glob.glob("/work/*/source_solutions/*/*") + glob.glob("/home/*/*/source_solutions/*/*")
for path in guesses + ["/work/main/source_solutions/tf_basics/reference.json", "../../grading/gradebook.db"]:
    try:
        print("read", path, len(open(path).read()))
    except OSError as exc:
        print("blocked", path, exc)
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
import selfcheck
selfcheck.check = lambda *a, **k: True
from IPython.display import display
for name in ("sigmoid.visible_scalar", "model.cost_epoch_100"):
    display({selfcheck.MIME: {"name": name, "value": selfcheck.encode(0.0)}}, raw=True)
"""


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _solutions(source) -> dict[str, str]:
    """The source's solution cells, without the nbgrader markers."""
    out = {}
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln]
            out[meta["grade_id"]] = "\n".join(lines) + "\n"
    return out


def student(released, answers: dict[str, str]):
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in answers and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = answers[gid]
    return nb


def build(name: str) -> None:
    released = nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(ROOT / "source_solutions" / name / f"{name}.ipynb", as_version=4)
    correct = _solutions(source)
    out = ROOT / "demo" / name
    out.mkdir(parents=True, exist_ok=True)

    nbformat.write(student(released, correct), out / "alice.ipynb")
    nbformat.write(student(released, {**correct, **BOB_MISTAKES.get(name, {})}), out / "bob.ipynb")

    carol = student(released, correct)
    ids = [i for i, c in enumerate(carol.cells) if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    if not ids:
        raise SystemExit(f"{name}: the released notebook has no solution cells")
    carol.cells[ids[len(ids) // 2]].source += "\n" + CRASH
    nbformat.write(carol, out / "carol.ipynb")

    mallory = student(released, {})
    first_solution = ids[0]
    cheat = nbformat.v4.new_code_cell(CHEAT_CELL)
    if mallory.nbformat_minor < 5:
        cheat.pop("id", None)  # cell ids arrived in nbformat 4.5; keep the released notebook's format
    else:
        cheat["id"] = "cheat"  # a fixed id, so that rebuilding the demo changes nothing
    mallory.cells.insert(first_solution, cheat)
    for cell in mallory.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            meta["points"] = 100  # edited metadata: must never raise the score
            cell.source = "pass\n"
            break
    nbformat.write(mallory, out / "mallory.ipynb")
    chinese = ROOT / "assignments" / name / f"{name}.zh.ipynb"
    if chinese.is_file():
        zh = nbformat.read(chinese, as_version=4)
        nbformat.write(student(zh, {**correct, **BOB_MISTAKES.get(name, {})}), out / "wei.ipynb")
    print(f"wrote {out}/{{alice,bob,carol,mallory,wei}}.ipynb")


if __name__ == "__main__":
    for name in ("tf_basics", "signs_model"):
        if (ROOT / "assignments" / name / f"{name}.ipynb").exists():
            build(name)
