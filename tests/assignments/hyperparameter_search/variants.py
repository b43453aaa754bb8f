"""Wrong, correct and hard-coded replacements of the hyperparameter_search solution cells.

Each source replaces the whole solution cell with that grade_id; the variant harness
(tests/assignments/test_variants.py) grades the source notebook with one replacement at a time.
The wrong ones are mistakes students make; every check of the function's group must reject them.
The correct ones use the generator in other ways (other draws), which the property checks must accept.
"""

_RANDOM_SEARCH_HEAD = """
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

"""

# A number whose arithmetic always gives 0, numpy functions included: evaluated in the kernel, any objective of
# it is 0. The grader records it as the plain number it holds and evaluates the objective itself.
_LYING_NUMBER = """
class _Zero(float):
    def _zero(self, *args, **kwargs):
        return _Zero(0.0)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _zero
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = _zero

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _Zero(0.0)

"""

# ---------------------------------------------------------------------------------------------- WRONG
WRONG = {
    "sample_log_uniform": {
        # Uniform between the bounds: nearly every sample lands in the top decade.
        "linear_scale": """
def sample_log_uniform(low, high, n, rng):
    return rng.uniform(low, high, size=n)
""",
        # Natural-log exponents raised to the power of 10: far outside [low, high].
        "natural_log_bounds": """
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log(low), np.log(high), size=n)
""",
        # Returns the exponents themselves (negative numbers).
        "exponents_returned": """
def sample_log_uniform(low, high, n, rng):
    return rng.uniform(np.log10(low), np.log10(high), size=n)
""",
        # n ignored: size forgotten, one number instead of an array.
        "size_forgotten": """
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high))
""",
        # The generator ignored: numpy's global one, so the same seed gives other samples.
        "global_numpy_generator": """
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** np.random.uniform(np.log10(low), np.log10(high), size=n)
""",
    },
    "sample_momentum_beta": {
        # beta itself on a log scale: 1 - beta is then close to uniform, not log-uniform.
        "beta_on_log_scale": """
def sample_momentum_beta(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=n)
""",
        # Forgets the final "1 -": returns 1 - beta in place of beta.
        "one_minus_beta_returned": """
def sample_momentum_beta(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size=n)
""",
        "uniform_beta": """
def sample_momentum_beta(low, high, n, rng):
    return rng.uniform(low, high, size=n)
""",
        # Flips the wrong thing: beta log-uniform on [low, high], then 1 - beta returned as beta.
        "flipped_after_sampling_beta": """
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=n)
""",
        # The generator ignored: numpy's global one.
        "global_numpy_generator": """
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - 10.0 ** np.random.uniform(np.log10(1.0 - high), np.log10(1.0 - low), size=n)
""",
    },
    "random_search": {
        # Treats the score as an accuracy: keeps the highest.
        "keeps_highest_score": _RANDOM_SEARCH_HEAD
        + """
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = [(p, float(objective(p))) for p in (sample_params(space, rng) for _ in range(n_trials))]
    best_params, best_score = max(trials, key=lambda t: t[1])
    return best_params, best_score, trials
""",
        # A new generator from the same seed in every trial: every trial is the same setting.
        "generator_created_every_trial": _RANDOM_SEARCH_HEAD
        + """
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
""",
        # Forgets the comparison: returns the last trial.
        "last_trial_returned": _RANDOM_SEARCH_HEAD
        + """
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_trials):
        params = sample_params(space, rng)
        best_params, best_score = params, float(objective(params))
        trials.append((best_params, best_score))
    return best_params, best_score, trials
""",
        # n_trials off by one: the loop runs one trial too few.
        "one_trial_too_few": _RANDOM_SEARCH_HEAD
        + """
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    best_params, best_score = None, np.inf
    for _ in range(1, n_trials):
        params = sample_params(space, rng)
        score = float(objective(params))
        trials.append((params, score))
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, trials
""",
        # The seed ignored: sample_params draws from numpy's global generator, not from rng.
        "global_numpy_generator": """
def sample_params(space, rng):
    params = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            params[name] = float(10.0 ** np.random.uniform(np.log10(low), np.log10(high)))
        elif scale == "linear":
            params[name] = float(np.random.uniform(low, high))
        else:
            params[name] = int(np.random.randint(low, high + 1))
    return params


def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    best_params, best_score = None, np.inf
    for _ in range(n_trials):
        params = sample_params(space, rng)
        score = float(objective(params))
        trials.append((params, score))
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, trials
""",
        # No search: the lower bounds as lying numbers, every trial claiming a score of 0.
        "lying_numbers": _RANDOM_SEARCH_HEAD
        + _LYING_NUMBER
        + """
def random_search(objective, space, n_trials, seed=0):
    best = {name: _Zero(low) for name, (scale, low, high) in space.items()}
    return best, 0.0, [(best, 0.0)] * n_trials
""",
        # Records only the settings tried, not their scores.
        "trials_without_scores": _RANDOM_SEARCH_HEAD
        + """
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    best_params, best_score = None, np.inf
    for _ in range(n_trials):
        params = sample_params(space, rng)
        score = float(objective(params))
        trials.append(params)
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, trials
""",
    },
    "narrow_space": {
        # Narrows log parameters on a linear scale.
        "log_parameters_narrowed_linearly": """
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        half = shrink * (high - low) / 2
        new_lo, new_hi = max(low, center[name] - half), min(high, center[name] + half)
        if scale == "int":
            new_lo, new_hi = int(np.floor(new_lo)), int(np.ceil(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
""",
        "not_clipped": """
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
""",
        # shrink times the whole width on each side: the range is twice as wide as asked.
        "full_width_on_each_side": """
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
""",
        # Rounds "int" bounds inwards (ceil the low one, floor the high one): the range loses its ends.
        "int_rounded_inwards": """
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            lo, hi, c = np.log10(low), np.log10(high), np.log10(center[name])
        else:
            lo, hi, c = low, high, center[name]
        half = shrink * (hi - lo) / 2
        new_lo, new_hi = max(lo, c - half), min(hi, c + half)
        if scale == "log":
            new_lo, new_hi = 10.0 ** new_lo, 10.0 ** new_hi
        elif scale == "int":
            new_lo, new_hi = int(np.ceil(new_lo)), int(np.floor(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
""",
        # "int" bounds not rounded: fractions where whole numbers belong.
        "int_not_rounded": """
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            lo, hi, c = np.log10(low), np.log10(high), np.log10(center[name])
        else:
            lo, hi, c = low, high, center[name]
        half = shrink * (hi - lo) / 2
        new_lo, new_hi = max(lo, c - half), min(hi, c + half)
        if scale == "log":
            new_lo, new_hi = 10.0 ** new_lo, 10.0 ** new_hi
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
""",
        # Clips at the lower bound only.
        "upper_bound_not_clipped": """
def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        if scale == "log":
            lo, hi, c = np.log10(low), np.log10(high), np.log10(center[name])
        else:
            lo, hi, c = low, high, center[name]
        half = shrink * (hi - lo) / 2
        new_lo, new_hi = max(lo, c - half), c + half
        if scale == "log":
            new_lo, new_hi = 10.0 ** new_lo, 10.0 ** new_hi
        elif scale == "int":
            new_lo, new_hi = int(np.floor(new_lo)), int(np.ceil(new_hi))
        narrowed[name] = (scale, new_lo, new_hi)
    return narrowed
""",
    },
    "coarse_to_fine": {
        "keeps_highest_score": """
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
""",
        # narrow_space(center, space, ...): the arguments in the wrong order.
        "narrow_space_arguments_swapped": """
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
""",
        # A first round before the loop, then n_rounds more: one round too many.
        "one_round_too_many": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    rng = np.random.default_rng(seed)
    current = dict(space)
    best_params, best_score = None, np.inf
    round_scores = []
    for _ in range(n_rounds + 1):
        round_best = np.inf
        for _ in range(n_trials):
            params = sample_params(current, rng)
            score = float(objective(params))
            round_best = min(round_best, score)
            if score < best_score:
                best_params, best_score = params, score
        round_scores.append(round_best)
        current = narrow_space(current, best_params, shrink)
    return best_params, best_score, round_scores
""",
        # The seed ignored: every setting drawn from numpy's global generator.
        "global_numpy_generator": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    current = dict(space)
    best_params, best_score = None, np.inf
    round_scores = []
    for _ in range(n_rounds):
        round_best = np.inf
        for _ in range(n_trials):
            params = {}
            for name, (scale, low, high) in current.items():
                if scale == "log":
                    params[name] = float(10.0 ** np.random.uniform(np.log10(low), np.log10(high)))
                elif scale == "linear":
                    params[name] = float(np.random.uniform(low, high))
                else:
                    params[name] = int(np.random.randint(low, high + 1))
            score = float(objective(params))
            round_best = min(round_best, score)
            if score < best_score:
                best_params, best_score = params, score
        round_scores.append(round_best)
        current = narrow_space(current, best_params, shrink)
    return best_params, best_score, round_scores
""",
        # Returns the last round's best setting with the best score of all rounds.
        "last_round_setting": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    rng = np.random.default_rng(seed)
    current = dict(space)
    best_params, best_score = None, np.inf
    round_scores = []
    for _ in range(n_rounds):
        round_best, round_params = np.inf, None
        for _ in range(n_trials):
            params = sample_params(current, rng)
            score = float(objective(params))
            if score < round_best:
                round_best, round_params = score, params
        round_scores.append(round_best)
        best_score = min(best_score, round_best)
        best_params = round_params
        current = narrow_space(current, best_params, shrink)
    return best_params, best_score, round_scores
""",
        # No search: the lower bounds as lying numbers, claiming a score of 0 in every round.
        "lying_numbers": _LYING_NUMBER
        + """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    best = {name: _Zero(low) for name, (scale, low, high) in space.items()}
    return best, float(objective(best)), [0.0] * n_rounds
""",
        # Appends every trial's score, not one best score per round.
        "every_trial_in_round_scores": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    rng = np.random.default_rng(seed)
    current = dict(space)
    best_params, best_score = None, np.inf
    round_scores = []
    for _ in range(n_rounds):
        for _ in range(n_trials):
            params = sample_params(current, rng)
            score = float(objective(params))
            round_scores.append(score)
            if score < best_score:
                best_params, best_score = params, score
        current = narrow_space(current, best_params, shrink)
    return best_params, best_score, round_scores
""",
    },
}

# sample_params is shared: a random_search whose sample_params ignores rng also breaks coarse_to_fine.
WRONG_ALSO_FAILS = {("random_search", "global_numpy_generator"): ["coarse_to_fine_tests"]}

# -------------------------------------------------------------------------------------------- CORRECT
CORRECT = {
    "sample_log_uniform": {
        "natural_log": """
def sample_log_uniform(low, high, n, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n))
""",
        # low * (high / low) ** u with u uniform on [0, 1).
        "ratio_power": """
def sample_log_uniform(low, high, n, rng):
    return low * (high / low) ** rng.random(n)
""",
    },
    "sample_momentum_beta": {
        "via_sample_log_uniform": """
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - sample_log_uniform(1.0 - high, 1.0 - low, n, rng)
""",
        # Draws from the top of the range downwards: other draws, same distribution.
        "reversed_interval": """
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - np.power(10.0, np.log10(1.0 - low) - rng.random(n) * np.log10((1.0 - low) / (1.0 - high)))
""",
    },
    "random_search": {
        # Draws all settings first (each hyperparameter in one vectorized call), then takes the argmin.
        "draw_all_then_argmin": """
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
""",
        # The best trial by min() with a key, after the loop.
        "min_with_key": _RANDOM_SEARCH_HEAD
        + """
def random_search(objective, space, n_trials, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_trials):
        params = sample_params(space, rng)
        trials.append((params, float(objective(params))))
    best_params, best_score = min(trials, key=lambda trial: trial[1])
    return best_params, best_score, trials
""",
    },
    "narrow_space": {
        # The same zoom written with ratios: on a log scale, +-h in log10 is a factor 10 ** h.
        "ratios_for_log": """
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
""",
        # np.clip and math.floor / math.ceil, natural logarithms for the log scale.
        "clip_and_natural_log": """
import math


def narrow_space(space, center, shrink):
    narrowed = {}
    for name, (scale, low, high) in space.items():
        to, back = (np.log, np.exp) if scale == "log" else ((lambda x: x), (lambda x: x))
        lo, hi, c = to(low), to(high), to(center[name])
        half = shrink * (hi - lo) / 2
        new_lo, new_hi = back(np.clip(c - half, lo, hi)), back(np.clip(c + half, lo, hi))
        if scale == "int":
            new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
        narrowed[name] = (scale, float(new_lo) if scale != "int" else new_lo, float(new_hi) if scale != "int" else new_hi)
    return narrowed
""",
    },
    "coarse_to_fine": {
        # Reuses random_search with one seed per round and narrows the original space by shrink ** round.
        "random_search_per_round": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    best_params, best_score, round_scores = None, np.inf, []
    for r in range(n_rounds):
        current = space if best_params is None else narrow_space(space, best_params, shrink ** r)
        params, score, _ = random_search(objective, current, n_trials, seed=seed * 1000 + r)
        round_scores.append(score)
        if score < best_score:
            best_params, best_score = params, score
    return best_params, best_score, round_scores
""",
    },
}

# ----------------------------------------------------------------------------------------- HARDCODED
# Passes every visible check and nothing else: fixed draws for the visible bounds, a known optimum.
HARDCODED = {
    "sample_log_uniform": """
def sample_log_uniform(low, high, n, rng):
    return 10.0 ** np.random.default_rng(0).uniform(-4.0, -1.0, size=500)
""",
    "sample_momentum_beta": """
def sample_momentum_beta(low, high, n, rng):
    return 1.0 - 10.0 ** np.random.default_rng(1).uniform(-3.0, -1.0, size=500)
""",
    "random_search": """
def sample_params(space, rng):
    return {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}


def random_search(objective, space, n_trials, seed=0):
    best = {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}
    return best, 0.0, [(best, 0.0)] * 150
""",
    "narrow_space": """
def narrow_space(space, center, shrink):
    return {"learning_rate": ("log", 1.2589254117941661e-05, 0.0007943282347242813), "units": ("int", 62, 138),
            "dropout": ("linear", 0.375, 0.5)}
""",
    "coarse_to_fine": """
def coarse_to_fine(objective, space, n_trials, n_rounds, seed=0, shrink=0.5):
    best = {"learning_rate": 1e-4, "units": 90, "dropout": 0.2}
    return best, 0.0, [0.0] * 5
""",
}
