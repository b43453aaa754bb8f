"""Derivations of the hyperparameter_search checks (trusted grader code, never released).

The test cells record only what the student's functions returned: the samples or betas of two calls with the
same generator seed, and the three values a search returned (best setting, its score, the trials or the round
scores) with the best score of a second call with the same seed. Everything judged is computed here from that
plain data: 1 - beta, the objective of the returned setting (with this file's own copies of the notebook's
test functions), whether every score is the objective of its setting, whether the same seed repeated the
result.

Each group's main check derives its value only from a result that keeps the whole contract of the function:
n samples, n_trials trials or n_rounds round scores, scores that are the objective of their settings, the
best score the lowest one, the same result for the same seed. Otherwise ``Invalid`` is raised, which fails
the check, and with it the group's relative checks (they count only beside it): a search that runs one trial
too few or draws from another generator earns nothing, however good its best score looks.
"""
from __future__ import annotations

import math

import numpy as np

from autograder.grading.records import Kind, Value


class Invalid(ValueError):
    """The recorded result does not keep the function's contract."""


# ---------------------------------------------------------------- the notebook's test functions, copied
# The grader never takes a function from the kernel: these are the formulas of the notebook's locked
# toy_objective and of the hidden tests' objectives, evaluated here on the recorded settings.


def toy_objective(p):
    return ((np.log10(p["learning_rate"]) + 4) ** 2
            + ((p["units"] - 90) / 100) ** 2
            + (p["dropout"] - 0.2) ** 2)


TOY_SPACE = {"learning_rate": ("log", 1e-6, 1.0), "units": ("int", 8, 256), "dropout": ("linear", 0.0, 0.5)}


def search_objective(p):  # random_search_tests, hidden
    return (p["layers"] - 3) ** 2 / 4 + (np.log10(p["weight_decay"]) + 2.2) ** 2 + (p["beta"] - 0.8) ** 2 / 0.1


SEARCH_SPACE = {"layers": ("int", 1, 8), "weight_decay": ("log", 1e-7, 1e-1), "beta": ("linear", 0.5, 0.99)}


def fine_objective(p):  # coarse_to_fine_tests, hidden
    return (np.log10(p["weight_decay"]) + 5.5) ** 2 / 4 + ((p["units"] - 37) / 50) ** 2


FINE_SPACE = {"weight_decay": ("log", 1e-8, 1e-1), "units": ("int", 1, 200)}

# The sizes the test cells ask for: n of the samplers, n_trials of random_search, n_rounds of coarse_to_fine.
VISIBLE_SAMPLES, HIDDEN_SAMPLES = 500, 700
VISIBLE_TRIALS, HIDDEN_TRIALS = 150, 120
VISIBLE_ROUNDS, HIDDEN_ROUNDS = 5, 6

# A recorded score must be the objective of its setting: the kernel evaluated the same formula on the same
# float64 numbers, so the two agree to the last bit or within rounding, far inside this.
_SCORE_RTOL = 1e-12
# 10 ** log10(high) may land a rounding step above high: a setting may exceed its range by this much.
_RANGE_RTOL = 1e-12


# ---------------------------------------------------------------- reading recorded values


def _pair(value: Value) -> tuple[Value, Value]:
    """The two items of a recorded [first, second]. Two arrays of one shape were recorded as one array with
    a row each: those rows."""
    if value.kind == Kind.ARRAY and value.array is not None and value.array.ndim >= 1 and value.array.shape[0] == 2:
        first, second = value.array
        return Value(kind=Kind.ARRAY, array=first, dtype=value.dtype), Value(kind=Kind.ARRAY, array=second, dtype=value.dtype)
    if value.kind != Kind.LIST or len(value.items) != 2:
        raise Invalid("expected the results of two calls")
    return value.items[0], value.items[1]


def _samples(value: Value, n: int) -> np.ndarray:
    if value.kind != Kind.ARRAY or value.array is None or value.array.shape != (n,):
        got = tuple(value.array.shape) if value.kind == Kind.ARRAY and value.array is not None else value.kind
        raise Invalid(f"expected an array of shape ({n},), got {got}")
    return value.numbers()


def _number(value: Value) -> float:
    if value.kind != Kind.ARRAY or value.array is None or value.array.size != 1:
        raise Invalid("expected a number")
    x = float(value.numbers().ravel()[0])
    if not math.isfinite(x):
        raise Invalid("expected a finite number")
    return x


def _setting(value: Value, space: dict) -> dict:
    """A recorded setting as plain Python numbers. Invalid unless it has exactly the space's hyperparameters,
    each inside its range, whole numbers for "int"."""
    if value.kind != Kind.DICT or set(value.fields) != set(space):
        raise Invalid(f"expected a setting with the keys {sorted(space)}")
    setting = {}
    for name, (scale, low, high) in space.items():
        x = _number(value.fields[name])
        if not low - _RANGE_RTOL * abs(low) <= x <= high + _RANGE_RTOL * abs(high):
            raise Invalid(f"{name} lies outside its range")
        if scale == "int":
            if x != round(x):
                raise Invalid(f"{name} is not a whole number")
            x = int(round(x))
        setting[name] = x
    return setting


def _is_objective_of(score: float, objective, setting: dict) -> bool:
    with np.errstate(all="ignore"):
        true = float(objective(setting))
    return score == true or math.isclose(score, true, rel_tol=_SCORE_RTOL, abs_tol=0.0)


# ---------------------------------------------------------------- samplers


def _repeated_samples(value: Value, n: int) -> np.ndarray:
    """The samples of the first of two calls with the same seed, once both have shape (n,) and agree."""
    first, second = (_samples(v, n) for v in _pair(value))
    if not np.array_equal(first, second):
        raise Invalid("the same seed gave other samples: draw every random number from rng")
    return first


def visible_log_samples(value: Value):
    return _repeated_samples(value, VISIBLE_SAMPLES)


def hidden_log_samples(value: Value):
    return _repeated_samples(value, HIDDEN_SAMPLES)


def visible_one_minus_beta(value: Value):
    return 1.0 - _repeated_samples(value, VISIBLE_SAMPLES)


def hidden_one_minus_beta(value: Value):
    return 1.0 - _repeated_samples(value, HIDDEN_SAMPLES)


def one_minus_beta(value: Value):
    """1 - beta of one call's betas (the call with another seed)."""
    if value.kind != Kind.ARRAY:
        raise Invalid("expected an array")
    return 1.0 - value.numbers()


# ---------------------------------------------------------------- searches


def _random_search_result(items, objective, space: dict, n_trials: int) -> float:
    """The best score of a recorded best_params, best_score, trials that keeps random_search's contract."""
    params, score, trials = _setting(items[0], space), _number(items[1]), items[2]
    if trials.kind != Kind.LIST or len(trials.items) != n_trials:
        raise Invalid(f"expected a list of {n_trials} trials")
    scores = []
    for trial in trials.items:
        if trial.kind != Kind.LIST or len(trial.items) != 2:
            raise Invalid("each trial must be a (params, score) pair")
        setting, trial_score = _setting(trial.items[0], space), _number(trial.items[1])
        if not _is_objective_of(trial_score, objective, setting):
            raise Invalid("a trial's score is not the objective of its setting")
        scores.append(trial_score)
    if not _is_objective_of(score, objective, params):
        raise Invalid("best_score is not the objective of best_params")
    if score != min(scores):
        raise Invalid("best_score is not the lowest score of the trials")
    return score


def _coarse_to_fine_result(items, objective, space: dict, n_rounds: int) -> float:
    """The best score of a recorded best_params, best_score, round_scores that keeps coarse_to_fine's
    contract."""
    params, score, rounds = _setting(items[0], space), _number(items[1]), items[2]
    if rounds.kind != Kind.ARRAY or rounds.array is None or rounds.array.shape != (n_rounds,):
        raise Invalid(f"expected a list of {n_rounds} round scores")
    round_scores = [float(x) for x in rounds.numbers()]
    if not all(math.isfinite(x) for x in round_scores):
        raise Invalid("a round score is not a finite number")
    if not _is_objective_of(score, objective, params):
        raise Invalid("best_score is not the objective of best_params")
    if score != min(round_scores):
        raise Invalid("best_score is not the lowest of the round scores")
    return score


def _repeated_search(value: Value, result) -> float:
    """The best score of a recorded [best_params, best_score, trials or round_scores, the best score of a
    second call with the same seed], once the result keeps the contract (``result`` checks the first three)
    and the second call repeated the best score. (One flat list: a list of trials nested in a list of
    results would be deeper than a record may be.)"""
    if value.kind != Kind.LIST or len(value.items) != 4:
        raise Invalid("expected the three returned values and the best score of a second call")
    score = result(value.items[:3])
    if _number(value.items[3]) != score:
        raise Invalid("the same seed gave another best score: create one generator from seed and draw from it")
    return score


def visible_search_score(value: Value):
    return _repeated_search(value, lambda items: _random_search_result(items, toy_objective, TOY_SPACE, VISIBLE_TRIALS))


def hidden_search_score(value: Value):
    return _repeated_search(value, lambda items: _random_search_result(items, search_objective, SEARCH_SPACE, HIDDEN_TRIALS))


def visible_coarse_score(value: Value):
    return _repeated_search(value, lambda items: _coarse_to_fine_result(items, toy_objective, TOY_SPACE, VISIBLE_ROUNDS))


def hidden_coarse_score(value: Value):
    return _repeated_search(value, lambda items: _coarse_to_fine_result(items, fine_objective, FINE_SPACE, HIDDEN_ROUNDS))
