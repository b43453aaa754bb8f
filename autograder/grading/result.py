"""The result of grading one submission: plain dataclasses with a lossless JSON round-trip."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

# Result.status values
GRADED = "graded"  # every cell ran (some may have raised): the score is final
INCOMPLETE = "incomplete"  # the run stopped early (timeout, dead kernel): checks not reached score zero
REJECTED = "rejected"  # not gradable (not a notebook, another assignment): score zero


@dataclasses.dataclass
class CheckResult:
    name: str
    group: str
    points: float
    max_points: float
    passed: bool
    visible: bool
    message: str = ""


@dataclasses.dataclass
class GroupResult:
    grade_id: str
    title: str
    score: float
    max_score: float
    checks: list[CheckResult] = dataclasses.field(default_factory=list)
    hint: str = ""


@dataclasses.dataclass
class Result:
    assignment: str
    submission: str
    score: float
    max_score: float
    groups: list[GroupResult] = dataclasses.field(default_factory=list)
    status: str = GRADED
    reasons: list[str] = dataclasses.field(default_factory=list)  # why the run or the input was not clean
    tampering: list[str] = dataclasses.field(default_factory=list)  # for the instructor only
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per pipeline step

    @property
    def checks(self) -> list[CheckResult]:
        return [c for g in self.groups for c in g.checks]

    def group(self, grade_id: str) -> GroupResult:
        for g in self.groups:
            if g.grade_id == grade_id:
                return g
        raise KeyError(grade_id)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        data = dict(data)
        groups = []
        for g in data.pop("groups", []):
            g = dict(g)
            g["checks"] = [CheckResult(**c) for c in g.get("checks", [])]
            groups.append(GroupResult(**g))
        return cls(groups=groups, **data)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        return cls.from_dict(json.loads(text))
