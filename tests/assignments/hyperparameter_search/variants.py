"""Wrong, correct and hard-coded replacements of the hyperparameter_search solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
The correct ones use the generator in other ways (other draws), which the property checks must accept.
"""

_RANDOM_SEARCH_HEAD = '''
def sample_params(space, rng):
    params = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            params[name] = float(10.0 ** rng.uniform(np.log10(low), np.log10(high)))
        elif scale == "linear":
            params[name] = float(rng.uniform(low, high))
        else:
            params[name] = int(rng.integers(low, high, endpoint=True))
    return params

'''

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "sample_log_uniform": {
        # Uniform between the bounds: nearly every sample lands in the top decade.
        "linear_scale": '''
def sample_log_uniform(low, high, n, rng):
    return rng.uniform(low, high, size=n)
''',
        # Natural-log exponents raised to the power of 10: far outside [low, high].
        "natural_log_bounds": '''
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log(low), np.log(high), size=n)
''',
        # Returns the exponents themselves (negative numbers).
        "exponents_returned": '''
def sample_log_uniform(low, high, n, rng):
    return rng.uniform(np.log10(low), np.log10(high), size=n)
''',
    },
    "sample_momentum_beta": {
        # beta itself on a log scale: 1 - beta is then close to uniform, not log-uniform.
        "beta_on_log_scale": '''
def sample_momentum_beta(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=n)
''',
        # Forgets the final "1 -": returns 1 - beta in place of beta.
        "one_minus_beta_returned": '''
def sample_momentum_beta(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size=n)
''',
        "uniform_beta": '''
def sample_momentum_beta(low, high, n, rng):
    return rng.uniform(low, high, size=n)
''',
    },
    "random_search": {
        # Treats the score as an accuracy: keeps the highest.
        "keeps_highest_score": _RANDOM_SEARCH_HEAD + '''
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = [(p, float(objective(p))) for p in (sample_params(space, rng) for _ in range(n_trials))]
    best_params, best_score = max(trials, key=lambda t: t[1])
    return best_params, best_score, trials
''',
        # A new generator from the same seed in every trial: every trial is the same setting.
        "generator_created_every_trial": _RANDOM_SEARCH_HEAD + '''
def random_search(objective, space, n_trials, seed=0):
    trials = []
    best_params, best_score = None, np.inf
    for _ in range(n_trials):
        rng = np.random.default_rng(seed)
        params = sample_params(space, rng)
        score = float(objective(params))
        trials.append((params, score))
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, trials
''',
        # Forgets the comparison: returns the last trial.
        "last_trial_returned": _RANDOM_SEARCH_HEAD + '''
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_trials):
        params = sample_params(space, rng)
        best_params, best_score = params, float(objective(params))
        trials.append((best_params, best_score))
    return best_params, best_score, trials
''',
    },
    "narrow_space": {
        # Narrows log parameters on a linear scale.
        "log_parameters_narrowed_linearly": '''
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        half = shrink * (high - low) / 2
        new_lo, new_hi = max(low, center[name] - half), min(high, center[name] + half)
        if scale == "int":
            new_lo, new_hi = int(np.floor(new_lo)), int(np.ceil(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
''',
        "not_clipped": '''
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            lo, hi, c = np.log10(low), np.log10(high), np.log10(center[name])
        else:
            lo, hi, c = low, high, center[name]
        half = shrink * (hi - lo) / 2
        new_lo, new_hi = c - half, c + half
        if scale == "log":
            new_lo, new_hi = 10.0 ** new_lo, 10.0 ** new_hi
        elif scale == "int":
            new_lo, new_hi = int(np.floor(new_lo)), int(np.ceil(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
''',
        # shrink times the whole width on each side: the range is twice as wide as asked.
        "full_width_on_each_side": '''
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            lo, hi, c = np.log10(low), np.log10(high), np.log10(center[name])
        else:
            lo, hi, c = low, high, center[name]
        half = shrink * (hi - lo)
        new_lo, new_hi = max(lo, c - half), min(hi, c + half)
        if scale == "log":
            new_lo, new_hi = 10.0 ** new_lo, 10.0 ** new_hi
        elif scale == "int":
            new_lo, new_hi = int(np.floor(new_lo)), int(np.ceil(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
''',
    },
    "coarse_to_fine": {
        "keeps_highest_score": '''
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    rng = np.random.default_rng(seed)
    current = dict(space)
    best_params, best_score = None, -np.inf
    round_scores = []
    for _ in range(n_rounds):
        round_best = -np.inf
        for _ in range(n_trials):
            params = sample_params(current, rng)
            score = float(objective(params))
            round_best = max(round_best, score)
            if score > best_score:
                best_params, best_score = params, score
        round_scores.append(round_best)
        current = narrow_space(current, best_params, shrink)
    return best_params, best_score, round_scores
''',
        # narrow_space(center, space, ...): the arguments in the wrong order.
        "narrow_space_arguments_swapped": '''
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    rng = np.random.default_rng(seed)
    current = dict(space)
    best_params, best_score = None, np.inf
    round_scores = []
    for _ in range(n_rounds):
        round_best = np.inf
        for _ in range(n_trials):
            params = sample_params(current, rng)
            score = float(objective(params))
            round_best = min(round_best, score)
            if score < best_score:
                best_params, best_score = params, score
        round_scores.append(round_best)
        current = narrow_space(best_params, current, shrink)
    return best_params, best_score, round_scores
''',
    },
}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "sample_log_uniform": {
        "natural_log": '''
def sample_log_uniform(low, high, n, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n))
''',
        # low * (high / low) ** u with u uniform on [0, 1).
        "ratio_power": '''
def sample_log_uniform(low, high, n, rng):
    return low * (high / low) ** rng.random(n)
''',
    },
    "sample_momentum_beta": {
        "via_sample_log_uniform": '''
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - sample_log_uniform(1.0 - high, 1.0 - low, n, rng)
''',
        # Draws from the top of the range downwards: other draws, same distribution.
        "reversed_interval": '''
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - np.power(10.0, np.log10(1.0 - low) - rng.random(n) * np.log10((1.0 - low) / (1.0 - high)))
''',
    },
    "random_search": {
        # Draws all settings first (each hyperparameter in one vectorized call), then takes the argmin.
        "draw_all_then_argmin": '''
def sample_params(space, rng):
    params = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            params[name] = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        elif scale == "linear":
            params[name] = float(low + (high - low) * rng.random())
        else:
            params[name] = int(rng.integers(low, high + 1))
    return params


def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    columns = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            columns[name] = 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=n_trials)
        elif scale == "linear":
            columns[name] = rng.uniform(low, high, size=n_trials)
        else:
            columns[name] = rng.integers(low, high, size=n_trials, endpoint=True)
    settings = [{name: (int(v[i]) if space[name][0] == "int" else float(v[i])) for name, v in columns.items()}
                for i in range(n_trials)]
    trials = [(p, float(objective(p))) for p in settings]
    best = int(np.argmin([score for _, score in trials]))
    return trials[best][0], trials[best][1], trials
''',
    },
    "narrow_space": {
        # The same zoom written with ratios: on a log scale, +-h in log10 is a factor 10 ** h.
        "ratios_for_log": '''
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        c = center[name]
        if scale == "log":
            factor = (high / low) ** (shrink / 2)
            narrowed[name] = (scale, max(low, c / factor), min(high, c * factor))
        else:
            half = shrink * (high - low) / 2
            lo, hi = max(low, c - half), min(high, c + half)
            if scale == "int":
                lo, hi = int(np.floor(lo)), int(np.ceil(hi))
            narrowed[name] = (scale, lo, hi)
    return narrowed
''',
    },
    "coarse_to_fine": {
        # Reuses random_search with one seed per round and narrows the original space by shrink ** round.
        "random_search_per_round": '''
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    best_params, best_score, round_scores = None, np.inf, []
    for r in range(n_rounds):
        current = space if best_params is None else narrow_space(space, best_params, shrink ** r)
        params, score, _ = random_search(objective, current, n_trials, seed=seed * 1000 + r)
        round_scores.append(score)
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, round_scores
''',
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Passes every visible check and nothing else: fixed draws for the visible bounds, a known optimum.
HARDCODED = {
    "sample_log_uniform": '''
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** np.random.default_rng(0).uniform(-4.0, -1.0, size=1000)
''',
    "sample_momentum_beta": '''
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - 10.0 ** np.random.default_rng(1).uniform(-3.0, -1.0, size=1000)
''',
    "random_search": '''
def sample_params(space, rng):
    return {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}


def random_search(objective, space, n_trials, seed=0):
    best = {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}
    return best, 0.0, [(best, 0.0)]
''',
    "narrow_space": '''
def narrow_space(space, center, shrink):
    return {"learning_rate": ("log", 3.16227766017e-06, 0.00316227766017), "units": ("int", 38, 162),
            "dropout": ("linear", 0.325, 0.5)}
''',
    "coarse_to_fine": '''
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    best = {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}
    return best, 0.0, [0.0] * n_rounds
''',
}
