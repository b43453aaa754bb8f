"""The given fast training loop of signs_model (the locked `training_loop` cell) against plain eager code.

The cells are taken from the source notebook and run in this process, so the test checks exactly the code
students get. Data is synthetic (fixed numpy seeds), so these tests do not need the built SIGNS files.
"""

from __future__ import annotations

import os
import sys

import nbformat
import numpy as np
import pytest

from autograder import course

pytestmark = pytest.mark.slow

NOTEBOOK = course.SOURCE_DIR / "signs_model" / "signs_model.ipynb"
CELLS = ("imports", "initialize_parameters", "forward_propagation", "compute_cost", "training_loop", "model")


@pytest.fixture(scope="module")
def nbns():
    """A namespace holding the notebook's imports, solution functions and the given training loop."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(course.STUDENT_HELPERS))
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells if c.cell_type == "code"}
        ns: dict = {}
        for grade_id in CELLS:
            exec(compile(by_id[grade_id], f"<signs_model:{grade_id}>", "exec"), ns)
        yield ns
    finally:
        sys.path.remove(str(course.STUDENT_HELPERS))


def synthetic(m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (12288, m)).astype(np.float32)
    Y = np.eye(6, dtype=np.float32)[:, rng.integers(0, 6, m)]
    return X, Y


def orders(ns, m, size, num_epochs):
    return [ns["mini_batch_indices"](m, size, 4 + e) for e in range(num_epochs)]


def test_fast_loop_matches_plain_eager_loop(nbns):
    # m = 100 with batches of 32: three full batches and a last one of 4, so both compiled paths run.
    tf = nbns["tf"]
    X, Y = synthetic(100)
    num_epochs = 4
    batches = orders(nbns, 100, 32, num_epochs)

    def setup():
        params = nbns["initialize_parameters"]()
        variables = [params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
        return params, variables, tf.keras.optimizers.Adam(0.0001)

    def make_step(params, variables, optimizer):
        def train_step(X_batch, Y_batch):
            with tf.GradientTape() as tape:
                cost = nbns["compute_cost"](nbns["forward_propagation"](X_batch, params), Y_batch)
            optimizer.apply_gradients(zip(tape.gradient(cost, variables), variables))
            return cost

        return train_step

    fast_params, fast_vars, fast_opt = setup()
    fast_costs = nbns["run_training"](make_step(fast_params, fast_vars, fast_opt), X, Y, batches, print_cost=False)

    plain_params, plain_vars, plain_opt = setup()
    plain_step = make_step(plain_params, plain_vars, plain_opt)  # eager: one Python call per mini-batch
    plain_costs = []
    for epoch_batches in batches:
        batch_costs = [float(plain_step(tf.constant(X[:, idx]), tf.constant(Y[:, idx]))) for idx in epoch_batches]
        plain_costs.append(float(np.mean(batch_costs)))

    assert len(fast_costs) == num_epochs
    np.testing.assert_allclose(fast_costs, plain_costs, rtol=1e-5, atol=1e-6)
    assert plain_costs[-1] < plain_costs[0]  # it does learn: the comparison is not between two flat lines
    for a, b in zip(fast_vars, plain_vars):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)


def test_each_epoch_visits_its_batches_in_order(nbns):
    # A train_step that only reports its batch (no training) shows which columns each step received.
    tf = nbns["tf"]
    rng = np.random.default_rng(1)
    m, size, num_epochs = 23, 5, 3
    X = np.tile(np.arange(m, dtype=np.float32), (3, 1)) + rng.uniform(0, 0.1, (3, m)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[:, rng.integers(0, 2, m)]
    batches = orders(nbns, m, size, num_epochs)
    seen = tf.Variable(tf.zeros([num_epochs * 5, size], tf.float32))
    counter = tf.Variable(0)

    def train_step(X_batch, Y_batch):
        # Record the first row of the batch (padded) so the test can read the column order back.
        row = tf.pad(X_batch[0], [[0, size - tf.shape(X_batch)[1]]])
        seen.scatter_nd_update([[counter]], [row])
        counter.assign_add(1)
        return tf.reduce_mean(X_batch) + tf.reduce_sum(Y_batch) * 0.0

    costs = nbns["run_training"](train_step, X, Y, batches, print_cost=False)
    got = seen.numpy()
    for e, epoch_batches in enumerate(batches):
        for k, idx in enumerate(epoch_batches):
            np.testing.assert_array_equal(got[e * 5 + k, : len(idx)], X[0, idx])
        expected = np.mean([X[:, idx].mean() for idx in epoch_batches])
        assert costs[e] == pytest.approx(expected, rel=1e-6)


def test_prints_every_100th_epoch(nbns, capsys):
    tf = nbns["tf"]
    X, Y = np.ones((2, 8), np.float32), np.ones((1, 8), np.float32)
    batches = orders(nbns, 8, 4, 201)
    costs = nbns["run_training"](lambda xb, yb: tf.reduce_sum(xb) + tf.reduce_sum(yb), X, Y, batches)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Cost after epoch {e}: {12.0:f}" for e in (0, 100, 200)]
    assert costs == [12.0] * 201


def _adam_run(nbns, X, Y, batches, *, learning_rate: float, opaque: bool, xla):
    """The epoch costs of the solution's network trained with Adam through run_training; ``opaque``: the step
    returns its cost through tf.py_function, which XLA cannot compile."""
    tf = nbns["tf"]
    params = nbns["initialize_parameters"]()
    variables = list(params.values())
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    def train_step(X_batch, Y_batch):
        with tf.GradientTape() as tape:
            cost = nbns["compute_cost"](nbns["forward_propagation"](X_batch, params), Y_batch)
        optimizer.apply_gradients(zip(tape.gradient(cost, variables), variables))
        return tf.py_function(lambda c: c, [cost], tf.float32) if opaque else cost

    return nbns["run_training"](train_step, X, Y, batches, print_cost=False, xla=xla)


def test_falls_back_without_xla_with_the_same_result(nbns, capsys):
    # tf.py_function cannot be compiled by XLA: the loop must say so and still train the same way.
    X, Y = synthetic(64, seed=2)
    batches = orders(nbns, 64, 32, 2)
    # a short run: XLA only when asked for (by default only runs of XLA_MIN_STEPS steps use it)
    compiled = _adam_run(nbns, X, Y, batches, learning_rate=0.0001, opaque=False, xla=True)
    assert "XLA" not in capsys.readouterr().out
    fallback = _adam_run(nbns, X, Y, batches, learning_rate=0.0001, opaque=True, xla=True)
    assert "XLA could not compile" in capsys.readouterr().out
    np.testing.assert_allclose(fallback, compiled, rtol=1e-5, atol=1e-6)


def test_short_runs_skip_xla_with_the_same_result(nbns, capsys):
    X, Y = synthetic(64, seed=3)
    batches = orders(nbns, 64, 16, 3)
    assert len(batches) * len(batches[0]) < nbns["XLA_MIN_STEPS"]
    by_default = _adam_run(nbns, X, Y, batches, learning_rate=0.001, opaque=True, xla=None)
    assert "XLA" not in capsys.readouterr().out  # the default did not try XLA on a short run
    with_xla = _adam_run(nbns, X, Y, batches, learning_rate=0.001, opaque=False, xla=True)
    assert "XLA" not in capsys.readouterr().out  # compiled: XLA's costs, to compare with the plain graph's
    np.testing.assert_allclose(by_default, with_xla, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make_batches, message",
    [
        (lambda ns: [[np.arange(0, 10), np.arange(10, 12), np.arange(12, 20)]], "full batches then one smaller"),
        (lambda ns: [ns["mini_batch_indices"](20, 8, 1), ns["mini_batch_indices"](20, 5, 2)], "epoch 1 has batch sizes"),
        (lambda ns: [[np.arange(5, 25)]], "must lie in 0..19"),
    ],
)
def test_bad_batches_are_clear_errors(nbns, make_batches, message):
    tf = nbns["tf"]
    X, Y = np.ones((3, 20), np.float32), np.ones((2, 20), np.float32)
    with pytest.raises(ValueError, match=message):
        nbns["run_training"](lambda xb, yb: tf.reduce_sum(xb), X, Y, make_batches(nbns), print_cost=False)


def test_mistake_in_train_step_is_reported_as_itself(nbns):
    # The XLA fallback must not hide an ordinary bug in the student's step.
    X, Y = np.ones((3, 8), np.float32), np.ones((2, 8), np.float32)

    def train_step(X_batch, Y_batch):
        return undefined_name  # noqa: F821

    with pytest.raises(NameError, match="undefined_name"):
        nbns["run_training"](train_step, X, Y, orders(nbns, 8, 4, 1), print_cost=False)


def test_model_returns_parameters_and_one_cost_per_epoch(nbns):
    X, Y = synthetic(40, seed=3)
    params, costs = nbns["model"](X, Y, X, Y, num_epochs=3, minibatch_size=16, print_cost=False)
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert len(costs) == 3 and all(np.isfinite(costs))
    assert costs[2] < costs[0]


def test_runs_every_step_once_across_chunks_of_epochs(nbns):
    # 205 epochs run as compiled chunks of 100, 100 and 5; the unused rows of the last chunk must not train.
    tf = nbns["tf"]
    X, Y = np.ones((2, 8), np.float32), np.ones((1, 8), np.float32)
    steps = tf.Variable(0)

    def train_step(X_batch, Y_batch):
        steps.assign_add(1)
        return tf.cast(steps, tf.float32) + 0.0 * tf.reduce_sum(X_batch)

    costs = nbns["run_training"](train_step, X, Y, orders(nbns, 8, 4, 205), print_cost=False)
    assert int(steps.numpy()) == 205 * 2
    # Epoch e runs steps 2e+1 and 2e+2, so its mean is 2e+1.5.
    assert costs == [2 * e + 1.5 for e in range(205)]
