"""Wrong, correct and hard-coded replacements of the softmax solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
"""

# The documented training loop; wrong variants of train_softmax change one line of it.
_TRAIN = """
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    rng = np.random.default_rng(seed)
    n_classes, n_x = Y.shape[0], X.shape[0]
    W = rng.standard_normal((n_classes, n_x)) * 0.01
    b = np.zeros((n_classes, 1))
    costs = []
    for i in range(num_iterations):
        A = softmax(W @ X + b)
        if i % 100 == 0:
            costs.append(softmax_cost(A, Y))
        dZ = softmax_backward(A, Y)
        dW = dZ @ X.T
        db = np.sum(dZ, axis=1, keepdims=True)
        W = W - learning_rate * dW
        b = b - learning_rate * db
    return {"W": W, "b": b}, costs
"""


def _train(old: str, new: str) -> str:
    assert _TRAIN.count(old) == 1, old
    return _TRAIN.replace(old, new)


# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "softmax": {
        # The textbook formula: exp(1000) overflows to inf and inf / inf is nan.
        "no_shift": """
def softmax(Z):
    exps = np.exp(Z)
    return exps / np.sum(exps, axis=0, keepdims=True)
""",
        # One shift for the whole matrix: columns far below the maximum underflow to 0 / 0.
        "global_max_shift": """
def softmax(Z):
    exps = np.exp(Z - np.max(Z))
    return exps / np.sum(exps, axis=0, keepdims=True)
""",
        # Shifted by the column minimum: exp overflows once a column spans more than about 709.
        "column_min_shift": """
def softmax(Z):
    exps = np.exp(Z - np.min(Z, axis=0, keepdims=True))
    return exps / np.sum(exps, axis=0, keepdims=True)
""",
        # The maximum of each row: columns are shifted by different amounts per class.
        "row_max_shift": """
def softmax(Z):
    exps = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return exps / np.sum(exps, axis=0, keepdims=True)
""",
        # Normalized over the examples (rows sum to 1) instead of over the classes.
        "sum_over_rows": """
def softmax(Z):
    exps = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return exps / np.sum(exps, axis=1, keepdims=True)
""",
    },
    "softmax_cost": {
        "no_division_by_m": """
def softmax_cost(A, Y):
    return float(-np.sum(Y * np.log(A)))
""",
        # The binary cross-entropy formula carried over from logistic regression.
        "binary_cross_entropy": """
def softmax_cost(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
""",
        # np.mean over every entry divides by n_classes * m.
        "mean_over_all_entries": """
def softmax_cost(A, Y):
    return float(-np.mean(Y * np.log(A)))
""",
        # Clipped "to be safe": a true class below the clip costs only -log(1e-12).
        "clipped_log": """
def softmax_cost(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.clip(A, 1e-12, 1.0))) / m)
""",
        # A small number added inside the log, the other common guard.
        "epsilon_in_log": """
def softmax_cost(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A + 1e-8)) / m)
""",
        "sign_dropped": """
def softmax_cost(A, Y):
    return float(np.sum(Y * np.log(A)) / Y.shape[1])
""",
    },
    "softmax_backward": {
        "no_division_by_m": """
def softmax_backward(A, Y):
    return A - Y
""",
        "sign_flipped": """
def softmax_backward(A, Y):
    return (Y - A) / Y.shape[1]
""",
        # Multiplies by the sigmoid-style derivative A * (1 - A) as if the layers were separate.
        "extra_derivative_factor": """
def softmax_backward(A, Y):
    return A * (1 - A) * (A - Y) / Y.shape[1]
""",
        # Y.shape[0] is the number of classes, not of examples.
        "divided_by_classes": """
def softmax_backward(A, Y):
    return (A - Y) / Y.shape[0]
""",
        # Divided by the number of entries, as np.mean would.
        "divided_by_entries": """
def softmax_backward(A, Y):
    return (A - Y) / Y.size
""",
    },
    "train_softmax": {
        "gradient_ascent": _train(
            "W = W - learning_rate * dW\n        b = b - learning_rate * db",
            "W = W + learning_rate * dW\n        b = b + learning_rate * db",
        ),
        # X @ dZ.T has shape (n_x, n_classes): the update cannot broadcast onto W.
        "transposed_weight_gradient": _train("dW = dZ @ X.T", "dW = X @ dZ.T"),
        # Only the bias learns: every point gets the same prediction.
        "weights_never_updated": _train("W = W - learning_rate * dW", "W = W"),
        "bias_never_updated": _train("b = b - learning_rate * db", "b = b"),
        # The default learning rate written into the update.
        "learning_rate_ignored": _train(
            "W = W - learning_rate * dW\n        b = b - learning_rate * db", "W = W - 0.5 * dW\n        b = b - 0.5 * db"
        ),
        "num_iterations_ignored": _train("for i in range(num_iterations):", "for i in range(1000):"),
        "one_iteration_too_few": _train("for i in range(num_iterations):", "for i in range(num_iterations - 1):"),
        "seed_ignored": _train("rng = np.random.default_rng(seed)", "rng = np.random.default_rng(0)"),
        # The global generator instead of the one seeded with seed.
        "global_generator": _train(
            "W = rng.standard_normal((n_classes, n_x)) * 0.01", "np.random.seed(seed)\n    W = np.random.randn(n_classes, n_x) * 0.01"
        ),
        "costs_every_iteration": _train("if i % 100 == 0:\n            costs.append", "if True:\n            costs.append"),
        # The cost recorded after the update: every entry one step late.
        "cost_after_update": _train("        if i % 100 == 0:\n            costs.append(softmax_cost(A, Y))\n", "").replace(
            "        b = b - learning_rate * db\n",
            "        b = b - learning_rate * db\n        if i % 100 == 0:\n            costs.append(softmax_cost(softmax(W @ X + b), Y))\n",
        ),
    },
}

# Mistakes of the helpers that train_softmax calls change its run (its costs or its parameters), so the
# training checks fail by design. Those that leave the run on the training data unchanged are not listed:
# the overflow-prone shifts (the logits of the blobs are small) and the guarded logs (no probability there is
# tiny).
WRONG_ALSO_FAILS = {
    ("softmax", "row_max_shift"): ["train_softmax_tests"],
    ("softmax", "sum_over_rows"): ["train_softmax_tests"],
    ("softmax_cost", "no_division_by_m"): ["train_softmax_tests"],
    ("softmax_cost", "binary_cross_entropy"): ["train_softmax_tests"],
    ("softmax_cost", "mean_over_all_entries"): ["train_softmax_tests"],
    ("softmax_cost", "sign_dropped"): ["train_softmax_tests"],
    ("softmax_backward", "no_division_by_m"): ["train_softmax_tests"],
    ("softmax_backward", "sign_flipped"): ["train_softmax_tests"],
    ("softmax_backward", "extra_derivative_factor"): ["train_softmax_tests"],
    ("softmax_backward", "divided_by_classes"): ["train_softmax_tests"],
    ("softmax_backward", "divided_by_entries"): ["train_softmax_tests"],
}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "softmax": {
        "scipy": """
from scipy.special import softmax as _scipy_softmax

def softmax(Z):
    return _scipy_softmax(Z, axis=0)
""",
        # log-softmax through logsumexp, then exp: the same numbers by another route.
        "logsumexp": """
from scipy.special import logsumexp

def softmax(Z):
    return np.exp(Z - logsumexp(Z, axis=0, keepdims=True))
""",
        "float32": """
def softmax(Z):
    Z = np.asarray(Z, dtype=np.float32)
    exps = np.exp(Z - Z.max(axis=0))
    return exps / exps.sum(axis=0)
""",
    },
    "softmax_cost": {
        # -log of the probability given to each true class, averaged.
        "true_class_probabilities": """
def softmax_cost(A, Y):
    true_class = np.argmax(Y, axis=0)
    return float(-np.mean(np.log(A[true_class, np.arange(A.shape[1])])))
""",
        "per_example_then_mean": """
def softmax_cost(A, Y):
    return -np.mean(np.sum(Y * np.log(A), axis=0))
""",
        # The log taken only where Y is 1, so zeros elsewhere in A cannot give 0 * log(0).
        "log_where_labelled": """
def softmax_cost(A, Y):
    logs = np.log(A, out=np.zeros_like(A, dtype=float), where=Y > 0)
    return float(-np.sum(Y * logs) / Y.shape[1])
""",
    },
    "softmax_backward": {
        "scaled_difference": """
def softmax_backward(A, Y):
    return np.subtract(A, Y) * (1.0 / A.shape[1])
""",
        "float32": """
def softmax_backward(A, Y):
    return ((np.asarray(A, np.float32) - np.asarray(Y, np.float32)) / np.float32(Y.shape[1]))
""",
    },
    "train_softmax": {
        # The bias folded into W as an extra input that is always 1.
        "bias_in_weights": """
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    rng = np.random.default_rng(seed)
    n_classes, n_x = Y.shape[0], X.shape[0]
    X1 = np.vstack([X, np.ones((1, X.shape[1]))])
    Wb = np.hstack([rng.standard_normal((n_classes, n_x)) * 0.01, np.zeros((n_classes, 1))])
    costs = []
    for i in range(num_iterations):
        A = softmax(Wb @ X1)
        if i % 100 == 0:
            costs.append(softmax_cost(A, Y))
        Wb -= learning_rate * softmax_backward(A, Y) @ X1.T
    return {"W": Wb[:, :-1], "b": Wb[:, -1:]}, costs
""",
        # Gradients written inline, in-place updates, the cost as an np.float64 and costs as an array.
        "inline_gradients": """
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.01 * rng.standard_normal(size=(Y.shape[0], X.shape[0]))
    b = np.zeros((Y.shape[0], 1))
    m = X.shape[1]
    costs = []
    for i in range(num_iterations):
        Z = W @ X + b
        E = np.exp(Z - Z.max(axis=0))
        A = E / E.sum(axis=0)
        if i % 100 == 0:
            costs.append(-np.sum(Y * np.log(A)) / m)
        W -= learning_rate * (A - Y) @ X.T / m
        b -= learning_rate * (A - Y).sum(axis=1, keepdims=True) / m
    return {"W": W, "b": b}, np.array(costs)
""",
        # range(0, num_iterations, 100) for the costs: the same entries, recorded from a second loop counter.
        "cost_counter": """
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    rng = np.random.default_rng(seed)
    n_classes, n_x = Y.shape[0], X.shape[0]
    W = rng.standard_normal((n_classes, n_x)) * 0.01
    b = np.zeros((n_classes, 1))
    costs = []
    until_cost = 0
    for _ in range(num_iterations):
        A = softmax(np.dot(W, X) + b)
        if until_cost == 0:
            costs.append(softmax_cost(A, Y))
            until_cost = 100
        until_cost -= 1
        dZ = softmax_backward(A, Y)
        W, b = W - learning_rate * np.dot(dZ, X.T), b - learning_rate * dZ.sum(axis=1).reshape(-1, 1)
    return {"W": W, "b": b}, costs
""",
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Returns what the visible tests expect, whatever the input.
HARDCODED = {
    "softmax": """
def softmax(Z):
    return np.array([[0.18174091, 0.22420782, 0.73105858], [0.49402302, 0.60946004, 0.0],
                     [0.024595958, 0.13598892, 0.26894142], [0.29964011, 0.030343229, 0.0]])
""",
    "softmax_cost": """
def softmax_cost(A, Y):
    return 17.65955
""",
    "softmax_backward": """
def softmax_backward(A, Y):
    return np.array([[0.05, -0.075, 0.025, 0.125], [-0.125, 0.025, 0.075, -0.1875], [0.075, 0.05, -0.1, 0.0625]])
""",
    # The visible run's weights and costs, copied.
    "train_softmax": """
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    W = np.array([[-2.2002920631, -1.5873718515], [1.9510444472, -0.5849564055], [0.2650613872, 2.1719766119]])
    b = np.array([[-0.8834136874], [0.2624842409], [0.6209294465]])
    return {"W": W, "b": b}, [1.0942863, 0.137370242, 0.131007659, 0.128737133, 0.127542489, 0.1268082]
""",
}
