"""What role a notebook cell plays for nbgrader: the one place that reads a cell's nbgrader metadata."""

from __future__ import annotations

from typing import Any


def nbgrader_meta(cell: Any) -> dict:
    """The nbgrader metadata of a cell (empty when absent or malformed)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Any) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_solution(cell: Any) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: Any) -> bool:
    """An autograded test cell: graded, not a solution, code."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def is_locked(cell: Any) -> bool:
    return bool(nbgrader_meta(cell).get("locked"))


def role(cell: Any) -> str:
    """'solution cell', 'test cell' or 'locked cell' (for messages about a graded cell)."""
    meta = nbgrader_meta(cell)
    if meta.get("solution"):
        return "solution cell"
    return "test cell" if meta.get("grade") else "locked cell"


def tags(cell: Any) -> list[str]:
    """The cell's tags; malformed tags (not a list of text) count as none."""
    value = cell.get("metadata", {}).get("tags")
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []
