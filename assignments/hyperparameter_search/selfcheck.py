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


MAX_ITEMS = 256  # items of one list or dict: far above any check; keeps a record bounded
MAX_DEPTH = 4  # lists and dicts nested this deep at most


def _error(value, why: str) -> dict:
    return {"type": "error", "value": f"cannot record a {type(value).__name__}: {why}"}


def _numeric_array(value):
    """``value`` as a numpy array of numbers or booleans, or None when numpy cannot make one."""
    import numpy as np

    try:
        arr = np.asarray(value)
    except Exception:  # ragged lists, objects numpy cannot read
        return None
    return arr if arr.dtype.kind in "biuf" else None


def _encode_array(arr) -> dict:
    import numpy as np

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


def encode(value, _depth: int = 0):
    """Turn a value into plain JSON data: no student objects survive this.

    Numbers, arrays and tensors become arrays; text stays text; a list or tuple that numpy can read as one
    array of numbers is that array, any other list or tuple (arrays of different shapes, mixed text and
    numbers) is a list of encoded items; a dict with text keys is a dict of encoded values.
    """
    import numpy as np

    if isinstance(value, str):
        return {"type": "str", "value": str(value)}
    if value is None:
        return {"type": "none"}
    if isinstance(value, dict):
        if _depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return _error(value, "too large or too deeply nested")
        if not all(isinstance(k, str) for k in value):
            return _error(value, "its keys are not all text")
        return {"type": "dict", "items": {str(k): encode(v, _depth + 1) for k, v in value.items()}}
    if hasattr(value, "numpy") and callable(value.numpy):  # a TensorFlow tensor or variable
        try:
            value = value.numpy()
        except Exception as exc:
            return _error(value, str(exc)[:200])
    if isinstance(value, (list, tuple)):
        arr = _numeric_array(value)
        if arr is not None:
            return _encode_array(arr)
        if _depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return _error(value, "too large or too deeply nested")
        return {"type": "list", "items": [encode(v, _depth + 1) for v in value]}
    try:
        arr = np.asarray(value)
    except Exception as exc:  # anything numpy cannot read is recorded as unreadable
        return _error(value, str(exc)[:200])
    if arr.dtype == object:
        return _error(value, "not numbers")
    if arr.dtype.kind in "US":
        return {"type": "str", "value": str(arr.tolist())}
    if arr.dtype.kind not in "biuf":
        return _error(value, f"numbers of dtype {arr.dtype} are not supported")
    return _encode_array(arr)


def decode(payload):
    """The inverse of ``encode``, as plain Python and numpy data (for ``check``; the grader validates its own)."""
    import numpy as np

    kind = payload.get("type")
    if kind == "list":
        return [decode(item) for item in payload["items"]]
    if kind == "dict":
        return {key: decode(item) for key, item in payload["items"].items()}
    if kind != "array":
        return payload.get("value")
    data = [float(x) if isinstance(x, str) else x for x in payload["data"]]
    dtype = {"float": np.float64, "int": np.int64, "bool": np.bool_}[payload["kind"]]
    return np.asarray(data, dtype=dtype).reshape(payload["shape"])


def record(name: str, value) -> None:
    """Record ``value`` under the check ``name`` as an output of this cell."""
    from IPython.display import display

    payload = {"name": str(name), "value": encode(value)}
    display({MIME: payload, "text/plain": f"recorded {name}"}, raw=True)


def _close(got: dict, want: dict, rtol: float, atol: float) -> bool:
    """Whether two encoded values agree: same structure, shapes equal, numbers within the tolerances."""
    import numpy as np

    if got.get("type") != want.get("type"):
        return False
    kind = got["type"]
    if kind == "array":
        a, b = decode(got), decode(want)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    if kind == "list":
        return len(got["items"]) == len(want["items"]) and all(_close(g, w, rtol, atol) for g, w in zip(got["items"], want["items"]))
    if kind == "dict":
        return got["items"].keys() == want["items"].keys() and all(
            _close(got["items"][k], want["items"][k], rtol, atol) for k in got["items"]
        )
    return got.get("value") == want.get("value")


_KIND_WORDS = {
    "array": "a number or array",
    "str": "text",
    "none": "None",
    "error": "an unreadable value",
    "list": "a list",
    "dict": "a dict",
}


def _why(got: dict, want: dict, rtol: float, atol: float, where: str = "") -> str:
    """What the grader would say about a mismatch: wrong type, wrong shape or wrong values."""
    import numpy as np

    at = f" at {where}" if where else ""
    if got.get("type") != want.get("type"):
        return f"wrong type{at}: expected {_KIND_WORDS.get(want.get('type'), '?')}, got {_KIND_WORDS.get(got.get('type'), '?')}"
    kind = got["type"]
    if kind == "array":
        a, b = decode(got), decode(want)
        if a.shape != b.shape:
            return f"wrong shape{at}: expected {tuple(b.shape)}, got {tuple(a.shape)}"
        with np.errstate(invalid="ignore"):
            worst = float(np.nanmax(np.abs(a.astype(float) - b.astype(float)))) if a.size else 0.0
        return f"wrong values{at} (largest difference {worst:.3g}; rtol {rtol:g}, atol {atol:g})"
    if kind == "list":
        if len(got["items"]) != len(want["items"]):
            return f"wrong length{at}: expected {len(want['items'])} items, got {len(got['items'])}"
        for i, (g, w) in enumerate(zip(got["items"], want["items"])):
            if not _close(g, w, rtol, atol):
                return _why(g, w, rtol, atol, f"{where}[{i}]")
    if kind == "dict":
        if got["items"].keys() != want["items"].keys():
            return f"wrong keys{at}: expected {sorted(want['items'])}, got {sorted(got['items'])}"
        for key in want["items"]:
            if not _close(got["items"][key], want["items"][key], rtol, atol):
                return _why(got["items"][key], want["items"][key], rtol, atol, f"{where}[{key!r}]")
    return f"wrong value{at}"


def check(name: str, value, expected, rtol: float = 1e-5, atol: float = 1e-6, derive=None) -> bool:
    """Record ``value`` and print whether it matches ``expected`` (for self-checking only).

    ``derive``, when given, turns the value into the quantity that ``expected`` describes (e.g. an accuracy
    from returned weights) for this local verdict only: the grader records ``value`` itself and computes that
    quantity outside the kernel.
    """
    record(name, value)
    got = encode(derive(value) if derive is not None else value)
    want = encode(expected)
    ok = _close(got, want, rtol, atol)
    if ok:
        print(f"PASSED  {name}")
    else:
        print(f"FAILED  {name}: {_why(got, want, rtol, atol)}\n  expected: {expected!r}\n  got:      {decode(got)!r}")
    return ok
