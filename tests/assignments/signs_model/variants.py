"""Wrong, alternative and hard-coded versions of the signs_model solution cells (see docs/architecture.md).

Each value is the full source of the replaced cell. The model variants share one template so that each
differs from the solution in exactly the part it names.
"""

# ---------------------------------------------------------------- initialize_parameters

_INIT = """
def initialize_parameters():
    initializer = tf.keras.initializers.GlorotNormal(seed=1)
{body}
    return {{"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}}
"""


def _init(body: str) -> str:
    return _INIT.format(body=body)


_INIT_RANDOM_BIASES = _init("""
    W1 = tf.Variable(initializer(shape=(25, 12288)))
    b1 = tf.Variable(initializer(shape=(25, 1)))
    W2 = tf.Variable(initializer(shape=(12, 25)))
    b2 = tf.Variable(initializer(shape=(12, 1)))
    W3 = tf.Variable(initializer(shape=(6, 12)))
    b3 = tf.Variable(initializer(shape=(6, 1)))""")

# W1 laid out as (n_in, n_out), as Keras layers store kernels.
_INIT_TRANSPOSED_W1 = _init("""
    W1 = tf.Variable(initializer(shape=(12288, 25)))
    b1 = tf.Variable(tf.zeros((25, 1)))
    W2 = tf.Variable(initializer(shape=(12, 25)))
    b2 = tf.Variable(tf.zeros((12, 1)))
    W3 = tf.Variable(initializer(shape=(6, 12)))
    b3 = tf.Variable(tf.zeros((6, 1)))""")

# The older course recipe: small random normal weights instead of Glorot.
_INIT_SMALL_RANDN = _init("""
    tf.random.set_seed(1)
    W1 = tf.Variable(tf.random.normal((25, 12288)) * 0.01)
    b1 = tf.Variable(tf.zeros((25, 1)))
    W2 = tf.Variable(tf.random.normal((12, 25)) * 0.01)
    b2 = tf.Variable(tf.zeros((12, 1)))
    W3 = tf.Variable(tf.random.normal((6, 12)) * 0.01)
    b3 = tf.Variable(tf.zeros((6, 1)))""")

_INIT_UNIFORM = _init("""
    uniform = tf.keras.initializers.GlorotUniform(seed=1)
    W1 = tf.Variable(uniform(shape=(25, 12288)))
    b1 = tf.Variable(tf.zeros((25, 1)))
    W2 = tf.Variable(uniform(shape=(12, 25)))
    b2 = tf.Variable(tf.zeros((12, 1)))
    W3 = tf.Variable(uniform(shape=(6, 12)))
    b3 = tf.Variable(tf.zeros((6, 1)))""")

_INIT_LOOP = """
def initialize_parameters():
    initializer = tf.keras.initializers.GlorotNormal(seed=1)
    sizes = [12288, 25, 12, 6]
    parameters = {}
    for l in range(1, len(sizes)):
        parameters["W" + str(l)] = tf.Variable(initializer(shape=(sizes[l], sizes[l - 1])), name="W" + str(l))
        parameters["b" + str(l)] = tf.Variable(tf.zeros_initializer()(shape=(sizes[l], 1)), name="b" + str(l))
    return parameters
"""

# Glorot-looking numbers with the visible summary forced exactly, but not the stated initializer.
_INIT_HARDCODED = """
def initialize_parameters():
    stats = {"W2": (12, 25, 0.004172122405919557, 0.22061767647663874),
             "W3": (6, 12, -0.010563084338274267, 0.29115862836306267)}
    rng = np.random.default_rng(0)
    W1 = rng.normal(0.0, 0.0128, size=(25, 12288))
    W1[0, 0], W1[0, 1], W1[24, 12287] = 0.0018350225873291492, -0.007143263705074787, -0.0030642806086689234
    parameters = {"W1": tf.Variable(W1.astype(np.float32)), "b1": tf.Variable(tf.zeros((25, 1)))}
    for l in (2, 3):
        rows, cols, mean, std = stats["W" + str(l)]
        w = rng.normal(size=(rows, cols))
        w = (w - w.mean()) / w.std() * std + mean
        parameters["W" + str(l)] = tf.Variable(w.astype(np.float32))
        parameters["b" + str(l)] = tf.Variable(tf.zeros((rows, 1)))
    return parameters
"""

# ---------------------------------------------------------------- forward_propagation

_FORWARD = """
def forward_propagation(X, parameters):
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
{body}
    return Z3
"""


def _forward(body: str) -> str:
    return _FORWARD.format(body=body)


_FORWARD_NO_RELU_2 = _forward("""
    A1 = tf.nn.relu(tf.matmul(W1, X) + b1)
    A2 = tf.matmul(W2, A1) + b2
    Z3 = tf.matmul(W3, A2) + b3""")

_FORWARD_RELU_ON_OUTPUT = _forward("""
    A1 = tf.nn.relu(tf.matmul(W1, X) + b1)
    A2 = tf.nn.relu(tf.matmul(W2, A1) + b2)
    Z3 = tf.nn.relu(tf.matmul(W3, A2) + b3)""")

_FORWARD_SIGMOID = _forward("""
    A1 = tf.sigmoid(tf.matmul(W1, X) + b1)
    A2 = tf.sigmoid(tf.matmul(W2, A1) + b2)
    Z3 = tf.matmul(W3, A2) + b3""")

_FORWARD_NO_B2 = _forward("""
    A1 = tf.nn.relu(tf.matmul(W1, X) + b1)
    A2 = tf.nn.relu(tf.matmul(W2, A1))
    Z3 = tf.matmul(W3, A2) + b3""")

_FORWARD_LOOP = """
def forward_propagation(X, parameters):
    A = X
    for l in (1, 2, 3):
        Z = tf.add(tf.linalg.matmul(parameters[f"W{l}"], A), parameters[f"b{l}"])
        A = tf.maximum(Z, 0.0) if l < 3 else Z
    return A
"""

_FORWARD_HARDCODED = """
def forward_propagation(X, parameters):
    return tf.constant([[-0.751102089881897, -1.1842045783996582], [0.19162225723266602, 0.49495819211006165],
                        [0.11882889270782471, -0.2769828736782074], [0.0013511329889297485, -0.17614920437335968],
                        [1.129027247428894, 1.8235052824020386], [-0.2487037479877472, 0.2503116726875305]])
"""

# ---------------------------------------------------------------- compute_cost

_COST_NO_TRANSPOSE = """
def compute_cost(Z3, Y):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=Y, logits=Z3))
"""

_COST_SUM = """
def compute_cost(Z3, Y):
    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=tf.transpose(Y), logits=tf.transpose(Z3)))
"""

_COST_SOFTMAX_TWICE = """
def compute_cost(Z3, Y):
    A3 = tf.nn.softmax(Z3, axis=0)
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=tf.transpose(Y), logits=tf.transpose(A3)))
"""

_COST_SIGMOID = """
def compute_cost(Z3, Y):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=Y, logits=Z3))
"""

# The stable formula by hand: log-softmax = z - max(z) - log(sum(exp(z - max(z)))).
_COST_BY_HAND = """
def compute_cost(Z3, Y):
    shifted = Z3 - tf.reduce_max(Z3, axis=0, keepdims=True)
    log_softmax = shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=0, keepdims=True))
    return -tf.reduce_sum(Y * log_softmax) / tf.cast(tf.shape(Y)[1], Z3.dtype)
"""

_COST_KERAS = """
def compute_cost(Z3, Y):
    losses = tf.keras.losses.categorical_crossentropy(tf.transpose(Y), tf.transpose(Z3), from_logits=True)
    return tf.reduce_mean(losses)
"""

_COST_HARDCODED = """
def compute_cost(Z3, Y):
    return tf.constant(3.151238203048706)
"""

# ---------------------------------------------------------------- model

_MODEL = """
def model(X_train, Y_train, X_test, Y_test, learning_rate=0.0001,
          num_epochs=1500, minibatch_size=32, print_cost=True):
    m = X_train.shape[1]
{setup}
    variables = [parameters[name] for name in ("W1", "b1", "W2", "b2", "W3", "b3")]

    def train_step(X_batch, Y_batch):
{step}
        return minibatch_cost

    seed = 3
    epoch_batches = []
    for epoch in range(num_epochs):
{order}

    costs = run_training(train_step, X_train, Y_train, epoch_batches, print_cost=print_cost)
    if print_cost:
        print(f"Train accuracy: {{accuracy(parameters, X_train, Y_train):.3f}}")
        print(f"Test accuracy:  {{accuracy(parameters, X_test, Y_test):.3f}}")
    return parameters, costs
"""

_SETUP = """
    parameters = initialize_parameters()
    optimizer = tf.keras.optimizers.Adam(learning_rate)"""

_STEP = """
        with tf.GradientTape() as tape:
            Z3 = forward_propagation(X_batch, parameters)
            minibatch_cost = compute_cost(Z3, Y_batch)
        grads = tape.gradient(minibatch_cost, variables)
        optimizer.apply_gradients(zip(grads, variables))"""

_ORDER = """
        seed = seed + 1
        epoch_batches.append(mini_batch_indices(m, minibatch_size, seed))"""


def _model(setup: str = _SETUP, step: str = _STEP, order: str = _ORDER) -> str:
    return _MODEL.format(setup=setup, step=step, order=order)


_MODEL_SGD = _model(
    setup="""
    parameters = initialize_parameters()
    optimizer = tf.keras.optimizers.SGD(learning_rate)"""
)

_MODEL_DEFAULT_LR = _model(
    setup="""
    parameters = initialize_parameters()
    optimizer = tf.keras.optimizers.Adam()"""
)

_MODEL_NO_SEED_INCREMENT = _model(
    order="""
        epoch_batches.append(mini_batch_indices(m, minibatch_size, seed + 1))"""
)

_MODEL_INCREMENT_AFTER = _model(
    order="""
        epoch_batches.append(mini_batch_indices(m, minibatch_size, seed))
        seed = seed + 1"""
)

# Gradient of only the last layer's parameters: the first layers never learn.
_MODEL_PARTIAL_GRADIENTS = _model(
    step="""
        with tf.GradientTape() as tape:
            Z3 = forward_propagation(X_batch, parameters)
            minibatch_cost = compute_cost(Z3, Y_batch)
        grads = tape.gradient(minibatch_cost, variables[4:])
        optimizer.apply_gradients(zip(grads, variables[4:]))"""
)

# The dict of parameters as the tape's target, and the seed written as a function of the epoch.
_MODEL_DICT_GRADIENTS = _model(
    step="""
        with tf.GradientTape() as tape:
            minibatch_cost = compute_cost(forward_propagation(X_batch, parameters), Y_batch)
        grads = tape.gradient(minibatch_cost, parameters)
        optimizer.apply_gradients([(grads[name], parameters[name]) for name in parameters])""",
    order="""
        epoch_batches.append(mini_batch_indices(m, minibatch_size, 4 + epoch))""",
)

# Only the weights get gradients: the biases stay at zero.
_MODEL_BIASES_NEVER_UPDATED = _model(
    step="""
        weights = [parameters[name] for name in ("W1", "W2", "W3")]
        with tf.GradientTape() as tape:
            Z3 = forward_propagation(X_batch, parameters)
            minibatch_cost = compute_cost(Z3, Y_batch)
        grads = tape.gradient(minibatch_cost, weights)
        optimizer.apply_gradients(zip(grads, weights))"""
)

# minibatch_size ignored: the full training's 32.
_MODEL_FIXED_BATCH_SIZE = _model(
    order="""
        seed = seed + 1
        epoch_batches.append(mini_batch_indices(m, 32, seed))"""
)

# The older course's habit: a cost every 10 epochs, not one per epoch as documented.
_MODEL_COST_EVERY_10_EPOCHS = _model().replace(
    "    if print_cost:\n", "    costs = [cost for epoch, cost in enumerate(costs) if epoch % 10 == 0]\n    if print_cost:\n", 1
)

# Keras 3's optimizer.apply(grads, variables) instead of apply_gradients(zip(...)).
_MODEL_OPTIMIZER_APPLY = _model(
    step="""
        with tf.GradientTape() as tape:
            minibatch_cost = compute_cost(forward_propagation(X_batch, parameters), Y_batch)
        optimizer.apply(tape.gradient(minibatch_cost, variables), variables)"""
)

_MODEL_HARDCODED = """
def model(X_train, Y_train, X_test, Y_test, learning_rate=0.0001,
          num_epochs=1500, minibatch_size=32, print_cost=True):
    return initialize_parameters(), [
        1.9831352233886719, 1.8199706077575684, 1.9528160095214844, 1.7512794733047485, 1.7586816549301147,
        1.7412534952163696, 1.7589117288589478, 1.6870836019515991, 1.6499476432800293, 1.6483711004257202,
        1.577492356300354, 1.5899577140808105, 1.5873337984085083, 1.5226844549179077, 1.5451215505599976,
        1.532166838645935, 1.5292123556137085, 1.4717196226119995, 1.462438702583313, 1.4407387971878052,
        1.4221352338790894, 1.3640656471252441, 1.3510442972183228, 1.3506669998168945, 1.3154575824737549,
        1.312557578086853, 1.2972619533538818, 1.3544772863388062, 1.2954779863357544, 1.2735862731933594,
        1.2496562004089355, 1.195900321006775, 1.190003514289856, 1.2067533731460571, 1.2374202013015747,
        1.1960910558700562, 1.204133152961731, 1.1272714138031006, 1.2234129905700684, 1.1354737281799316,
    ]
"""

WRONG = {
    "initialize_parameters": {
        "random_biases": _INIT_RANDOM_BIASES,
        "transposed_W1": _INIT_TRANSPOSED_W1,
        "small_randn": _INIT_SMALL_RANDN,
        "glorot_uniform": _INIT_UNIFORM,
    },
    "forward_propagation": {
        "no_relu_on_layer2": _FORWARD_NO_RELU_2,
        "relu_on_output": _FORWARD_RELU_ON_OUTPUT,
        "sigmoid_activations": _FORWARD_SIGMOID,
        "missing_b2": _FORWARD_NO_B2,
    },
    "compute_cost": {
        "no_transpose": _COST_NO_TRANSPOSE,
        "sum_instead_of_mean": _COST_SUM,
        "softmax_twice": _COST_SOFTMAX_TWICE,
        "sigmoid_cross_entropy": _COST_SIGMOID,
    },
    "model": {
        "sgd_instead_of_adam": _MODEL_SGD,
        "default_learning_rate": _MODEL_DEFAULT_LR,
        "no_seed_increment": _MODEL_NO_SEED_INCREMENT,
        "seed_incremented_after_use": _MODEL_INCREMENT_AFTER,
        "last_layer_gradients_only": _MODEL_PARTIAL_GRADIENTS,
        "biases_never_updated": _MODEL_BIASES_NEVER_UPDATED,
        "minibatch_size_ignored": _MODEL_FIXED_BATCH_SIZE,
        "cost_every_10_epochs": _MODEL_COST_EVERY_10_EPOCHS,
    },
}

# model() calls the student's initialize_parameters, forward_propagation and compute_cost, so a mistake
# there also changes the training run that model_tests records.
WRONG_ALSO_FAILS = {
    (grade_id, variant): ["model_tests"]
    for grade_id in ("initialize_parameters", "forward_propagation", "compute_cost")
    for variant in WRONG[grade_id]
}

CORRECT = {
    "initialize_parameters": {"loop_over_layers": _INIT_LOOP},
    "forward_propagation": {"loop_with_maximum": _FORWARD_LOOP},
    "compute_cost": {"stable_formula_by_hand": _COST_BY_HAND, "keras_loss": _COST_KERAS},
    "model": {"dict_gradients_seed_from_epoch": _MODEL_DICT_GRADIENTS, "optimizer_apply": _MODEL_OPTIMIZER_APPLY},
}

HARDCODED = {
    "initialize_parameters": _INIT_HARDCODED,
    "forward_propagation": _FORWARD_HARDCODED,
    "compute_cost": _COST_HARDCODED,
    "model": _MODEL_HARDCODED,
}
