"""Derivations of the signs_model checks (trusted grader code, never released).

The test cells record pieces of the parameter dicts that initialize_parameters and model return, as they are
(three entries of W1, which is too large to record whole, and the other five arrays); the summaries judged are
computed here from those plain numbers, never in the kernel.
"""
from __future__ import annotations

import numpy as np

from autograder.grading.records import Kind, Value

# What initialize_parameters_tests records, in this order (the notebook's initialization_summary reads the same).
SUMMARY_PIECES = ("W1[0][0]", "W1[0][1]", "W1[24][12287]", "b1", "W2", "b2", "W3", "b3")


def _arrays(value: Value, count: int) -> list[Value]:
    if value.kind != Kind.LIST or len(value.items) != count or any(v.kind != Kind.ARRAY for v in value.items):
        raise ValueError(f"expected a list of {count} arrays")
    return list(value.items)


def initialization_summary(value: Value):
    """Three entries of W1; shape, mean and standard deviation of W2 and W3; shape and largest |entry| of each
    bias (the same summary as the notebook's locked initialization_summary)."""
    pieces = dict(zip(SUMMARY_PIECES, (v.numbers() for v in _arrays(value, len(SUMMARY_PIECES)))))
    summary = {}
    for name in SUMMARY_PIECES[:3]:
        if pieces[name].size != 1:
            raise ValueError(f"{name} is not one number")
        summary[name] = float(pieces[name].ravel()[0])
    for name in ("W2", "W3"):
        W = pieces[name]
        summary.update({f"{name} shape": np.array(W.shape), f"{name} mean": W.mean(), f"{name} std": W.std()})
    for name in ("b1", "b2", "b3"):
        b = pieces[name]
        summary.update({f"{name} shape": np.array(b.shape), f"{name} largest |entry|": np.abs(b).max() if b.size else np.nan})
    return summary


def dtypes(value: Value):
    """The dtype of every recorded piece, e.g. "float32" (structural)."""
    if value.kind != Kind.LIST:
        raise ValueError("expected a list")
    return [v.dtype if v.kind == Kind.ARRAY else str(v.kind) for v in value.items]


def training(value: Value):
    """From [costs, trained W1 entries..., b1, W2, b2, W3, b3]: the epoch costs and the Euclidean norm of every
    trained piece, judged together, so that a run with the right parameters but costs recorded at other
    epochs (or the right costs and parameters left untrained) loses the check."""
    if value.kind != Kind.LIST or len(value.items) < 2 or any(v.kind != Kind.ARRAY for v in value.items):
        raise ValueError("expected the costs and the trained pieces, all arrays")
    costs, pieces = value.items[0], value.items[1:]
    return {"costs": costs.numbers(), "norms": np.array([np.linalg.norm(v.numbers()) for v in pieces])}
