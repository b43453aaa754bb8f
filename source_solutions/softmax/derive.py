"""Derived quantities of the softmax checks, computed by the grader from the recorded parameters.

The test cells record what train_softmax returned; accuracy and cost of those parameters are computed here,
on data built here with the notebook's own recipe (make_blobs of the locked cell "data"), never in the kernel.
"""
from __future__ import annotations

import numpy as np

from autograder.grading.records import Value


def _make_blobs(centers, per_class, spread, seed):
    # The notebook's make_blobs: the same generator calls in the same order give the same points.
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(center, spread, size=(per_class, 2)) for center in centers]).T
    labels = np.repeat(np.arange(len(centers)), per_class)
    return X, np.eye(len(centers))[labels].T


def _three_classes():
    return _make_blobs([(-2.0, -1.0), (2.0, -1.0), (0.0, 2.0)], per_class=100, spread=1.0, seed=1)


def _four_classes():
    return _make_blobs([(-2.5, 2.0), (2.5, 2.0), (-2.5, -2.0), (2.5, -2.0)], per_class=60, spread=1.0, seed=7)


def _logits(params: Value, X: np.ndarray, n_classes: int) -> np.ndarray:
    """W X + b of recorded parameters {"W": (C, n_x), "b": (C, 1)}; ValueError for anything else."""
    if set(params.fields) != {"W", "b"}:
        raise ValueError("params must be a dict with the keys 'W' and 'b'")
    W, b = params.fields["W"].numbers(), params.fields["b"].numbers()
    if W.shape != (n_classes, X.shape[0]) or b.shape != (n_classes, 1):
        raise ValueError(f"W and b have the shapes {W.shape} and {b.shape}")
    return W @ X + b


def _accuracy(params: Value, X: np.ndarray, Y: np.ndarray) -> float:
    # The largest logit is the predicted class (softmax keeps the order).
    return float(np.mean(np.argmax(_logits(params, X, Y.shape[0]), axis=0) == np.argmax(Y, axis=0)))


def _cost(params: Value, X: np.ndarray, Y: np.ndarray) -> float:
    # Cross-entropy through a log-softmax shifted by each column's maximum: finite for any finite logits.
    Z = _logits(params, X, Y.shape[0])
    Z = Z - Z.max(axis=0, keepdims=True)
    log_probs = Z - np.log(np.exp(Z).sum(axis=0, keepdims=True))
    return float(-np.mean(np.sum(Y * log_probs, axis=0)))


def accuracy_three_classes(params: Value) -> float:
    """Training accuracy of the returned parameters on the notebook's X_train, Y_train."""
    return _accuracy(params, *_three_classes())


def accuracy_four_classes(params: Value) -> float:
    """Training accuracy on the four-class data of the hidden test."""
    return _accuracy(params, *_four_classes())


def cost_four_classes(params: Value) -> float:
    """Cross-entropy cost on the four-class data of the hidden test."""
    return _cost(params, *_four_classes())
