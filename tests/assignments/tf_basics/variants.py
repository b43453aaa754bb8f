"""Wrong, correct and hard-coded replacements of the tf_basics solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them, so the
test cells keep every argument away from the values a wrong variant fixes (seed 1 and a single example for
linear_function, the minimum itself for minimize_quadratic) and every input holds what a wrong variant
mishandles (integers for sigmoid and cost, logits far from 0 for cost).
The correct ones do what the notebook asks in another way and must get full marks.
"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "linear_function": {
        # W drawn before X: same shapes, other numbers.
        "w_drawn_first": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    W = np.random.randn(n_y, n_x)
    X = np.random.randn(n_x, m)
    b = np.random.randn(n_y, 1)
    return tf.matmul(W, X) + b
""",
        "missing_bias": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = tf.constant(np.random.randn(n_x, m))
    W = tf.constant(np.random.randn(n_y, n_x))
    b = tf.constant(np.random.randn(n_y, 1))
    return tf.matmul(W, X)
""",
        # b drawn as a row: broadcasting fails or silently gives other numbers.
        "bias_as_row": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = np.random.randn(n_x, m)
    W = np.random.randn(n_y, n_x)
    b = np.random.randn(1, n_y)
    return W @ X + b
""",
        # one bias per example: draws n_y * m numbers for b
        "bias_per_example": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = np.random.randn(n_x, m)
    W = np.random.randn(n_y, n_x)
    b = np.random.randn(n_y, m)
    return np.dot(W, X) + b
""",
        # the seed argument ignored: the old notebook's seed(1)
        "seed_ignored": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(1)
    X = tf.constant(np.random.randn(n_x, m))
    W = tf.constant(np.random.randn(n_y, n_x))
    b = tf.constant(np.random.randn(n_y, 1))
    return tf.add(tf.matmul(W, X), b)
""",
        # m ignored: a single example, as in the old notebook
        "one_example_only": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = np.random.randn(n_x, 1)
    W = np.random.randn(n_y, n_x)
    b = np.random.randn(n_y, 1)
    return W @ X + b
""",
        # X drawn one example per row, then transposed: the right shape, the numbers in another order
        "x_drawn_transposed": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = np.random.randn(m, n_x).T
    W = np.random.randn(n_y, n_x)
    b = np.random.randn(n_y, 1)
    return W @ X + b
""",
        # numpy's newer Generator: another stream of numbers than np.random.seed + randn
        "default_rng": """
def linear_function(n_x, n_y, m, random_seed):
    rng = np.random.default_rng(random_seed)
    X = rng.standard_normal((n_x, m))
    W = rng.standard_normal((n_y, n_x))
    b = rng.standard_normal((n_y, 1))
    return W @ X + b
""",
    },
    "sigmoid": {
        "sign_flipped": """
def sigmoid(z):
    return tf.math.sigmoid(-tf.cast(z, tf.float32))
""",
        "tanh_instead": """
def sigmoid(z):
    return tf.math.tanh(tf.cast(z, tf.float32))
""",
        # forgot the "1 +": exp(z) instead of 1 / (1 + exp(-z))
        "missing_one_plus": """
def sigmoid(z):
    z = tf.cast(z, tf.float32)
    return 1.0 / tf.exp(-z)
""",
        # no cast: tf.math.sigmoid refuses integer inputs
        "no_cast": """
def sigmoid(z):
    return tf.math.sigmoid(z)
""",
        # half precision: about three correct digits
        "float16": """
def sigmoid(z):
    return tf.math.sigmoid(tf.cast(z, tf.float16))
""",
        # math.exp works on single numbers only
        "numbers_only": """
import math


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))
""",
        # numpy's astype works on arrays only
        "arrays_only": """
def sigmoid(z):
    z = z.astype(np.float32)
    return 1.0 / (1.0 + np.exp(-z))
""",
        # Keras' piecewise-linear approximation
        "hard_sigmoid": """
def sigmoid(z):
    return tf.keras.activations.hard_sigmoid(tf.cast(z, tf.float32))
""",
    },
    "cost": {
        # softmax cross-entropy sums over the last axis: one number per row, not per entry
        "softmax_cross_entropy": """
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
""",
        "mean_instead_of_elementwise": """
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
""",
        # positional call: the TF 2 signature is (labels, logits), so the arguments swap
        "labels_logits_swapped": """
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(logits, labels)
""",
        # sigmoid applied before a function that expects logits
        "sigmoid_applied_twice": """
def cost(logits, labels):
    probabilities = tf.math.sigmoid(tf.cast(logits, tf.float32))
    labels = tf.cast(labels, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=probabilities)
""",
        # the textbook formula: log of the sigmoid, infinite or NaN for logits far from 0
        "log_of_sigmoid": """
def cost(logits, labels):
    z = tf.cast(logits, tf.float32)
    y = tf.cast(labels, tf.float32)
    a = tf.math.sigmoid(z)
    return -y * tf.math.log(a) - (1 - y) * tf.math.log(1 - a)
""",
        # the same in float64 numpy with a guard against log(0): finite, but capped near 37
        "log_of_sigmoid_clipped": """
def cost(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    a = np.clip(1 / (1 + np.exp(-z)), 1e-16, 1 - 1e-16)
    return -y * np.log(a) - (1 - y) * np.log(1 - a)
""",
        # the stable formula entry by entry with the math module: fine for a vector, fails on a matrix
        "vectors_only": """
import math


def cost(logits, labels):
    return np.array([max(z, 0) - z * y + math.log1p(math.exp(-abs(z))) for z, y in zip(logits, labels)])
""",
        # softplus written out: exp(z) overflows for large logits, even in float64
        "softplus_written_out": """
def cost(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return np.log(1 + np.exp(z)) - z * y
""",
        # no cast: integer labels and float logits do not mix
        "no_cast": """
def cost(logits, labels):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
""",
    },
    "one_hot_matrix": {
        # (m, C): one row per example
        "transposed": """
def one_hot_matrix(labels, C):
    return tf.one_hot(labels, depth=C)
""",
        "depth_from_labels": """
def one_hot_matrix(labels, C):
    labels = np.asarray(labels)
    return tf.one_hot(labels, depth=int(labels.max()) + 1, axis=0)
""",
        # treats labels as 1-based
        "off_by_one": """
def one_hot_matrix(labels, C):
    return tf.one_hot(np.asarray(labels) - 1, depth=C, axis=0)
""",
        # the number of examples as the depth
        "depth_is_m": """
def one_hot_matrix(labels, C):
    return tf.one_hot(labels, depth=len(labels), axis=0)
""",
        # numpy attributes: fails on a tensor of labels
        "numpy_labels_only": """
def one_hot_matrix(labels, C):
    result = np.zeros((C, labels.size))
    result[labels, np.arange(labels.size)] = 1
    return result
""",
        # reshape is not a transpose: the right shape, the ones in the wrong places
        "reshape_not_transpose": """
def one_hot_matrix(labels, C):
    rows = tf.one_hot(labels, depth=C)
    return tf.reshape(rows, (C, -1))
""",
    },
    "ones": {
        "zeros_instead": """
def ones(shape):
    return tf.zeros(shape)
""",
        # ones shaped like the shape tuple itself
        "ones_like_shape": """
def ones(shape):
    return tf.ones_like(shape)
""",
        "first_axis_only": """
def ones(shape):
    return np.ones(shape[0])
""",
        "shape_reversed": """
def ones(shape):
    return tf.ones(tuple(shape)[::-1])
""",
        # an identity matrix: ones on the diagonal only
        "eye_instead": """
def ones(shape):
    return tf.eye(shape[0], shape[1])
""",
    },
    "minimize_quadratic": {
        # gradient ascent: w runs away from the minimum
        "gradient_ascent": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        grads = tape.gradient(J, [w])
        optimizer.apply_gradients(zip([-g for g in grads], [w]))

    for _ in range(num_steps):
        step()
    return w
""",
        "coefficients_swapped": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            J = c0 * w + c1 * w ** 2 + c2
        grads = tape.gradient(J, [w])
        optimizer.apply_gradients(zip(grads, [w]))

    for _ in range(num_steps):
        step()
    return w
""",
        # the gradient is taken once, at w = 0, and then applied num_steps times
        "gradient_computed_once": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    with tf.GradientTape() as tape:
        J = c0 * w ** 2 + c1 * w + c2
    grads = tape.gradient(J, [w])
    for _ in range(num_steps):
        optimizer.apply_gradients(zip(grads, [w]))
    return w
""",
        # a new Adam every step: its moment estimates restart, so every step has length learning_rate
        "optimizer_in_loop": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    for _ in range(num_steps):
        optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # AdamW: Adam plus weight decay, a different path
        "adamw_instead": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.AdamW(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # plain gradient descent where the notebook asks for Adam
        "sgd_instead": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = [float(c) for c in coefficients]
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = c0 * tf.square(w) + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # num_steps and learning_rate ignored: enough fixed SGD steps to land on the minimum
        "fixed_sgd_steps": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(200):
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # no gradient steps: the closed-form minimum
        "closed_form": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    return tf.Variable(-c1 / (2 * c0))
""",
        # Adam's default learning rate (0.001) instead of the argument
        "learning_rate_ignored": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam()
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # one step too many: range(num_steps + 1)
        "one_step_too_many": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    for _ in range(num_steps + 1):
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
        # starts from w = 1 instead of 0
        "starts_at_one": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w = tf.Variable(1.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = c0 * w ** 2 + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w
""",
    },
}

# No wrong variant here costs another function's points: the test cells call only their own function.
WRONG_ALSO_FAILS = {}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "linear_function": {
        # exactly what the notebook says, with the functions imported from numpy.random
        "from_numpy_random_import": """
from numpy.random import randn, seed


def linear_function(n_x, n_y, m, random_seed):
    seed(random_seed)
    X = randn(n_x, m)
    W = randn(n_y, n_x)
    b = randn(n_y, 1)
    return tf.constant(W) @ tf.constant(X) + tf.constant(b)
""",
        # the same with np.random.seed on the module, numpy throughout
        "np_random_seed_numpy": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = np.random.randn(n_x, m)
    W = np.random.randn(n_y, n_x)
    b = np.random.randn(n_y, 1)
    return np.dot(W, X) + b
""",
        # float32 tensors: rounding stays far inside the tolerance
        "float32_tensors": """
def linear_function(n_x, n_y, m, random_seed):
    np.random.seed(random_seed)
    X = tf.constant(np.random.randn(n_x, m), dtype=tf.float32)
    W = tf.constant(np.random.randn(n_y, n_x), dtype=tf.float32)
    b = tf.constant(np.random.randn(n_y, 1), dtype=tf.float32)
    return tf.linalg.matmul(W, X) + b
""",
        # a RandomState seeded the same way draws the same numbers as np.random.seed + np.random.randn
        "random_state_object": """
def linear_function(n_x, n_y, m, random_seed):
    rng = np.random.RandomState(random_seed)
    X = rng.standard_normal((n_x, m))
    W = rng.standard_normal((n_y, n_x))
    b = rng.standard_normal((n_y, 1))
    return np.einsum("ij,jk->ik", W, X) + b
""",
    },
    "sigmoid": {
        # the formula in numpy, without the float32 cast
        "numpy_formula": """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
""",
        "keras_activation": """
def sigmoid(z):
    return tf.keras.activations.sigmoid(tf.convert_to_tensor(z, dtype=tf.float32))
""",
        # sigmoid(z) = (1 + tanh(z / 2)) / 2
        "tanh_identity": """
def sigmoid(z):
    z = tf.cast(z, tf.float64)
    return 0.5 * (1.0 + tf.math.tanh(z / 2.0))
""",
    },
    "cost": {
        "stable_formula_numpy": """
def cost(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
""",
        # softplus(z) - z*y is the same loss, also stable
        "softplus_form": """
def cost(logits, labels):
    z = tf.cast(logits, tf.float32)
    y = tf.cast(labels, tf.float32)
    return tf.nn.softplus(z) - z * y
""",
        # log(sigmoid(z)) computed stably by tf.math.log_sigmoid; labels cast to the logits' dtype
        "log_sigmoid": """
def cost(logits, labels):
    z = tf.convert_to_tensor(logits)
    y = tf.cast(labels, z.dtype)
    return -y * tf.math.log_sigmoid(z) - (1 - y) * tf.math.log_sigmoid(-z)
""",
    },
    "one_hot_matrix": {
        "eye_columns": """
def one_hot_matrix(labels, C):
    return np.eye(C)[:, np.asarray(labels)]
""",
        "transpose_of_rows": """
def one_hot_matrix(labels, C):
    return tf.transpose(tf.one_hot(labels, C))
""",
        # filled in by hand: a 1 at (label, example)
        "numpy_scatter": """
def one_hot_matrix(labels, C):
    labels = np.asarray(labels)
    result = np.zeros((C, labels.size))
    result[labels, np.arange(labels.size)] = 1
    return result
""",
    },
    "ones": {
        "numpy_ones": """
def ones(shape):
    return np.ones(shape)
""",
        "fill": """
def ones(shape):
    return tf.fill(shape, 1.0)
""",
        "zeros_plus_one": """
def ones(shape):
    return tf.zeros(shape, dtype=tf.float64) + 1
""",
    },
    "minimize_quadratic": {
        # eager Adam, without tf.function
        "eager_adam": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = coefficients[0] * w ** 2 + coefficients[1] * w + coefficients[2]
        grad = tape.gradient(J, w)
        optimizer.apply_gradients([(grad, w)])
    return w
""",
        # J with tf.math.polyval, the steps in a compiled loop, a plain number returned
        "polyval_compiled_loop": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    coefficients = [tf.constant(float(c)) for c in coefficients]
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def run(n):
        for _ in tf.range(n):
            with tf.GradientTape() as tape:
                J = tf.math.polyval(coefficients, w)
            optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))

    run(tf.constant(num_steps))
    return float(w.numpy())
""",
        # Adam written out in float64 numpy with Keras' defaults (beta_1 0.9, beta_2 0.999, epsilon 1e-7)
        "adam_by_hand": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = coefficients
    w, m, v = 0.0, 0.0, 0.0
    for t in range(1, num_steps + 1):
        g = 2 * c0 * w + c1
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat = m / (1 - 0.9 ** t)
        v_hat = v / (1 - 0.999 ** t)
        w = w - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-7)
    return np.float32(w)
""",
    },
}

# ------------------------------------------------------------------------------------------ HARDCODED
# Returns the expected values printed in the visible tests, chosen by the visible inputs, and ignores
# the real computation; the hidden checks must all reject it.
HARDCODED = {
    "linear_function": """
def linear_function(n_x, n_y, m, random_seed):
    return np.array([[3.60009798, -1.92824769], [-4.90108009, -0.96475386],
                     [0.52592184, -3.16789658], [-1.97440244, -1.14332353]])
""",
    "sigmoid": """
def sigmoid(z):
    if np.ndim(z) == 0:
        return np.float32(0.88079708)
    return np.array([0.26894142, 0.5, 0.95257413], dtype=np.float32)
""",
    "cost": """
def cost(logits, labels):
    if np.ndim(logits) == 1:
        return np.array([0.20141329, 0.55435526, 0.12692800, 30.0, 800.0])
    return np.array([[0.47407699, 0.12692800, 1.31326175], [50.0, 1.10318601, 0.0]])
""",
    "one_hot_matrix": """
def one_hot_matrix(labels, C):
    if C == 4:
        return np.array([[0, 0, 1, 0, 0, 1], [1, 0, 0, 0, 1, 0], [0, 1, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]])
    return np.array([[0, 1], [0, 0], [0, 0], [1, 0], [0, 0]])
""",
    "ones": """
def ones(shape):
    if tuple(shape) == (2, 3):
        return np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    return np.array([[1.0], [1.0], [1.0]])
""",
    "minimize_quadratic": """
def minimize_quadratic(coefficients, learning_rate, num_steps):
    return 4.6187243 if coefficients[1] == -10.0 else 12.024164
""",
}
