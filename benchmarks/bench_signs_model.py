"""Time the signs_model assignment: the full training run, grading one submission, fast vs plain loop.

Run from the repository root (needs the built SIGNS files, `autograder data build`):

    .venv/bin/python benchmarks/bench_signs_model.py              # everything
    .venv/bin/python benchmarks/bench_signs_model.py --no-grade   # skip the grade() timing

It prints:
1. the wall and CPU time of grading the source notebook with `grade()` (sandboxed unless --unsafe);
2. the wall and CPU time of `model(...)` with the solution on all 1080 training images for 1 epoch (the fixed
   cost of tracing and compiling) and for --epochs epochs (default 1500, the notebook's full run), using the
   notebook's own cells;
3. the epoch costs of the fast loop and of a plain eager loop (one Python call per mini-batch) on the same
   mini-batches, on the first --subset training images for --plain-epochs epochs, and their difference.

Grading runs first, in its own kernel, before this process imports TensorFlow, so that only one
TensorFlow process runs at a time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import course  # noqa: E402

NOTEBOOK = course.SOURCE_DIR / "signs_model" / "signs_model.ipynb"
CELLS = ("imports", "load_data", "prepare_data", "initialize_parameters", "forward_propagation", "compute_cost",
         "training_loop", "model")


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def bench_grade(unsafe: bool) -> None:
    from autograder.grading import core

    result, wall, _ = timed(lambda: core.grade(NOTEBOOK, "signs_model", sandbox=not unsafe))
    print(f"grade(): {result.score:g}/{result.max_score:g} ({result.status}), wall {wall:.1f} s "
          f"({'no sandbox' if unsafe else 'sandboxed'}; kernel start, TensorFlow import, all test cells)")


def notebook_namespace() -> dict:
    import nbformat

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(course.STUDENT_HELPERS))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells if c.cell_type == "code"}
    ns: dict = {}
    for grade_id in CELLS:
        exec(compile(by_id[grade_id], f"<signs_model:{grade_id}>", "exec"), ns)
    return ns


def plain_eager_costs(ns, X, Y, num_epochs: int, size: int = 32) -> list[float]:
    """The same training as model(), written as the straightforward eager loop."""
    import numpy as np

    tf = ns["tf"]
    params = ns["initialize_parameters"]()
    variables = [params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
    optimizer = tf.keras.optimizers.Adam(0.0001)
    costs = []
    for epoch in range(num_epochs):
        batch_costs = []
        for idx in ns["mini_batch_indices"](X.shape[1], size, 4 + epoch):
            with tf.GradientTape() as tape:
                cost = ns["compute_cost"](ns["forward_propagation"](tf.constant(X[:, idx]), params), tf.constant(Y[:, idx]))
            optimizer.apply_gradients(zip(tape.gradient(cost, variables), variables))
            batch_costs.append(float(cost))
        costs.append(float(np.mean(batch_costs)))
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1500, help="epochs of the full run (default 1500)")
    parser.add_argument("--subset", type=int, default=256, help="training images for the fast-vs-plain comparison")
    parser.add_argument("--plain-epochs", type=int, default=101, help="epochs of the fast-vs-plain comparison")
    parser.add_argument("--no-grade", action="store_true", help="skip timing grade()")
    parser.add_argument("--unsafe", action="store_true", help="grade without the sandbox")
    args = parser.parse_args()
    if not (course.datasets_dir() / "train_signs.h5").is_file() and not os.environ.get("COURSE_DATA_DIR"):
        print("The SIGNS files are missing: run `autograder data build` first.", file=sys.stderr)
        return 1

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (other processes slow this down)")
    if not args.no_grade:
        bench_grade(args.unsafe)

    import numpy as np

    ns, wall, _ = timed(notebook_namespace)
    print(f"import TensorFlow, load and prepare SIGNS: {wall:.1f} s")
    X, Y = ns["X_train"], ns["Y_train"]

    # One epoch costs little; this is mostly the fixed price of every model() call (tracing, XLA compilation).
    _, wall, cpu = timed(lambda: ns["model"](X, Y, X, Y, num_epochs=1, print_cost=False))
    print(f"model() for 1 epoch: wall {wall:.1f} s, CPU {cpu:.1f} s (tracing and XLA compilation, paid once per run)")
    (_, costs), wall, cpu = timed(lambda: ns["model"](X, Y, ns["X_test"], ns["Y_test"], num_epochs=args.epochs))
    print(f"full run: {args.epochs} epochs on {X.shape[1]} images: wall {wall:.1f} s, CPU {cpu:.1f} s "
          f"({wall / args.epochs * 1000:.1f} ms per epoch, tracing and XLA compilation included)")
    if args.epochs > 100:
        print(f"full run: cost after epoch 100 = {costs[100]:.6f}, after the last epoch = {costs[-1]:.6f}")

    Xs, Ys = X[:, : args.subset], Y[:, : args.subset]
    (_, fast), fast_wall, _ = timed(lambda: ns["model"](Xs, Ys, Xs, Ys, num_epochs=args.plain_epochs, print_cost=False))
    plain, plain_wall, _ = timed(lambda: plain_eager_costs(ns, Xs, Ys, args.plain_epochs))
    fast, plain = np.asarray(fast), np.asarray(plain)
    last = args.plain_epochs - 1
    print(f"{args.subset} images, {args.plain_epochs} epochs: fast loop {fast_wall:.1f} s, plain eager loop {plain_wall:.1f} s")
    print(f"  epoch 0:    fast {fast[0]:.7f}  plain {plain[0]:.7f}")
    print(f"  epoch {last}:  fast {fast[last]:.7f}  plain {plain[last]:.7f}")
    print(f"  largest relative difference over all epochs: {np.max(np.abs(fast - plain) / np.abs(plain)):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
