"""Each variant of each assignment gets exactly the score its kind promises (see conftest.py)."""

from __future__ import annotations

import pytest


def _failing(result) -> str:
    return "\n".join(f"  {c.name}: {c.message}" for c in result.checks if not c.passed) or "  (none)"


def test_variant(variant_case, grade_case):
    case = variant_case
    if case.kind == "missing":
        pytest.fail(f"tests/assignments/{case.assignment}/variants.py has no source_solutions/{case.assignment}/grading.toml")
    assignment, result = grade_case(case)
    assert result.status == "graded", result.reasons
    if case.kind in ("source", "correct"):
        assert result.score == assignment.max_score, f"{case.id} should score full marks; failing:\n{_failing(result)}"
    elif case.kind == "wrong":
        grade_id = case.replacements[0][0]
        zeroed = {f"{grade_id}_tests", *case.also_fails}
        unknown = zeroed - {g.grade_id for g in result.groups}
        assert not unknown, f"{case.id}: no such group(s) {sorted(unknown)}"
        for group in result.groups:
            if group.grade_id in zeroed:
                passed = [c.name for c in group.checks if c.passed]
                assert group.score == 0, f"{case.id} must score zero on {group.grade_id}; these checks passed: {passed}"
            else:
                assert group.score == group.max_score, f"{case.id} must not cost {group.grade_id}; failing:\n{_failing(result)}"
    elif case.kind == "hardcoded":
        # A structural visible check (a shape) counts only beside a passed value check, which a hard-coded
        # answer does not have in a group whose hidden checks all catch it.
        structural = {c.name for c in assignment.checks() if c.structural}
        visible_failed = [c.name for c in result.checks if c.visible and not c.passed and c.name not in structural]
        hidden_passed = [c.name for c in result.checks if not c.visible and c.passed]
        assert not visible_failed, f"hard-coded outputs should pass the visible checks: {visible_failed} failed"
        assert not hidden_passed, f"hidden checks must catch hard-coded outputs: {hidden_passed} passed"
    else:
        raise AssertionError(case.kind)
