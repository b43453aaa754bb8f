"""The score that counts: for each student and assignment, the graded submission the course rules choose
(best or latest), its lateness and the score after the late penalty.

Lateness is computed from the stored submission time and the rules and extensions of now, never stored:
an extension granted after a late upload removes its penalty at once, on every page and in every export.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.site.models import Extension, Grade, Submission, User
from autograder.site.rules import LATEST, CourseRules

Key = tuple[int, str]  # (user id, assignment)


@dataclasses.dataclass(frozen=True)
class Graded:
    """One graded submission as the rules see it."""

    submission_id: int
    user_id: int
    login: str
    assignment: str
    created_at: dt.datetime
    raw: float  # the grader's score
    max_score: float
    status: str
    late_days: int
    factor: float  # the part of ``raw`` that counts (1.0 on time)

    @property
    def score(self) -> float:
        return self.raw * self.factor

    @property
    def late(self) -> bool:
        return self.late_days > 0


@dataclasses.dataclass(frozen=True)
class Standing:
    counted: Graded
    graded: int  # graded submissions of this student for this assignment
    extension: dt.datetime | None


def extensions(db: Session, assignment: str | None = None, user_id: int | None = None) -> dict[Key, dt.datetime]:
    q = select(Extension.user_id, Extension.assignment, Extension.deadline)
    if assignment is not None:
        q = q.where(Extension.assignment == assignment)
    if user_id is not None:
        q = q.where(Extension.user_id == user_id)
    return {(uid, a): deadline for uid, a, deadline in db.execute(q)}


def graded(db: Session, course: CourseRules, *, assignment: str | None = None, user_id: int | None = None) -> list[Graded]:
    """Every graded submission (optionally of one assignment or one student), oldest first, with its lateness."""
    ext = extensions(db, assignment, user_id)
    q = (
        select(
            Submission.id,
            Submission.user_id,
            User.login,
            Submission.assignment,
            Submission.created_at,
            Grade.score,
            Grade.max_score,
            Grade.status,
        )
        .join(Grade, Grade.submission_id == Submission.id)
        .join(User, User.id == Submission.user_id)
        .order_by(Submission.created_at, Submission.id)
    )
    if assignment is not None:
        q = q.where(Submission.assignment == assignment)
    if user_id is not None:
        q = q.where(Submission.user_id == user_id)
    out = []
    for sid, uid, login, a, created, score, max_score, status in db.execute(q):
        rules = course.of(a)
        days = rules.late_days(created, ext.get((uid, a)))
        out.append(Graded(sid, uid, login, a, created, score, max_score, status, days, rules.factor(days)))
    return out


def standings(db: Session, course: CourseRules, *, assignment: str | None = None, user_id: int | None = None) -> dict[Key, Standing]:
    """(user id, assignment) -> the counted submission: the best score after penalties (the earliest of equal
    ones), or under ``counts = "latest"`` the latest graded one."""
    ext = extensions(db, assignment, user_id)
    chosen: dict[Key, Graded] = {}
    counts: dict[Key, int] = {}
    for g in graded(db, course, assignment=assignment, user_id=user_id):
        key = (g.user_id, g.assignment)
        counts[key] = counts.get(key, 0) + 1
        current = chosen.get(key)
        if current is None or course.of(g.assignment).counts == LATEST or g.score > current.score:
            chosen[key] = g  # rows come oldest first: the latest wins under 'latest', the first best otherwise
    return {key: Standing(g, counts[key], ext.get(key)) for key, g in chosen.items()}
