"""Wrong, correct and hard-coded replacements of the batch_norm solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "batchnorm_forward": {
        # Statistics over the units (axis 0) instead of over the batch.
        "normalized_over_units": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=0, keepdims=True)
    var = np.var(Z, axis=0, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
''',
        # The sample variance (divides by m - 1).
        "unbiased_variance": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, ddof=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = gamma * Z_hat + beta
    return out, (Z, Z_hat, mu, var, gamma, eps)
''',
        "gamma_and_beta_swapped": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.mean((Z - mu) ** 2, axis=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    out = beta * Z_hat + gamma
    return out, (Z, Z_hat, mu, var, gamma, eps)
''',
    },
    "batchnorm_backward": {
        # Treats mu and var as constants: only the direct path from Z to Z_hat.
        "no_paths_through_statistics": '''
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ = dout * gamma / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
''',
        # Keeps the path through mu but forgets the one through var.
        "no_path_through_variance": '''
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - np.mean(dZ_hat, axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
''',
        # Averages the parameter gradients over the batch instead of summing them.
        "parameter_gradients_averaged": '''
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dbeta = np.mean(dout, axis=1, keepdims=True)
    dgamma = np.mean(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    dZ = (dZ_hat - dbeta * gamma - Z_hat * dgamma * gamma) / np.sqrt(var + eps)
    return dZ, dgamma, dbeta
''',
    },
    "update_running_averages": {
        # The weights swapped: the new batch gets the large weight.
        "weights_swapped": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var = (1 - momentum) * running_var + momentum * var
    return running_mean, running_var
''',
        "missing_one_minus_momentum": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = momentum * running_mean + mu
    running_var = momentum * running_var + var
    return running_mean, running_var
''',
        # Copy-paste slip: the variance average is fed the batch mean.
        "variance_updated_with_mean": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var = momentum * running_var + (1 - momentum) * mu
    return running_mean, running_var
''',
    },
    "batchnorm_inference": {
        # Normalizes with the statistics of the test batch, as during training.
        "batch_statistics": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta
''',
        "variance_not_square_rooted": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - running_mean) / (running_var + eps) + beta
''',
        "mean_not_subtracted": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * Z / np.sqrt(running_var + eps) + beta
''',
    },
}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "batchnorm_forward": {
        # TensorFlow's own layer maths in float32.
        "tensorflow_float32": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    Zt = tf.constant(Z, dtype=tf.float32)
    mu, var = tf.nn.moments(Zt, axes=[1], keepdims=True)
    out = tf.nn.batch_normalization(Zt, mu, var, offset=tf.constant(beta, tf.float32),
                                    scale=tf.constant(gamma, tf.float32), variance_epsilon=eps)
    Z_hat = (Zt - mu) / tf.sqrt(var + eps)
    return out.numpy(), (Z, Z_hat.numpy(), mu.numpy(), var.numpy(), gamma, eps)
''',
        "np_var_and_inverse_std": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = Z.mean(axis=1)[:, None]
    var = Z.var(axis=1)[:, None]
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_hat = (Z - mu) * inv_std
    return gamma * Z_hat + beta, (Z, Z_hat, mu, var, gamma, eps)
''',
    },
    "batchnorm_backward": {
        # The computational graph walked backwards one node at a time.
        "step_by_step_graph": '''
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
''',
        # The same formula in float32.
        "float32": '''
def batchnorm_backward(dout, cache):
    Z, Z_hat, mu, var, gamma, eps = cache
    dout, Z_hat, var, gamma = (np.asarray(a, dtype=np.float32) for a in (dout, Z_hat, var, gamma))
    dZ_hat = dout * gamma
    m = dout.shape[1]
    dZ = (m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True)
          - Z_hat * (dZ_hat * Z_hat).sum(axis=1, keepdims=True)) / (m * np.sqrt(var + np.float32(eps)))
    return dZ, (dout * Z_hat).sum(axis=1, keepdims=True), dout.sum(axis=1, keepdims=True)
''',
    },
    "update_running_averages": {
        "step_towards_batch": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    return running_mean + (1 - momentum) * (mu - running_mean), running_var + (1 - momentum) * (var - running_var)
''',
    },
    "batchnorm_inference": {
        # Folded into one scale and one shift, as deployed models do.
        "folded_scale_and_shift": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    shift = beta - scale * running_mean
    return scale * Z + shift
''',
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Returns what the visible tests expect, whatever the input.
HARDCODED = {
    "batchnorm_forward": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    out = np.array([[-1.06904344, -0.53452172, 0.0, 1.60356516],
                    [-3.35338638, -1.0, -1.78446213, 2.13784851],
                    [3.0, 3.70693007, 2.29306993, 3.0]])
    return out, (Z, Z, Z, Z, gamma, eps)
''',
    "batchnorm_backward": '''
def batchnorm_backward(dout, cache):
    grads = np.array([[-2.426938363, -2.69940396, 1.216593172, 1.972523701, 1.93722545, -1.912571852, -0.138682588],
                      [-0.240548578, 0.58013358, -0.483089853, -0.054116569, 0.197621421, -0.534454323, 1.827714386],
                      [-0.514313974, 0.541872374, 0.519236826, 0.178193847, -0.724989073, 0.352564314, -1.80874303]])
    return grads[:, :5], grads[:, 5:6], grads[:, 6:7]
''',
    "update_running_averages": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.99):
    return np.array([[0.1], [0.9], [-1.9]]), np.array([[1.1], [0.5], [3.7]])
''',
    "batchnorm_inference": '''
def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return np.array([[-0.499999375, 0.999998750], [-1.499960001, 2.499960001], [-0.500002500, -0.500002500]])
''',
}
