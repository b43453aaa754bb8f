"""Wrong, correct and hard-coded replacements of the batch_norm solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "batchnorm_forward": {
        # Statistics over the units (axis 0) instead of over the batch.
        "normalized_over_units": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=0, keepdims=True)
    var = np.var(Z, axis=0, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        # The sample variance (divides by m - 1).
        "unbiased_variance": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, ddof=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        "gamma_and_beta_swapped": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.mean((Z - mu) ** 2, axis=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = beta * Z_hat + gamma
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        # out is right, but the cache holds var + eps: the backward pass would add eps twice.
        "variance_plus_eps_cached": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True) + eps
    Z_hat = (Z - mu) / np.sqrt(var)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        # out is right, but the cache holds the standard deviation under the name var.
        "std_cached_as_variance": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.sqrt(np.mean((Z - mu) ** 2, axis=1, keepdims=True) + eps)
    Z_hat = (Z - mu) / var
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        "eps_outside_sqrt": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.mean((Z - mu) ** 2, axis=1, keepdims=True)
    Z_hat = (Z - mu) / (np.sqrt(var) + eps)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
        # The default eps written into the formula: the argument is ignored.
        "eps_ignored": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.mean((Z - mu) ** 2, axis=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + 1e-5)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
""",
    },
    "batchnorm_backward": {
        # Treats mu and var as constants: only the direct path from Z to Z_hat.
        "no_paths_through_statistics": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ = dout * gamma / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
        # Keeps the path through mu but forgets the one through var.
        "no_path_through_variance": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
        # Averages the parameter gradients over the batch instead of summing them.
        "parameter_gradients_averaged": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.mean(dout, axis=1, keepdims=True)
    dgamma = np.mean(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - dbeta * gamma - Z_hat * dgamma * gamma) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
        "eps_dropped": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)
          - Z_hat * np.mean(dZ_hat * Z_hat, axis=1, keepdims=True)) / np.sqrt(var)
    return dZ, dgamma, dbeta
""",
        "eps_outside_sqrt": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)
          - Z_hat * np.mean(dZ_hat * Z_hat, axis=1, keepdims=True)) / (np.sqrt(var) + eps)
    return dZ, dgamma, dbeta
""",
        # dgamma from the input Z instead of the normalized Z_hat.
        "dgamma_from_Z": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)
          - Z_hat * np.mean(dZ_hat * Z_hat, axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
        # dZ_hat = dout: the scale gamma forgotten on the way back.
        "gamma_forgotten": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ = (dout - np.mean(dout, axis=1, keepdims=True)
          - Z_hat * np.mean(dout * Z_hat, axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
        # Sums without keepdims: dgamma and dbeta of shape (n,) instead of (n, 1).
        "flat_parameter_gradients": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1)
    dgamma = np.sum(dout * Z_hat, axis=1)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)
          - Z_hat * np.mean(dZ_hat * Z_hat, axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
""",
    },
    "update_running_averages": {
        # The weights swapped: the new batch gets the large weight.
        "weights_swapped": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var = (1 - momentum) * running_var + momentum * var
    return running_mean, running_var
""",
        "missing_one_minus_momentum": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = momentum * running_mean + mu
    running_var = momentum * running_var + var
    return running_mean, running_var
""",
        # Copy-paste slip: the variance average is fed the batch mean.
        "variance_updated_with_mean": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var = momentum * running_var + (1 - momentum) * mu
    return running_mean, running_var
""",
        # Keras' default written into the formula: the argument is ignored.
        "momentum_ignored": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = 0.99 * running_mean + 0.01 * mu
    running_var = 0.99 * running_var + 0.01 * var
    return running_mean, running_var
""",
        "returned_in_wrong_order": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    new_mean = momentum * running_mean + (1 - momentum) * mu
    new_var = momentum * running_var + (1 - momentum) * var
    return new_var, new_mean
""",
        # Only the mean is averaged; the old variance comes back unchanged.
        "variance_not_updated": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = momentum * running_mean + (1 - momentum) * mu
    return running_mean, running_var
""",
    },
    "batchnorm_inference": {
        # Normalizes with the statistics of the test batch, as during training.
        "batch_statistics": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta
""",
        "variance_not_square_rooted": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - running_mean) / (running_var + eps) + beta
""",
        "mean_not_subtracted": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * Z / np.sqrt(running_var + eps) + beta
""",
        "eps_outside_sqrt": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - running_mean) / (np.sqrt(running_var) + eps) + beta
""",
        "eps_ignored": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - running_mean) / np.sqrt(running_var + 1e-5) + beta
""",
        "gamma_and_beta_swapped": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return beta * (Z - running_mean) / np.sqrt(running_var + eps) + gamma
""",
    },
}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "batchnorm_forward": {
        # TensorFlow's own layer maths in float32.
        "tensorflow_float32": """
import tensorflow as tf

def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    Zt = tf.constant(Z, dtype=tf.float32)
    mu, var = tf.nn.moments(Zt, axes=[1], keepdims=True)
    out = tf.nn.batch_normalization(Zt, mu, var, offset=tf.constant(beta, tf.float32),
                                    scale=tf.constant(gamma, tf.float32), variance_epsilon=eps)
    Z_hat = (Zt - mu) / tf.sqrt(var + eps)
    return out.numpy(), (Z, Z_hat.numpy(), mu.numpy(), var.numpy(), gamma, eps)
""",
        "np_var_and_inverse_std": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = Z.mean(axis=1)[:, None]
    var = Z.var(axis=1)[:, None]
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_hat = (Z - mu) * inv_std
    return gamma * Z_hat + beta, (Z, Z_hat, mu, var, gamma, eps)
""",
        # The cache as a list, the statistics from sums.
        "sums_and_list_cache": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    m = Z.shape[1]
    mu = Z.sum(axis=1, keepdims=True) / m
    centered = Z - mu
    var = (centered * centered).sum(axis=1, keepdims=True) / m
    Z_hat = centered / np.sqrt(var + eps)
    return Z_hat * gamma + beta, [Z, Z_hat, mu, var, gamma, eps]
""",
    },
    "batchnorm_backward": {
        # The computational graph walked backwards one node at a time.
        "step_by_step_graph": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    m = Z.shape[1]
    std = np.sqrt(var + eps)
    dbeta = dout.sum(axis=1, keepdims=True)
    dgamma = (dout * Z_hat).sum(axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dvar = np.sum(dZ_hat * (Z - mu), axis=1, keepdims=True) * -0.5 * std ** -3
    dmu = -np.sum(dZ_hat, axis=1, keepdims=True) / std + dvar * np.mean(-2.0 * (Z - mu), axis=1, keepdims=True)
    dZ = dZ_hat / std + dvar * 2.0 * (Z - mu) / m + dmu / m
    return dZ, dgamma, dbeta
""",
        # The same formula in float32.
        "float32": """
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dout, Z_hat, var, gamma = (np.asarray(a, dtype=np.float32) for a in (dout, Z_hat, var, gamma))
    dZ_hat = dout * gamma
    m = dout.shape[1]
    dZ = (m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True)
          - Z_hat * (dZ_hat * Z_hat).sum(axis=1, keepdims=True)) / (m * np.sqrt(var + np.float32(eps)))
    return dZ, (dout * Z_hat).sum(axis=1, keepdims=True), dout.sum(axis=1, keepdims=True)
""",
        # Automatic differentiation of TensorFlow's batch normalization, rebuilt from Z and gamma in the cache.
        "gradient_tape": """
import tensorflow as tf

def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    Zt, gt = tf.constant(Z), tf.constant(gamma)
    bt = tf.zeros_like(gt)
    with tf.GradientTape() as tape:
        tape.watch([Zt, gt, bt])
        m, v = tf.nn.moments(Zt, axes=[1], keepdims=True)
        out = tf.nn.batch_normalization(Zt, m, v, offset=bt, scale=gt, variance_epsilon=eps)
        cost = tf.reduce_sum(out * dout)
    return tuple(g.numpy() for g in tape.gradient(cost, [Zt, gt, bt]))
""",
    },
    "update_running_averages": {
        "step_towards_batch": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    return running_mean + (1 - momentum) * (mu - running_mean), running_var + (1 - momentum) * (var - running_var)
""",
        # np.average with weights, returned as a list.
        "weighted_average": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    weights = [momentum, 1 - momentum]
    return [np.average([running_mean, mu], axis=0, weights=weights),
            np.average([running_var, var], axis=0, weights=weights)]
""",
    },
    "batchnorm_inference": {
        # Folded into one scale and one shift, as deployed models do.
        "folded_scale_and_shift": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    shift = beta - scale * running_mean
    return scale * Z + shift
""",
        "tensorflow_float32": """
import tensorflow as tf

def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    f = lambda a: tf.constant(a, dtype=tf.float32)
    return tf.nn.batch_normalization(f(Z), f(running_mean), f(running_var), offset=f(beta), scale=f(gamma),
                                     variance_epsilon=eps).numpy()
""",
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Returns what the visible tests expect, whatever the input.
HARDCODED = {
    "batchnorm_forward": """
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    out = np.array([[-1.0, -0.5, 0.0, 1.5], [1.0, -3.0, -1.0, -1.0], [3.75, 2.375, 2.875, 3.0]])
    Z_hat = np.array([[-1.0, -0.5, 0.0, 1.5], [1.0, -1.0, 0.0, 0.0], [1.5, -1.25, -0.25, 0.0]])
    return out, (Z, Z_hat, np.array([[3.0], [-0.5], [10.0]]), np.array([[3.5], [0.5], [15.5]]), gamma, eps)
""",
    "batchnorm_backward": """
def batchnorm_backward(dout, cache):
    dZ = np.array([[0.5, -0.65625, -0.0625, 0.21875], [0.5, 1.5, -4.0, 2.0],
                   [-0.05078125, -0.056640625, 0.013671875, 0.09375]])
    return dZ, np.array([[2.5], [-1.0], [-2.25]]), np.array([[2.5], [0.0], [1.0]])
""",
    "update_running_averages": """
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    return np.array([[0.1], [0.9], [-1.9]]), np.array([[1.1], [0.5], [3.7]])
""",
    "batchnorm_inference": """
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return np.array([[-0.5, 1.0], [-0.5, 1.5], [-0.75, -0.75]])
""",
}
