"""Course rules (course.toml): times in the course's zone (DST included), late days at the boundaries,
refusals before the opening, after a hard deadline and past the daily limit, extensions."""

from __future__ import annotations

import datetime as dt

import pytest

from autograder.site import rules
from autograder.site.rules import CLOSED, LIMIT, NOT_OPEN

S = dt.timedelta(seconds=1)
ZURICH = {"course": {"timezone": "Europe/Zurich"}}


def course(**toy) -> rules.CourseRules:
    return rules.parse({**ZURICH, "assignments": {"toy": toy}}, known={"toy"})


def test_local_times_become_utc_on_both_sides_of_a_dst_change():
    # Europe/Zurich leaves CET (+01:00) for CEST (+02:00) on 2025-03-30 at 02:00
    c = course(opens=dt.datetime(2025, 3, 29, 12), deadline=dt.datetime(2025, 3, 30, 12))
    r = c.of("toy")
    assert r.opens == dt.datetime(2025, 3, 29, 11) and r.deadline == dt.datetime(2025, 3, 30, 10)
    assert c.show(r.opens) == "2025-03-29 12:00 CET" and c.show(r.deadline) == "2025-03-30 12:00 CEST"
    # 23 hours between the two wall-clock noons: a 'day' late is 24 real hours, not a calendar day
    assert r.deadline - r.opens == dt.timedelta(hours=23)
    assert r.late_days(r.deadline + dt.timedelta(hours=24)) == 1 and r.late_days(r.deadline + dt.timedelta(hours=24) + S) == 2
    offset = course(deadline=dt.datetime(2025, 3, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    assert offset.of("toy").deadline == dt.datetime(2025, 3, 30, 17)


@pytest.mark.parametrize(
    "local,words", [(dt.datetime(2025, 3, 30, 2, 30), "does not exist"), (dt.datetime(2025, 10, 26, 2, 30), "happens twice")]
)
def test_a_skipped_or_doubled_local_time_is_an_error_that_asks_for_an_offset(local, words):
    with pytest.raises(rules.RulesError, match=f"deadline'.*{words} .*in Europe/Zurich; write it with an offset, e.g. 2025-"):
        course(deadline=local)


@pytest.mark.parametrize(
    "toy,message",
    [
        ({"dedline": dt.datetime(2025, 1, 1)}, "unknown key(s) 'dedline'"),
        ({"counts": "first"}, '\'counts\' must be "best" or "latest"'),
        ({"daily_limit": 0}, "'daily_limit' must be a whole number of at least 1"),
        ({"daily_limit": True}, "'daily_limit' must be a whole number"),
        ({"late_penalty": 1.5, "deadline": dt.datetime(2025, 1, 1)}, "'late_penalty' must be a fraction between 0 and 1"),
        ({"late_penalty": 0.1}, "need a 'deadline'"),
        ({"deadline": dt.datetime(2025, 1, 2), "hard_deadline": dt.datetime(2025, 1, 3)}, "'hard_deadline' needs a 'late_penalty'"),
        (
            {"deadline": dt.datetime(2025, 1, 2), "late_penalty": 0.1, "hard_deadline": dt.datetime(2025, 1, 1)},
            "must not be before 'deadline'",
        ),
        ({"opens": dt.datetime(2025, 1, 3), "deadline": dt.datetime(2025, 1, 2)}, "'opens' must be before 'deadline'"),
        ({"deadline": dt.date(2025, 1, 2)}, "must be a date and a time"),
    ],
)
def test_errors_name_the_file_and_the_key(toy, message):
    with pytest.raises(rules.RulesError) as err:
        rules.parse({**ZURICH, "assignments": {"toy": toy}}, source="course.toml", known={"toy"})
    assert message in str(err.value) and "course.toml [assignments.toy]" in str(err.value)


def test_course_level_errors(tmp_path):
    with pytest.raises(rules.RulesError, match="'timezone' = 'Mars/Olympus' is not a time zone"):
        rules.parse({"course": {"timezone": "Mars/Olympus"}})
    with pytest.raises(rules.RulesError, match=r"no assignment 'tyo' \(there are: toy\)"):
        rules.parse({"assignments": {"tyo": {}}}, known={"toy"})
    (tmp_path / "course.toml").write_text("[course\n")
    with pytest.raises(rules.RulesError, match="course.toml: cannot be read as TOML"):
        rules.load(tmp_path)
    assert rules.load(tmp_path / "nowhere").of("toy") == rules.NO_RULES  # no file: no rules


def test_late_days_and_the_penalty_at_the_boundaries():
    c = course(deadline=dt.datetime(2025, 5, 1, 23, 59, 59), late_penalty=0.25)
    r = c.of("toy")
    due = r.deadline
    assert [r.late_days(t) for t in (due - S, due, due + S, due + rules.DAY, due + rules.DAY + S)] == [0, 0, 1, 1, 2]
    assert [r.factor(d) for d in (0, 1, 2, 4, 9)] == [1.0, 0.75, 0.5, 0.0, 0.0]
    ext = due + dt.timedelta(days=2)
    assert r.late_days(ext, ext) == 0 and r.late_days(ext + S, ext) == 1
    assert r.last_upload() is None  # a penalty and no hard deadline: late uploads are always graded


def test_refusals_before_opening_after_a_hard_deadline_and_past_the_limit():
    opens, due, hard = dt.datetime(2025, 5, 1, 9), dt.datetime(2025, 5, 8, 12), dt.datetime(2025, 5, 10, 12)
    c = course(opens=opens, deadline=due, late_penalty=0.1, hard_deadline=hard, daily_limit=2)
    o, d, h = (c.of("toy").opens, c.of("toy").deadline, c.of("toy").hard_deadline)
    kind, message = rules.refusal(c, "toy", o - S)
    assert kind == NOT_OPEN and "toy opens on 2025-05-01 09:00 CEST" in message
    assert rules.refusal(c, "toy", o) is None
    assert rules.refusal(c, "toy", d + S) is None  # late, graded
    assert rules.refusal(c, "toy", h) is None
    kind, message = rules.refusal(c, "toy", h + S)
    assert kind == CLOSED and "The hard deadline of toy was 2025-05-10 12:00 CEST" in message and "extension" in message
    # an extension of one day moves the hard deadline by a day too
    assert rules.refusal(c, "toy", h + S, extension=d + rules.DAY) is None
    assert rules.refusal(c, "toy", h + rules.DAY + S, extension=d + rules.DAY)[0] == CLOSED
    now = o + dt.timedelta(hours=30)
    recent = [now - dt.timedelta(hours=20), now - dt.timedelta(hours=2)]
    kind, message = rules.refusal(c, "toy", now, recent=recent)
    assert kind == LIMIT and "2 times in the last 24 hours" in message
    assert f"submit again from {c.show(recent[0] + rules.DAY)}" in message
    assert rules.refusal(c, "toy", now, recent=recent[1:]) is None


def test_without_a_penalty_the_deadline_is_hard():
    c = course(deadline=dt.datetime(2025, 5, 8, 12))
    d = c.of("toy").deadline
    assert rules.refusal(c, "toy", d) is None
    kind, message = rules.refusal(c, "toy", d + S)
    assert kind == CLOSED and message.startswith("The deadline of toy was 2025-05-08 12:00 CEST")
    assert rules.refusal(c, "other", d + S) is None  # an assignment without rules is always open
