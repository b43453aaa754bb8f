"""The result of grading one submission: plain dataclasses with a lossless JSON round-trip."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


class Status(enum.StrEnum):
    """How grading a submission ended (``Result.status``)."""

    GRADED = "graded"  # every cell ran (some may have raised): the score is final
    INCOMPLETE = "incomplete"  # the run stopped early (timeout, dead kernel): checks not reached score zero
    REJECTED = "rejected"  # not gradable (not a notebook, another assignment): score zero


GRADED, INCOMPLETE, REJECTED = Status.GRADED, Status.INCOMPLETE, Status.REJECTED


class Why(enum.StrEnum):
    """Why a run or an input was not clean (``Result.reasons``): what a page decides its words by."""

    NO_FILE = "no_file"
    NOT_NOTEBOOK = "not_notebook"  # unreadable, not JSON, not nbformat 4, not a file the batch can grade
    OTHER_ASSIGNMENT = "other_assignment"  # none of this assignment's graded cells is present
    NOTEBOOK_TIMEOUT = "notebook_timeout"
    CELL_TIMEOUT = "cell_timeout"
    OUTPUT_CUT = "output_cut"
    KERNEL_DIED = "kernel_died"
    NO_KERNEL = "no_kernel"  # the kernel could not be set up or did not start: the grader's side
    EXECUTION = "execution"  # running the notebook failed in the grading stack
    GRADER_MEMORY = "grader_memory"  # the submission made the grader's worker run out of memory
    WORKER_LOST = "worker_lost"  # the worker died, was killed, or was given up on
    INTERRUPTED = "interrupted"
    OTHER = "other"


class Reason(str):
    """One reason: its text (it is a ``str``, so it prints and joins as one) and its ``code`` (a ``Why``).

    Pages and reports choose their words by the code, never by parsing the text.
    """

    code: Why

    def __new__(cls, code: Why | str, text: str) -> Reason:
        obj = super().__new__(cls, text)
        obj.code = Why(code)
        return obj

    def __reduce__(self):
        return (Reason, (self.code.value, str(self)))

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "text": str(self)}

    @classmethod
    def of(cls, data: Any) -> Reason:
        """A Reason from its dict, from a Reason, or from bare text (older records: code ``other``)."""
        if isinstance(data, Reason):
            return data
        if isinstance(data, dict):
            return cls(data.get("code", Why.OTHER), str(data.get("text", "")))
        return cls(Why.OTHER, str(data))


class Code(enum.StrEnum):
    """Why a check passed or failed, as the grader computed it.

    A hidden check shows a student only its code (in fixed words, ``CODE_TEXT``), never text that came out of
    the kernel: the code is all a feedback page needs to decide what to say.
    """

    PASSED = "passed"
    WRONG_TYPE = "wrong_type"  # a number where text was expected, a list where an array was, ...
    WRONG_SHAPE = "wrong_shape"  # also a list of the wrong length, a dict with other keys
    WRONG_VALUES = "wrong_values"
    OUT_OF_RANGE = "out_of_range"
    WRONG_DISTRIBUTION = "wrong_distribution"
    TOO_FEW_VALUES = "too_few_values"
    NOT_REPEATED = "not_repeated"  # same_as: should equal its partner check and does not
    NOT_VARIED = "not_varied"  # differs_from: should differ from its partner check and does not
    PARTNER_FAILED = "partner_failed"  # same_as / differs_from: the partner check is not right
    NEEDS_VALUE_CHECK = "needs_value_check"  # a guessable answer counts only beside a right value
    UNREADABLE = "unreadable"  # the value could not be recorded (an object numpy cannot read)
    NOT_DERIVABLE = "not_derivable"  # the grader could not compute the judged quantity from the value
    RAISED = "raised"  # the test cell stopped with an exception before recording the value
    CELL_TIMEOUT = "cell_timeout"
    OUTPUT_CUT = "output_cut"
    NOT_RUN = "not_run"  # the notebook stopped before this test cell
    RECORDED_TWICE = "recorded_twice"
    MALFORMED = "malformed"
    NOT_RECORDED = "not_recorded"
    NOT_GRADED = "not_graded"  # the submission was rejected before any check could be judged
    GRADER_ERROR = "grader_error"  # a comparator failed: costs this check only


CODE_TEXT: dict[Code, str] = {
    Code.PASSED: "",
    Code.WRONG_TYPE: "wrong type of value",
    Code.WRONG_SHAPE: "wrong shape",
    Code.WRONG_VALUES: "wrong values",
    Code.OUT_OF_RANGE: "values outside the allowed range",
    Code.WRONG_DISTRIBUTION: "the values do not follow the asked distribution",
    Code.TOO_FEW_VALUES: "too few values to judge",
    Code.NOT_REPEATED: "the same inputs gave a different result",
    Code.NOT_VARIED: "other inputs gave the same result",
    Code.PARTNER_FAILED: "depends on another check of this function, which failed",
    Code.NEEDS_VALUE_CHECK: "counts only when a check of the values of this function passes",
    Code.UNREADABLE: "the value could not be recorded as numbers or text",
    Code.NOT_DERIVABLE: "the grader could not evaluate this value",
    Code.RAISED: "the test stopped with an exception",
    Code.CELL_TIMEOUT: "the test cell ran out of time",
    Code.OUTPUT_CUT: "the test cell printed too much and its output was cut",
    Code.NOT_RUN: "the notebook stopped before this test ran",
    Code.RECORDED_TWICE: "recorded more than once",
    Code.MALFORMED: "the recorded value was malformed",
    Code.NOT_RECORDED: "not recorded",
    Code.NOT_GRADED: "not graded",
    Code.GRADER_ERROR: "could not be compared",
}

# Codes of a wrong value, shape or type: a visible check's message then shows the expected value and the got one.
VALUE_CODES = frozenset({Code.WRONG_VALUES, Code.WRONG_SHAPE, Code.WRONG_TYPE})

# The message of a visible check that passed when the visible tests ran alone but failed in the graded run.
PASSED_ALONE = (
    "this check passed when the visible tests ran alone, but failed in the graded run: make your function depend on its arguments only"
)

# Exception types whose name a hidden check may show. A submission can name its own exception classes
# anything (the hidden inputs included), so only these fixed names are ever shown; any other is "an exception".
SHOWN_EXCEPTIONS = frozenset(
    {
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "FloatingPointError",
        "ImportError",
        "IndexError",
        "InvalidArgumentError",
        "KeyError",
        "LookupError",
        "MemoryError",
        "ModuleNotFoundError",
        "NameError",
        "NotImplementedError",
        "OverflowError",
        "RecursionError",
        "ResourceExhaustedError",
        "RuntimeError",
        "StopIteration",
        "TypeError",
        "UnboundLocalError",
        "ValueError",
        "ZeroDivisionError",
    }
)


def shown_exception(name: str) -> str:
    """The exception type as a page may show it: one of ``SHOWN_EXCEPTIONS``, else a fixed word."""
    return name if name in SHOWN_EXCEPTIONS else "an exception"


def hidden_message(code: Code, exception: str = "") -> str:
    """The fixed-format message of a hidden check: computed from the code alone (and a listed exception name)."""
    if code == Code.RAISED and exception:
        return f"{CODE_TEXT[code]} ({shown_exception(exception)})"
    return CODE_TEXT[code]


@dataclasses.dataclass
class CheckResult:
    name: str
    group: str
    points: float
    max_points: float
    passed: bool
    visible: bool
    message: str = ""  # visible checks: from the run without hidden tests; hidden checks: from ``code`` alone
    code: Code = Code.PASSED
    hint: str = ""  # the check's hint from grading.toml (shown when it failed)
    exception: str = ""  # RAISED: the exception's type, as ``shown_exception`` allows it
    series: list[float] | None = None  # checks marked ``plot``: the student's values, for the feedback plot
    passed_alone: bool = False  # a failed visible check that passed when the visible tests ran alone
    got: str = ""  # failed visible checks with a wrong value, shape or type: that value, described (run without hidden tests)


@dataclasses.dataclass
class GroupResult:
    grade_id: str
    title: str
    score: float
    max_score: float
    checks: list[CheckResult] = dataclasses.field(default_factory=list)
    hint: str = ""
    # functions this group calls whose own groups lost points too: the likely cause, said first on the page
    blocked_by: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Result:
    assignment: str
    submission: str
    score: float
    max_score: float
    groups: list[GroupResult] = dataclasses.field(default_factory=list)
    status: Status = GRADED
    reasons: list[Reason] = dataclasses.field(default_factory=list)  # why the run or the input was not clean
    tampering: list[str] = dataclasses.field(default_factory=list)  # for the instructor only
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per pipeline step
    language: str = "en"  # the notebook's language (grading/translation.py): the words of its feedback

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

    def __post_init__(self) -> None:
        self.reasons = [Reason.of(r) for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        data = dict(data)
        groups = []
        for g in data.pop("groups", []):
            g = dict(g)
            checks = []
            for c in g.get("checks", []):
                c = dict(c)
                c["code"] = Code(c.get("code", Code.PASSED if c.get("passed") else Code.NOT_RECORDED))
                checks.append(CheckResult(**c))
            g["checks"] = checks
            groups.append(GroupResult(**g))
        data["status"] = Status(data.get("status", GRADED))
        return cls(groups=groups, **data)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))
