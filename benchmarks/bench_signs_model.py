"""Time the signs_model assignment: the full training run, grading one submission, fast vs plain loop.

Run from the repository root (needs the built SIGNS files, `autograder data build`):

    .venv/bin/python benchmarks/bench_signs_model.py              # everything
    .venv/bin/python benchmarks/bench_signs_model.py --no-grade   # skip the grade() timing

It prints:
1. the wall and CPU time of grading the source notebook with `grade()` (sandboxed unless --unsafe);
2. the wall and CPU time of `model(...)` with the solution on all 1080 training images for 1 epoch (the fixed
   cost of tracing and compiling) and for --epochs epochs (default 1500, the notebook's full run), using the
   notebook's own cells;
3. the time of the solution's training step alone, in one compiled loop over mini-batches laid out in advance:
   the floor for any training loop around the student's code;
4. the epoch costs of the fast loop and of a plain eager loop (one Python call per mini-batch) on the same
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
CELLS = ("imports", "load_data", "prepare_data", "initialize_parameters", "forward_propagation", "compute_cost", "training_loop", "model")


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def bench_grade(unsafe: bool) -> None:
    from autograder.grading import core

    result, wall, _ = timed(lambda: core.grade(NOTEBOOK, "signs_model", sandbox=not unsafe))
    print(
        f"grade(): {result.score:g}/{result.max_score:g} ({result.status}), wall {wall:.1f} s "
        f"({'no sandbox' if unsafe else 'sandboxed'}; kernel start, TensorFlow import, all test cells)"
    )


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


def solution_step(ns):
    """A fresh network and Adam, and the solution's training step on them: (X_batch, Y_batch) -> mini-batch cost."""
    tf = ns["tf"]
    params = ns["initialize_parameters"]()
    variables = [params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
    optimizer = tf.keras.optimizers.Adam(0.0001)

    def step(X_batch, Y_batch):
        with tf.GradientTape() as tape:
            cost = ns["compute_cost"](ns["forward_propagation"](X_batch, params), Y_batch)
        optimizer.apply_gradients(zip(tape.gradient(cost, variables), variables))
        return cost

    return step


def plain_eager_costs(ns, X, Y, num_epochs: int, size: int = 32) -> list[float]:
    """The same training as model(), written as the straightforward eager loop."""
    import numpy as np

    tf = ns["tf"]
    step = solution_step(ns)
    costs = []
    for epoch in range(num_epochs):
        batch_costs = [
            float(step(tf.constant(X[:, idx]), tf.constant(Y[:, idx]))) for idx in ns["mini_batch_indices"](X.shape[1], size, 4 + epoch)
        ]
        costs.append(float(np.mean(batch_costs)))
    return costs


def step_alone_seconds(ns, X, Y, steps: int, size: int = 32) -> float:
    """Wall time of `steps` solution steps in one XLA-compiled loop, with the mini-batches laid out in advance.

    The mini-batches are the first training examples cut into blocks of `size` columns, each block stored as one
    contiguous (n_x, size) array, the layout the first layer's matmul reads fastest; step i takes block
    i mod (number of blocks). So each step gets a new batch, as in training, but fetching it costs one contiguous
    copy: no shuffled gather, no transpose, no epoch bookkeeping, no Python. This is the price of the student's
    own operations (forward pass, cost, gradients, Keras Adam), the floor for any loop around them. Compilation
    is excluded. (With one fixed batch the compiler prepares it once for all steps, which no real run can do.)
    """
    import numpy as np

    tf = ns["tf"]
    step = solution_step(ns)
    n_blocks = X.shape[1] // size
    X_blocks = tf.constant(np.ascontiguousarray(X[:, : n_blocks * size].reshape(X.shape[0], n_blocks, size).transpose(1, 0, 2)))
    Y_blocks = tf.constant(np.ascontiguousarray(Y[:, : n_blocks * size].reshape(Y.shape[0], n_blocks, size).transpose(1, 0, 2)))

    def loop(n):
        def body(i, total):
            return i + 1, total + step(X_blocks[i % n_blocks], Y_blocks[i % n_blocks])

        return tf.while_loop(lambda i, total: i < n, body, (tf.constant(0), tf.constant(0.0)))[1]

    compiled = tf.function(loop, jit_compile=True, autograph=False)
    compiled(tf.constant(1)).numpy()  # compile once, outside the timing
    _, wall, _ = timed(lambda: compiled(tf.constant(steps)).numpy())
    return wall


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
    fixed_cost = wall
    print(f"model() for 1 epoch: wall {wall:.1f} s, CPU {cpu:.1f} s (tracing and XLA compilation, paid once per run)")
    (_, costs), wall, cpu = timed(lambda: ns["model"](X, Y, ns["X_test"], ns["Y_test"], num_epochs=args.epochs))
    print(
        f"full run: {args.epochs} epochs on {X.shape[1]} images: wall {wall:.1f} s, CPU {cpu:.1f} s "
        f"({wall / args.epochs * 1000:.1f} ms per epoch, tracing and XLA compilation included)"
    )
    if args.epochs > 100:
        print(f"full run: cost after epoch 100 = {costs[100]:.6f}, after the last epoch = {costs[-1]:.6f}")
    steps = args.epochs * len(ns["mini_batch_indices"](X.shape[1], 32, 0))
    probe = min(steps, 10_000)
    alone = step_alone_seconds(ns, X, Y, probe) / probe * steps
    floor = alone + fixed_cost
    print(
        f"the solution's step alone (batches laid out in advance, one compiled loop): {alone:.1f} s for the "
        f"{steps} steps of the full run ({alone / steps * 1000:.3f} ms per step, measured on {probe} steps); with "
        f"the {fixed_cost:.1f} s that every model() call pays first, a loop around the step needs at least about "
        f"{floor:.1f} s; the full run took {wall / floor:.2f}x that"
    )

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
