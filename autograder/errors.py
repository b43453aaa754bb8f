"""One error model: every error the library raises on purpose derives from ``AutograderError``.

Library code raises; ``autograder.cli.main`` prints the message once (``error: ...``) and exits with the
error's ``exit_code``. Anything a submission does is never an exception: it becomes part of its Result.
Exit codes: 2 for a command that cannot run as asked (unknown assignment, missing file, no sandbox, a bad
grading.toml), 1 for a check that ran and found a problem (an out-of-date release, reference values out of
tolerance, unusable data).
"""

from __future__ import annotations


class AutograderError(Exception):
    """Base of the library's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class UsageError(AutograderError):
    """The command cannot run as asked: an unknown assignment, a missing file."""


class CheckFailed(AutograderError):
    """A check ran and found problems (listed in the message)."""

    exit_code = 1


def unknown_assignments(names: list[str], known: list[str]) -> UsageError | None:
    """The error for names that are not assignments, or None when all are known."""
    unknown = [n for n in names if n not in known]
    if unknown:
        return UsageError(f"unknown assignment(s): {', '.join(unknown)} (known: {', '.join(sorted(known)) or 'none'})")
    if not names:
        return UsageError("no assignments in source_solutions/")
    return None
