"""Wrong, correct and hard-coded replacements of the tf_basics solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "linear_function": {
        # W drawn before X: same shapes, other numbers.
        "w_drawn_first": '''
def linear_function():
    np.random.seed(1)
    W = np.random.randn(4, 3)
    X = np.random.randn(3, 1)
    b = np.random.randn(4, 1)
    return tf.matmul(W, X) + b
''',
        "missing_bias": '''
def linear_function():
    np.random.seed(1)
    X = tf.constant(np.random.randn(3, 1))
    W = tf.constant(np.random.randn(4, 3))
    b = tf.constant(np.random.randn(4, 1))
    return tf.matmul(W, X)
''',
        "bias_subtracted": '''
def linear_function():
    np.random.seed(1)
    X = np.random.randn(3, 1)
    W = np.random.randn(4, 3)
    b = np.random.randn(4, 1)
    return np.dot(W, X) - b
''',
        # b drawn as a row: broadcasting silently gives a (4, 4) result.
        "bias_as_row": '''
def linear_function():
    np.random.seed(1)
    X = np.random.randn(3, 1)
    W = np.random.randn(4, 3)
    b = np.random.randn(1, 4)
    return W @ X + b
''',
    },
    "sigmoid": {
        "sign_flipped": '''
def sigmoid(z):
    return tf.math.sigmoid(-tf.cast(z, tf.float32))
''',
        "tanh_instead": '''
def sigmoid(z):
    return tf.math.tanh(tf.cast(z, tf.float32))
''',
        # forgot the "1 +": exp(z) instead of 1 / (1 + exp(-z))
        "missing_one_plus": '''
def sigmoid(z):
    z = tf.cast(z, tf.float32)
    return 1.0 / tf.exp(-z)
''',
    },
    "cost": {
        # softmax cross-entropy sums over the last axis: one number per row, not per entry
        "softmax_cross_entropy": '''
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
''',
        "mean_instead_of_elementwise": '''
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
''',
        # positional call: the TF 2 signature is (labels, logits), so the arguments swap
        "labels_logits_swapped": '''
def cost(logits, labels):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(logits, labels)
''',
        # sigmoid applied before a function that expects logits
        "sigmoid_applied_twice": '''
def cost(logits, labels):
    probabilities = tf.math.sigmoid(tf.cast(logits, tf.float32))
    labels = tf.cast(labels, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=probabilities)
''',
    },
    "one_hot_matrix": {
        # (m, C): one row per example
        "transposed": '''
def one_hot_matrix(labels, C):
    return tf.one_hot(labels, depth=C)
''',
        "eye_rows_transposed": '''
def one_hot_matrix(labels, C):
    return np.eye(C)[np.asarray(labels)]
''',
        "depth_from_labels": '''
def one_hot_matrix(labels, C):
    labels = np.asarray(labels)
    return tf.one_hot(labels, depth=int(labels.max()) + 1, axis=0)
''',
        # treats labels as 1-based
        "off_by_one": '''
def one_hot_matrix(labels, C):
    return tf.one_hot(np.asarray(labels) - 1, depth=C, axis=0)
''',
    },
    "ones": {
        "zeros_instead": '''
def ones(shape):
    return tf.zeros(shape)
''',
        # ones shaped like the shape tuple itself
        "ones_like_shape": '''
def ones(shape):
    return tf.ones_like(shape)
''',
        "first_axis_only": '''
def ones(shape):
    return np.ones(shape[0])
''',
        "shape_reversed": '''
def ones(shape):
    return tf.ones(tuple(shape)[::-1])
''',
    },
    "minimize_quadratic": {
        # gradient ascent: w runs away from the minimum
        "gradient_ascent": '''
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
''',
        "coefficients_swapped": '''
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
''',
        # the gradient is taken once, at w = 0, and then applied num_steps times
        "gradient_computed_once": '''
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
''',
    },
}

# No wrong variant here costs another function's points: the test cells call only their own function.
WRONG_ALSO_FAILS = {}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "linear_function": {
        "numpy_only": '''
def linear_function():
    np.random.seed(1)
    X = np.random.randn(3, 1)
    W = np.random.randn(4, 3)
    b = np.random.randn(4, 1)
    return np.dot(W, X) + b
''',
        # float32 tensors: rounding stays far inside the tolerance
        "float32_tensors": '''
def linear_function():
    np.random.seed(1)
    X = tf.constant(np.random.randn(3, 1), dtype=tf.float32)
    W = tf.constant(np.random.randn(4, 3), dtype=tf.float32)
    b = tf.constant(np.random.randn(4, 1), dtype=tf.float32)
    return W @ X + b
''',
    },
    "sigmoid": {
        # the formula in numpy, without the float32 cast
        "numpy_formula": '''
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
''',
        "keras_activation": '''
def sigmoid(z):
    return tf.keras.activations.sigmoid(tf.convert_to_tensor(z, dtype=tf.float32))
''',
    },
    "cost": {
        "stable_formula_numpy": '''
def cost(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
''',
        # softplus(z) - z*y is the same loss, also stable
        "softplus_form": '''
def cost(logits, labels):
    z = tf.cast(logits, tf.float32)
    y = tf.cast(labels, tf.float32)
    return tf.nn.softplus(z) - z * y
''',
    },
    "one_hot_matrix": {
        "eye_columns": '''
def one_hot_matrix(labels, C):
    return np.eye(C)[:, np.asarray(labels)]
''',
        "transpose_of_rows": '''
def one_hot_matrix(labels, C):
    return tf.transpose(tf.one_hot(labels, C))
''',
    },
    "ones": {
        "numpy_ones": '''
def ones(shape):
    return np.ones(shape)
''',
        "fill": '''
def ones(shape):
    return tf.fill(shape, 1.0)
''',
    },
    "minimize_quadratic": {
        # eager Adam, without tf.function
        "eager_adam": '''
def minimize_quadratic(coefficients, learning_rate, num_steps):
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = coefficients[0] * w ** 2 + coefficients[1] * w + coefficients[2]
        grad = tape.gradient(J, w)
        optimizer.apply_gradients([(grad, w)])
    return w
''',
        # another optimizer converges to the same minimum
        "sgd": '''
def minimize_quadratic(coefficients, learning_rate, num_steps):
    c0, c1, c2 = [float(c) for c in coefficients]
    w = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = c0 * tf.square(w) + c1 * w + c2
        optimizer.apply_gradients(zip(tape.gradient(J, [w]), [w]))
    return w.numpy()
''',
    },
}

# ------------------------------------------------------------------------------------------ HARDCODED
# Returns the expected values printed in the visible tests, chosen by the visible inputs, and ignores
# the real computation; the hidden checks must all reject it.
HARDCODED = {
    "linear_function": '''
def linear_function():
    return np.array([[-2.15657382], [2.95891446], [-1.08926781], [-0.84538042]])
''',
    "sigmoid": '''
def sigmoid(z):
    if np.ndim(z) == 0:
        return np.float32(0.88079708)
    return np.array([0.26894142, 0.5, 0.95257413], dtype=np.float32)
''',
    "cost": '''
def cost(logits, labels):
    if np.ndim(logits) == 1:
        return np.array([0.20141329, 0.55435526, 0.12692800, 0.51301527])
    return np.array([[0.47407699, 0.12692800, 1.31326175], [0.04858735, 1.10318601, 0.69314718]])
''',
    "one_hot_matrix": '''
def one_hot_matrix(labels, C):
    if C == 4:
        return np.array([[0, 0, 1, 0, 0, 1], [1, 0, 0, 0, 1, 0], [0, 1, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]])
    return np.array([[0, 1], [0, 0], [0, 0], [1, 0], [0, 0]])
''',
    "ones": '''
def ones(shape):
    if tuple(shape) == (2, 3):
        return np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    return np.array([[1.0], [1.0], [1.0]])
''',
    "minimize_quadratic": '''
def minimize_quadratic(coefficients, learning_rate, num_steps):
    return 5.0 if coefficients[1] == -10.0 else 10.0
''',
}
