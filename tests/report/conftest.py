"""Hand-made Results for the toy assignment: the report layer is tested without running any notebook."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading import spec as spec_mod
from autograder.grading.result import GRADED, CheckResult, Code, GroupResult, Result

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"


@pytest.fixture(scope="session")
def toy() -> spec_mod.Assignment:
    return spec_mod.load(TOY)


def make_result(
    spec: spec_mod.Assignment,
    failed: dict[str, str] | None = None,
    *,
    status: str = GRADED,
    reasons: list[str] | None = None,
    tampering: list[str] | None = None,
    submission: str = "submissions/student.ipynb",
) -> Result:
    """A Result in which the checks named in ``failed`` (name -> message) fail and all others pass.

    A failed check gets its hint from the spec in its own field and the code WRONG_VALUES, as the result step
    writes them.
    """
    failed = failed or {}
    groups = []
    for g in spec.groups:
        checks = []
        for c in g.checks:
            ok = c.name not in failed
            message = "" if ok else failed[c.name]
            checks.append(
                CheckResult(
                    c.name, g.grade_id, c.points if ok else 0.0, c.points, ok, c.visible, message,
                    code=Code.PASSED if ok else (Code.NOT_RECORDED if message.startswith("not recorded") else Code.WRONG_VALUES),
                    hint="" if ok else c.hint,
                )
            )
        groups.append(GroupResult(g.grade_id, g.title, sum(x.points for x in checks), g.max_points, checks, g.hint))
    return Result(
        assignment=spec.name,
        submission=submission,
        score=sum(x.score for x in groups),
        max_score=spec.max_score,
        groups=groups,
        status=status,
        reasons=list(reasons or []),
        tampering=list(tampering or []),
        timings={"execute": 1.5, "compare": 0.01},
    )


@pytest.fixture
def result_of(toy):
    """make_result bound to the toy spec."""
    return lambda failed=None, **kw: make_result(toy, failed, **kw)
