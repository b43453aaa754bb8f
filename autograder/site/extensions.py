"""Per-student extensions: a later deadline for one student and one assignment, granted by an instructor on
the extensions page or with ``autograder extension grant``. The hard deadline, if any, moves by as much."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from autograder.errors import UsageError
from autograder.site import accounts
from autograder.site.models import Extension, User, utcnow
from autograder.site.rules import CourseRules


class ExtensionError(UsageError):
    """An extension that cannot be granted as asked (the message says why)."""


def grant(factory: sessionmaker, course: CourseRules, login: str, assignment: str, deadline: dt.datetime, by: str = "") -> dt.datetime:
    """Give ``login`` the deadline ``deadline`` (naive UTC) for ``assignment``, replacing an earlier extension."""
    rules = course.of(assignment)
    if rules.deadline is None:
        raise ExtensionError(f"{assignment} has no deadline in the course file, so there is nothing to extend")
    if deadline <= rules.deadline:
        raise ExtensionError(
            f"the new deadline {course.show(deadline)} is not after the deadline of {assignment}, {course.show(rules.deadline)}"
        )
    with factory.begin() as db:
        user = accounts.find_user(db, login)
        if user is None:
            raise ExtensionError(f"no account {login!r}")
        ext = db.scalar(select(Extension).where(Extension.user_id == user.id, Extension.assignment == assignment))
        if ext is None:
            db.add(Extension(user_id=user.id, assignment=assignment, deadline=deadline, granted_by=by, granted_at=utcnow()))
        else:
            ext.deadline, ext.granted_by, ext.granted_at = deadline, by, utcnow()
    return deadline


def revoke(factory: sessionmaker, login: str, assignment: str) -> bool:
    """Remove the extension; False when there was none."""
    with factory.begin() as db:
        user = accounts.find_user(db, login)
        if user is None:
            raise ExtensionError(f"no account {login!r}")
        return db.execute(delete(Extension).where(Extension.user_id == user.id, Extension.assignment == assignment)).rowcount > 0


def listing(factory: sessionmaker, assignment: str | None = None) -> list[tuple[str, str, dt.datetime, str]]:
    """(login, assignment, deadline, granted by) of every extension, by assignment and login."""
    with factory() as db:
        q = select(User.login, Extension.assignment, Extension.deadline, Extension.granted_by).join(User, User.id == Extension.user_id)
        if assignment is not None:
            q = q.where(Extension.assignment == assignment)
        return [tuple(r) for r in db.execute(q.order_by(Extension.assignment, User.login))]


def parse_until(course: CourseRules, assignment: str, until: str | None, days: float | None) -> dt.datetime:
    """The new deadline from ``--until`` (a course time, or one with an offset) or ``--days`` after the deadline."""
    if (until is None) == (days is None):
        raise ExtensionError("give either a new deadline (--until 2025-03-20T23:59) or a number of days (--days 3)")
    if until is not None:
        return course.to_utc(until, "the new deadline")
    deadline = course.of(assignment).deadline
    if deadline is None:
        raise ExtensionError(f"{assignment} has no deadline in the course file, so there is nothing to extend")
    # days on the course's wall clock: a deadline at 23:59 stays at 23:59 across a DST change
    return course.to_utc(course.local(deadline).replace(tzinfo=None) + dt.timedelta(days=days), "the new deadline")
