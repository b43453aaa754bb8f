"""Course rules: when each assignment opens and is due, what lateness costs, how often a student may
submit, and which submission counts. Read from the trusted course file ``<source dir>/course.toml`` (never
served); an assignment the file does not name has no rules (always open, no deadline, the best counts).

```toml
[course]
timezone = "Europe/Zurich"            # IANA zone: times without an offset below are local times of it

[assignments.tf_basics]
opens = 2025-03-03T09:00:00           # uploads before this are refused
deadline = 2025-03-17T23:59:59        # later uploads are late
late_penalty = 0.1                    # fraction of the score lost per started 24 hours after the deadline
hard_deadline = 2025-03-24T23:59:59   # uploads after this are refused
daily_limit = 5                       # at most 5 submissions in any 24 hours
counts = "best"                       # or "latest": the score that counts
```

Without ``late_penalty`` the deadline is hard (uploads after it are refused); with it, late uploads are
graded and flagged until ``hard_deadline`` (when given). A student's extension (set by an instructor) is a
later deadline for that student; a hard deadline moves by as much. Every time is kept as naive UTC; a local
time that does not exist (the hour skipped in spring) or exists twice (autumn) is an error asking for an
explicit offset, so no rule depends on a guess.

The rules live apart from grading.toml on purpose: moving a deadline must not change the grading
fingerprint (which would regrade every batch), and the time zone belongs to the course, not to one
assignment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
import zoneinfo
from pathlib import Path

from autograder.errors import UsageError

COURSE_FILE = "course.toml"
BEST = "best"
LATEST = "latest"
DAY = dt.timedelta(hours=24)
NOT_OPEN, CLOSED, LIMIT = "not_open", "closed", "limit"

_COURSE_KEYS = {"timezone"}
_ASSIGNMENT_KEYS = {"opens", "deadline", "late_penalty", "hard_deadline", "daily_limit", "counts"}


class RulesError(UsageError):
    """The course file cannot be used as it is."""


@dataclasses.dataclass(frozen=True)
class Rules:
    """One assignment's rules; every time naive UTC."""

    opens: dt.datetime | None = None
    deadline: dt.datetime | None = None
    late_penalty: float | None = None  # None: the deadline is hard
    hard_deadline: dt.datetime | None = None
    daily_limit: int | None = None
    counts: str = BEST

    def deadline_for(self, extension: dt.datetime | None) -> dt.datetime | None:
        """The deadline of a student with ``extension`` (None: none)."""
        if self.deadline is None:
            return None
        return max(self.deadline, extension) if extension is not None else self.deadline

    def last_upload(self, extension: dt.datetime | None = None) -> dt.datetime | None:
        """After this, uploads are refused (None: never)."""
        if self.deadline is None:
            return None
        if self.late_penalty is None:
            return self.deadline_for(extension)
        if self.hard_deadline is None:
            return None
        return self.hard_deadline + (self.deadline_for(extension) - self.deadline)

    def late_days(self, submitted: dt.datetime, extension: dt.datetime | None = None) -> int:
        """Started 24-hour periods after the student's deadline (0: on time; exactly at it is on time)."""
        due = self.deadline_for(extension)
        if due is None or submitted <= due:
            return 0
        return math.ceil((submitted - due) / DAY)

    def factor(self, late_days: int) -> float:
        """What part of the score counts after ``late_days``."""
        if late_days <= 0 or not self.late_penalty:
            return 1.0
        return max(0.0, 1.0 - self.late_penalty * late_days)


NO_RULES = Rules()


@dataclasses.dataclass(frozen=True)
class CourseRules:
    timezone: str = "UTC"
    assignments: dict[str, Rules] = dataclasses.field(default_factory=dict)
    source: str = ""  # the file they came from ('' when there is none)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def of(self, assignment: str) -> Rules:
        return self.assignments.get(assignment, NO_RULES)

    def local(self, t: dt.datetime | None) -> dt.datetime | None:
        """A naive UTC time as an aware time of the course zone."""
        return t.replace(tzinfo=dt.UTC).astimezone(self.zone) if t is not None else None

    def show(self, t: dt.datetime | None, *, seconds: bool = False) -> str:
        """How pages write a time: local, with the zone's abbreviation (CET, CEST), so DST is visible."""
        if t is None:
            return ""
        return self.local(t).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "") + " %Z")

    def to_utc(self, value: dt.datetime | dt.date | str, where: str = "time") -> dt.datetime:
        """A local time of the course (naive), or one with an offset, as naive UTC; refuses skipped and doubled local times."""
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace(" ", "T", 1))
            except ValueError:
                raise RulesError(f"{where}: {value!r} is not a time like 2025-03-17T23:59 (optionally with an offset, +01:00)") from None
        if not isinstance(value, dt.datetime):
            raise RulesError(f"{where}: {value!r} must be a date and a time, e.g. 2025-03-17T23:59:00")
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        zone = self.zone
        first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            # zoneinfo gives a gap time the offset from before the gap with fold=0 and the other with fold=1;
            # a time that round-trips with neither fold unchanged is in the gap, otherwise it is doubled.
            back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
            what = "does not exist (the clocks skip it)" if back != value else "happens twice (the clocks go back)"
            raise RulesError(
                f"{where}: {value.isoformat()} {what} in {self.timezone}; write it with an offset, e.g. {value.isoformat()}{_offset(first)}"
            )
        return first.astimezone(dt.UTC).replace(tzinfo=None)


def _offset(t: dt.datetime) -> str:
    total = int(t.utcoffset().total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def _unknown(table: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise RulesError(f"{where}: unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(sorted(allowed))})")


def parse(data: dict, *, source: str = COURSE_FILE, known: set[str] | None = None) -> CourseRules:
    """Rules from the parsed TOML; ``known`` (assignment names) catches a misspelt name."""
    _unknown(data, {"course", "assignments"}, source)
    head = data.get("course", {})
    if not isinstance(head, dict):
        raise RulesError(f"{source}: [course] must be a table")
    _unknown(head, _COURSE_KEYS, f"{source} [course]")
    tz = head.get("timezone", "UTC")
    try:
        if not isinstance(tz, str):
            raise ValueError
        zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise RulesError(f"{source} [course]: key 'timezone' = {tz!r} is not a time zone name such as 'Europe/Zurich'") from None
    course = CourseRules(timezone=tz, source=source)
    tables = data.get("assignments", {})
    if not isinstance(tables, dict):
        raise RulesError(f"{source}: [assignments.<name>] must be tables")
    rules = {}
    for name, table in sorted(tables.items()):
        where = f"{source} [assignments.{name}]"
        if known is not None and name not in known:
            raise RulesError(f"{where}: no assignment '{name}' (there are: {', '.join(sorted(known)) or 'none'})")
        if not isinstance(table, dict):
            raise RulesError(f"{where}: must be a table")
        _unknown(table, _ASSIGNMENT_KEYS, where)
        times = {k: course.to_utc(table[k], f"{where} key '{k}'") for k in ("opens", "deadline", "hard_deadline") if k in table}
        penalty = table.get("late_penalty")
        if penalty is not None and (isinstance(penalty, bool) or not isinstance(penalty, int | float) or not 0 <= penalty <= 1):
            raise RulesError(f"{where}: key 'late_penalty' must be a fraction between 0 and 1 (0.1: a tenth per day), got {penalty!r}")
        limit = table.get("daily_limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise RulesError(f"{where}: key 'daily_limit' must be a whole number of at least 1, got {limit!r}")
        counts = table.get("counts", BEST)
        if counts not in (BEST, LATEST):
            raise RulesError(f'{where}: key \'counts\' must be "best" or "latest", got {counts!r}')
        deadline = times.get("deadline")
        if ("late_penalty" in table or "hard_deadline" in table) and deadline is None:
            raise RulesError(f"{where}: 'late_penalty' and 'hard_deadline' need a 'deadline'")
        if "hard_deadline" in table and penalty is None:
            raise RulesError(
                f"{where}: 'hard_deadline' needs a 'late_penalty' (0 for late uploads without penalty); "
                "without one the deadline itself is hard"
            )
        if deadline is not None and times.get("opens") is not None and times["opens"] >= deadline:
            raise RulesError(f"{where}: 'opens' must be before 'deadline'")
        if times.get("hard_deadline") is not None and times["hard_deadline"] < deadline:
            raise RulesError(f"{where}: 'hard_deadline' must not be before 'deadline'")
        rules[name] = Rules(
            opens=times.get("opens"),
            deadline=deadline,
            late_penalty=None if penalty is None else float(penalty),
            hard_deadline=times.get("hard_deadline"),
            daily_limit=limit,
            counts=counts,
        )
    return dataclasses.replace(course, assignments=rules)


def load(source_dir: Path, known: set[str] | None = None) -> CourseRules:
    """``<source dir>/course.toml``, or no rules when there is no such file."""
    path = source_dir / COURSE_FILE
    if not path.is_file():
        return CourseRules()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path}: cannot be read as TOML: {exc}") from None
    return parse(data, source=str(path), known=known)


def refusal(
    course: CourseRules,
    assignment: str,
    now: dt.datetime,
    *,
    extension: dt.datetime | None = None,
    recent: list[dt.datetime] = (),
) -> tuple[str, str] | None:
    """Why an upload at ``now`` is refused: (``NOT_OPEN``, ``CLOSED`` or ``LIMIT``, a message for the student),
    or None. ``recent``: the times of the student's submissions of this assignment in the 24 hours before ``now``."""
    rules = course.of(assignment)
    if rules.opens is not None and now < rules.opens:
        return NOT_OPEN, f"{assignment} opens on {course.show(rules.opens)}; uploads are accepted from then on."
    last = rules.last_upload(extension)
    if last is not None and now > last:
        kind = "deadline" if rules.late_penalty is None else "hard deadline"
        return CLOSED, (
            f"The {kind} of {assignment} was {course.show(last)}; uploads are no longer accepted. "
            "If you need more time, ask your instructor for an extension."
        )
    if rules.daily_limit is not None and len(recent) >= rules.daily_limit:
        window = sorted(recent)[-rules.daily_limit :]
        again = window[0] + DAY
        return LIMIT, (
            f"You have submitted {assignment} {len(recent)} times in the last 24 hours, the most allowed "
            f"({rules.daily_limit}). You can submit again from {course.show(again)}."
        )
    return None
