"""Wrong, correct and hard-coded replacements of the softmax solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "softmax": {
        # The textbook formula: exp(1000) overflows to inf and inf / inf is nan.
        "no_shift": '''
def softmax(Z):
    exps = np.exp(Z)
    return exps / np.sum(exps, axis=0, keepdims=True)
''',
        # One shift for the whole matrix: columns far below the maximum underflow to 0 / 0.
        "global_max_shift": '''
def softmax(Z):
    exps = np.exp(Z - np.max(Z))
    return exps / np.sum(exps, axis=0, keepdims=True)
''',
    },
    "softmax_cost": {
        "no_division_by_m": '''
def softmax_cost(A, Y):
    return float(-np.sum(Y * np.log(A)))
''',
        # The binary cross-entropy formula carried over from logistic regression.
        "binary_cross_entropy": '''
def softmax_cost(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
''',
        # np.mean over every entry divides by n_classes * m.
        "mean_over_all_entries": '''
def softmax_cost(A, Y):
    return float(-np.mean(Y * np.log(A)))
''',
    },
    "softmax_backward": {
        "no_division_by_m": '''
def softmax_backward(A, Y):
    return A - Y
''',
        "sign_flipped": '''
def softmax_backward(A, Y):
    return (Y - A) / Y.shape[1]
''',
        # Multiplies by the sigmoid-style derivative A * (1 - A) as if the layers were separate.
        "extra_derivative_factor": '''
def softmax_backward(A, Y):
    return A * (1 - A) * (A - Y) / Y.shape[1]
''',
    },
    "train_softmax": {
        "gradient_ascent": '''
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
        W = W + learning_rate * dZ @ X.T
        b = b + learning_rate * np.sum(dZ, axis=1, keepdims=True)
    return {"W": W, "b": b}, costs
''',
        # X @ dZ.T has shape (n_x, n_classes): the update cannot broadcast onto W.
        "transposed_weight_gradient": '''
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
        W = W - learning_rate * (X @ dZ.T)
        b = b - learning_rate * np.sum(dZ, axis=1, keepdims=True)
    return {"W": W, "b": b}, costs
''',
        # Only the bias learns: every point gets the same prediction.
        "weights_never_updated": '''
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
        b = b - learning_rate * np.sum(dZ, axis=1, keepdims=True)
    return {"W": W, "b": b}, costs
''',
    },
}

# A wrong gradient sign also makes training climb the cost: the training checks fail by design.
WRONG_ALSO_FAILS = {("softmax_backward", "sign_flipped"): ["train_softmax_tests"]}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "softmax": {
        "scipy": '''
from scipy.special import softmax as _scipy_softmax

def softmax(Z):
    return _scipy_softmax(Z, axis=0)
''',
        # log-softmax through logsumexp, then exp: the same numbers by another route.
        "logsumexp": '''
from scipy.special import logsumexp

def softmax(Z):
    return np.exp(Z - logsumexp(Z, axis=0, keepdims=True))
''',
        "float32": '''
def softmax(Z):
    Z = np.asarray(Z, dtype=np.float32)
    exps = np.exp(Z - Z.max(axis=0))
    return exps / exps.sum(axis=0)
''',
    },
    "softmax_cost": {
        # -log of the probability given to each true class, averaged.
        "true_class_probabilities": '''
def softmax_cost(A, Y):
    true_class = np.argmax(Y, axis=0)
    return float(-np.mean(np.log(A[true_class, np.arange(A.shape[1])])))
''',
        "per_example_then_mean": '''
def softmax_cost(A, Y):
    return -np.mean(np.sum(Y * np.log(A), axis=0))
''',
    },
    "softmax_backward": {
        "scaled_difference": '''
def softmax_backward(A, Y):
    return np.subtract(A, Y) * (1.0 / A.shape[1])
''',
    },
    "train_softmax": {
        # The bias folded into W as an extra input that is always 1; zero initial weights.
        "bias_in_weights_zero_init": '''
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    m = X.shape[1]
    X1 = np.vstack([X, np.ones((1, m))])
    Wb = np.zeros((Y.shape[0], X1.shape[0]))
    costs = []
    for i in range(num_iterations):
        A = softmax(Wb @ X1)
        if i % 100 == 0:
            costs.append(softmax_cost(A, Y))
        Wb -= learning_rate * softmax_backward(A, Y) @ X1.T
    return {"W": Wb[:, :-1], "b": Wb[:, -1:]}, costs
''',
        # Gradients written inline, and the weights drawn with another scale.
        "inline_gradients": '''
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 0.1, size=(Y.shape[0], X.shape[0]))
    b = np.zeros((Y.shape[0], 1))
    m = X.shape[1]
    costs = []
    for i in range(num_iterations):
        Z = W @ X + b
        E = np.exp(Z - Z.max(axis=0))
        A = E / E.sum(axis=0)
        if i % 100 == 0:
            costs.append(float(-np.sum(Y * np.log(A)) / m))
        W -= learning_rate * (A - Y) @ X.T / m
        b -= learning_rate * (A - Y).sum(axis=1, keepdims=True) / m
    return {"W": W, "b": b}, costs
''',
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Returns what the visible tests expect, whatever the input.
HARDCODED = {
    "softmax": '''
def softmax(Z):
    return np.array([[0.18174091, 0.22420782, 0.0056533027], [0.49402302, 0.60946004, 0.041772571],
                     [0.024595958, 0.13598892, 0.83902451], [0.29964011, 0.030343229, 0.11354962]])
''',
    "softmax_cost": '''
def softmax_cost(A, Y):
    return 0.73673553
''',
    "softmax_backward": '''
def softmax_backward(A, Y):
    return np.array([[0.05, -0.075, 0.025, 0.125], [-0.125, 0.025, 0.075, -0.1875], [0.075, 0.05, -0.1, 0.0625]])
''',
    # Weights copied from a good run on the visible data set.
    "train_softmax": '''
def train_softmax(X, Y, learning_rate=0.5, num_iterations=1000, seed=0):
    W = np.array([[-2.431, -1.798], [2.054, -0.471], [0.38, 2.272]])
    b = np.array([[-1.179], [0.414], [0.765]])
    return {"W": W, "b": b}, [1.0]
''',
}
