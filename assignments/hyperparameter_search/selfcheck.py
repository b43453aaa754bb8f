"""Record values for the grader, and let students check their work in plain Jupyter.

Test cells call ``check`` (visible tests: records the value and prints a local verdict against the
expected value shown in the notebook) or ``record`` (hidden tests: records only). The grader never
trusts anything computed here: it reads the recorded values from the test cell's outputs and compares
them, outside this kernel, with reference values that never enter it.
"""
from __future__ import annotations

import math

MIME = "application/vnd.autograder.record+json"


def _plain_float(x: float):
    # JSON has no NaN or infinity; spell them as strings so the notebook stays valid.
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def encode(value):
    """Turn a value into plain JSON data: no student objects survive this."""
    import numpy as np

    if isinstance(value, str):
        return {"type": "str", "value": str(value)}
    if value is None:
        return {"type": "none"}
    if hasattr(value, "numpy") and callable(value.numpy):  # a TensorFlow tensor or variable
        value = value.numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # anything numpy cannot read is recorded as unreadable
        return {"type": "error", "value": f"cannot record a {type(value).__name__}: {exc}"}
    if arr.dtype == object:
        return {"type": "error", "value": f"cannot record a {type(value).__name__} as numbers"}
    if arr.dtype.kind in "US":
        return {"type": "str", "value": str(arr.tolist())}
    kind = "bool" if arr.dtype.kind == "b" else ("int" if arr.dtype.kind in "iu" else "float")
    flat = arr.astype(np.float64).ravel().tolist() if kind == "float" else arr.astype(np.int64).ravel().tolist()
    if kind == "float":
        flat = [_plain_float(float(x)) for x in flat]
    return {
        "type": "array",
        "kind": kind,
        "dtype": str(arr.dtype),
        "shape": [int(n) for n in arr.shape],
        "data": [int(x) if kind != "float" else x for x in flat],
    }


def decode(payload):
    """The inverse of ``encode`` for arrays (used by the grader and by ``check``)."""
    import numpy as np

    if payload.get("type") != "array":
        return payload.get("value")
    data = [float(x) if isinstance(x, str) else x for x in payload["data"]]
    dtype = {"float": np.float64, "int": np.int64, "bool": np.bool_}[payload["kind"]]
    return np.asarray(data, dtype=dtype).reshape(payload["shape"])


def record(name: str, value) -> None:
    """Record ``value`` under the check ``name`` as an output of this cell."""
    from IPython.display import display

    payload = {"name": str(name), "value": encode(value)}
    display({MIME: payload, "text/plain": f"recorded {name}"}, raw=True)


def check(name: str, value, expected, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Record ``value`` and print whether it matches ``expected`` (for self-checking only)."""
    import numpy as np

    record(name, value)
    got = encode(value)
    want = encode(expected)
    if got["type"] != want["type"]:
        ok = False
    elif got["type"] == "array":
        a, b = decode(got), decode(want)
        ok = a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    else:
        ok = got.get("value") == want.get("value")
    if ok:
        print(f"PASSED  {name}")
    else:
        shown = decode(got) if got["type"] == "array" else got.get("value")
        print(f"FAILED  {name}\n  expected: {expected!r}\n  got:      {shown!r}")
    return ok
