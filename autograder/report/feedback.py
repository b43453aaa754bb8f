"""Feedback pages: one self-contained HTML page per student, and one summary page for the instructor.

What a student sees is chosen here, not by whoever wrote a message:

* visible checks that failed show their message (expected vs got);
* hidden checks show only whether they passed and the hint written in grading.toml, never their message,
  inputs or reference values;
* the run's status and reasons are explained in plain words; tampering notes stay on the instructor's page.

Everything that comes from a submission (messages, reasons, ids) goes through Jinja2's autoescape, so a
student's output cannot add HTML or scripts to a page. Pages need no network: the CSS is inline and the
cost-curve plot is an embedded PNG.
"""

from __future__ import annotations

import base64
import io
import math
import statistics
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from autograder.grading.result import REJECTED, VALUE_CODES, CheckResult, Reason, Result
from autograder.grading.spec import Assignment
from autograder.report import words
from autograder.report.common import ReportError, UploadNote, atomic_write, check_results, fmt, group_scores

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_CURVE_POINTS = 5000  # more points than pixels only makes the PNG bigger
MAX_MESSAGE_CHARS = 2000  # a message is cut here; a submission must not blow up its page

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,  # every {{ }} is escaped: messages and reasons may hold a student's text
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # package files: not stat()ed on every render
)
_ENV.filters["score"] = fmt

# The English words (the instructor's pages and older callers use them); every language's are in words.py.
STATUS_WORDS = words.STATUS_WORDS["en"]
STATUS_TEXT = words.STATUS_TEXT["en"]
REASON_HELP = words.REASON_HELP["en"]


def explain_reason(reason: Reason, language: str = "en") -> str:
    """A plain-words explanation of one reason of a Result ('' when there is none), in ``language``."""
    return words.REASON_HELP[words.language_of(language)].get(Reason.of(reason).code, "")


def _cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + " \u2026 (cut)"


def _describe(value: Any) -> str:
    """A short rendering of a reference value (a records.Value or plain data)."""
    describe = getattr(value, "describe", None)
    if callable(describe):
        return describe()
    try:
        import numpy as np

        if isinstance(value, (list, tuple)) or hasattr(value, "shape"):
            return np.array2string(np.asarray(value), threshold=20, edgeitems=3, precision=6)
    except Exception:
        pass
    return repr(value)


# Codes whose visible message already shows the expected value (the comparator wrote "expected ..., got ...").
_SHOWS_EXPECTED = VALUE_CODES


def _check_view(check: CheckResult, spec: Assignment, reference_values: dict[str, Any] | None, language: str) -> dict:
    spec_check = next((c for c in spec.checks() if c.name == check.name), None)
    # The spec at hand decides the hint, as it decides visibility; in the page's language when translated.
    hint = spec.hint(check.name, language) if spec_check is not None else check.hint
    # The spec decides what is hidden; a Result cannot make a hidden check visible.
    visible = check.visible and (spec_check is None or spec_check.visible)
    view = {
        "name": check.name,
        "short": check.name.split(".", 1)[-1] if "." in check.name else check.name,
        "points": check.points,
        "max_points": check.max_points,
        "passed": check.passed,
        "visible": visible,
        "detail": "",
        "why": "",
        "expected": "",
        "got": "",
        "hint": "",
    }
    if check.passed:
        return view
    if visible:
        view["detail"] = _cut(check.message.strip().rstrip("."))
        ref = (reference_values or {}).get(check.name)
        derived = spec_check is not None and bool(spec_check.derive)
        if language != "en":
            view["why"] = words.code_message(check.code, check.exception, language)
            if check.passed_alone:
                view["why"], view["detail"] = words.PAGE[language]["passed_alone"], ""
            if check.got and ref is not None and not derived and check.code in _SHOWS_EXPECTED:
                # Expected and got in the page's words, instead of the grader's English line.
                view["detail"], view["expected"], view["got"] = "", _cut(_describe(ref)), _cut(check.got)
                view["hint"] = hint
                return view
            # Otherwise the grader's own line (an exception's text, ...) stays as written, under the code's words.
        if ref is not None and not derived and check.code not in _SHOWS_EXPECTED:
            view["expected"] = _cut(_describe(ref))
        view["hint"] = hint
    else:
        # Fixed words from the grader's code: nothing a hidden test's run produced reaches the page.
        view["detail"] = words.code_message(check.code, check.exception, language)
        view["hint"] = hint or words.PAGE[language]["hidden_hint"]
    return view


def plot_curves(spec: Assignment, result: Result, reference_values: dict[str, Any] | None) -> dict[str, list[float]]:
    """Label -> values for the feedback plot: each plotted check's series beside its reference values
    (labelled in the result's language)."""
    page = words.PAGE[words.language_of(result.language)]
    curves: dict[str, list[float]] = {}
    for check in spec.checks():
        if not check.plot or not check.visible:
            continue
        try:
            got = result.check(check.name)
        except KeyError:
            continue
        if got.series is None:
            continue
        curves[page["yours"].format(what=check.plot)] = list(got.series)
        ref = (reference_values or {}).get(check.name)
        array = getattr(ref, "array", None)
        if array is not None:
            curves[page["reference"].format(what=check.plot)] = [float(x) for x in array.ravel()]
    return curves


def _finite_points(values: Any) -> tuple[list[float], int]:
    """Floats of a curve (non-finite values become gaps) and how many were not finite."""
    out, bad = [], 0
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x):
            bad += 1
            x = math.nan
        out.append(x)
    return out, bad


def curve_png(curves: dict[str, list[float]], *, title: str | None = None, language: str = "en") -> tuple[bytes, list[str]]:
    """A PNG of the curves (label -> values, one point per recorded step) and notes about odd values, with
    the axes and notes in ``language``."""
    page = words.PAGE[words.language_of(language)]
    import matplotlib

    # A Figure with its own Agg canvas: no pyplot, so no global backend or figure state is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    notes: list[str] = []
    # Labels are plain text: '$' must not switch matplotlib to math mode (a bad formula fails to draw).
    # Chinese labels need a CJK font (Debian's fonts-noto-cjk); Latin text and digits look the same in it.
    fonts = {"font.family": "sans-serif", "font.sans-serif": ["Noto Sans CJK SC", "DejaVu Sans"]} if language == "zh" else {}
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 10, **fonts}):
        fig = Figure(figsize=(7.2, 3.4), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        styles = [("#d1495b", "-"), ("#2e4057", "--"), ("#00798c", "-."), ("#edae49", ":")]
        drawn = 0
        for i, (label, values) in enumerate(curves.items()):
            ys, bad = _finite_points(values)
            if bad:
                notes.append(page["not_finite"].format(label=label, count=bad))
            step = max(1, math.ceil(len(ys) / MAX_CURVE_POINTS))
            xs = list(range(0, len(ys), step))
            ys = ys[::step]
            if not any(math.isfinite(y) for y in ys):
                notes.append(page["nothing_to_draw"].format(label=label))
                continue
            color, dash = styles[i % len(styles)]
            ax.plot(xs, ys, dash, color=color, linewidth=2 if i == 0 else 1.6, label=str(label))
            drawn += 1
        ax.set_title(title or page["plot_title"])
        ax.set_xlabel(page["plot_x"])
        ax.set_ylabel(page["plot_y"])
        ax.grid(True, alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if drawn:
            ax.legend(frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue(), notes


def render_feedback(
    spec: Assignment,
    result: Result,
    reference_values: dict[str, Any] | None = None,
    curves: dict[str, list[float]] | None = None,
    *,
    student: str | None = None,
) -> str:
    """The HTML text of a student's feedback page (see ``write_feedback``), in the result's language."""
    if result.assignment != spec.name:
        raise ReportError(f"the result is for assignment '{result.assignment}', not '{spec.name}'")
    language = words.language_of(result.language)
    page = words.PAGE[language]
    groups = []
    for group_spec in spec.groups:
        group = group_scores(spec, result)[group_spec.grade_id]
        checks = [_check_view(c, spec, reference_values, language) for c in (group.checks if group else [])]
        score = group.score if group else 0.0
        groups.append(
            {
                "title": group_spec.title,
                "score": score,
                "max": group_spec.max_points,
                "full": score >= group_spec.max_points,
                "hint": spec.hint(group_spec.grade_id, language) if score < group_spec.max_points else "",
                "checks": checks,
                "blocked_by": [
                    markupsafe.Markup(page["blocked"]).format(used=used, title=group_spec.title)
                    for used in (group.blocked_by if group else [])
                ],
            }
        )
    plot, plot_notes = ("", [])
    if curves is None:
        curves = plot_curves(spec, result, reference_values)
    if curves:
        png, plot_notes = curve_png(curves, language=language)
        plot = base64.b64encode(png).decode("ascii")
    reasons = [{"text": _cut(r), "help": explain_reason(r, language)} for r in result.reasons]
    return _ENV.get_template("feedback.html.j2").render(
        spec=spec,
        result=result,
        w=page,
        title=page["title"].format(name=spec.name, student=student or result.submission),
        student=student or result.submission,
        status_word=words.STATUS_WORDS[language].get(result.status, result.status),
        status_text=words.STATUS_TEXT[language].get(result.status, ""),
        reasons=reasons,
        groups=groups,
        percent=_percent(result.score, spec.max_score),
        plot=plot,
        plot_notes=plot_notes,
    )


def _percent(score: float, max_score: float) -> float:
    return max(0.0, min(100.0, 100.0 * score / max_score)) if max_score else 0.0


def write_feedback(
    path: str | Path,
    spec: Assignment,
    result: Result,
    reference_values: dict[str, Any] | None = None,
    curves: dict[str, list[float]] | None = None,
    *,
    student: str | None = None,
) -> Path:
    """Write a student's feedback page (self-contained HTML) atomically; return its path.

    ``reference_values`` (check name -> value) fill in 'expected' for failed *visible* checks whose message
    lacks it; values of hidden checks are never shown. ``curves`` (label -> values), when given, are drawn
    as one plot, e.g. {"your cost": [...], "reference cost": [...]}. ``student`` names the student in the
    page (default: the result's submission label).
    """
    return atomic_write(path, render_feedback(spec, result, reference_values, curves, student=student))


def render_instructor_summary(
    spec: Assignment,
    results: dict[str, Result],
    feedback_links: dict[str, str] | None = None,
    *,
    not_notebooks: Mapping[str, str] | None = None,
    uploads: Sequence[UploadNote] = (),
) -> str:
    """The HTML text of the instructor's summary page (see ``write_instructor_summary``)."""
    check_results(spec, results)
    not_notebooks = dict(not_notebooks or {})
    links = feedback_links or {}

    def link(student: str) -> str:
        # Percent-encoded relative link: no 'javascript:' or other scheme can reach the href.
        return urllib.parse.quote(links.get(student, ""), safe="/")

    rows = []
    for student in sorted(s for s in results if s not in not_notebooks):
        result = results[student]
        groups = group_scores(spec, result)
        rows.append(
            {
                "student": student,
                "link": link(student),
                "score": result.score,
                "groups": [g.score if g is not None else 0.0 for g in groups.values()],
                "status": result.status,
                "status_word": STATUS_WORDS.get(result.status, result.status),
                "reasons": [_cut(r, 500) for r in result.reasons],
                "tampering": [_cut(t, 500) for t in result.tampering],
                "seconds": sum(v for v in result.timings.values() if isinstance(v, (int, float))),
            }
        )
    others = [
        {
            "student": student,
            "link": link(student),
            "file": _cut(not_notebooks[student], 300),
            "reasons": [_cut(r, 500) for r in results[student].reasons],
        }
        for student in sorted(s for s in not_notebooks if s in results)
    ]
    notes = [{"file": _cut(n.file, 300), "reason": _cut(n.reason, 500), "student": n.student} for n in uploads]
    # The statistics are those of the notebooks: a README or a PDF in the folder is nobody's score.
    scores = [r["score"] for r in rows]
    stats = {
        "count": len(rows),
        "mean": statistics.fmean(scores) if scores else 0.0,
        "median": statistics.median(scores) if scores else 0.0,
        "full": sum(1 for s in scores if s >= spec.max_score),
        "statuses": {STATUS_WORDS.get(s, s): sum(1 for r in rows if r["status"] == s) for s in sorted({r["status"] for r in rows})},
        "tampered": sum(1 for r in rows if r["tampering"]),
        "group_means": [statistics.fmean(r["groups"][i] for r in rows) if rows else 0.0 for i in range(len(spec.groups))],
        "not_notebooks": len(others),
        "notes": len(notes),
    }
    return _ENV.get_template("summary.html.j2").render(spec=spec, rows=rows, stats=stats, others=others, notes=notes)


def write_instructor_summary(
    path: str | Path,
    spec: Assignment,
    results: dict[str, Result],
    feedback_links: dict[str, str] | None = None,
    *,
    not_notebooks: Mapping[str, str] | None = None,
    uploads: Sequence[UploadNote] = (),
) -> Path:
    """Write the instructor's page: every student's score per group, status, reasons and tampering notes.

    ``feedback_links`` (student id -> URL relative to the page) link each row to the student's feedback.
    ``not_notebooks`` (student id -> the uploaded file) are uploads that are not notebooks: listed on their
    own, left out of the statistics. ``uploads`` lists the files not graded under an id of their own (skipped,
    or another file of the same student) and the ids that were changed, each with its reason.
    """
    return atomic_write(path, render_instructor_summary(spec, results, feedback_links, not_notebooks=not_notebooks, uploads=uploads))


def render_upload_page(spec: Assignment, student: str, file: str, reason: str) -> str:
    """The HTML text of the one short page of an upload that could not be graded (see ``write_upload_page``)."""
    return _ENV.get_template("upload.html.j2").render(
        spec=spec, student=student, file=_cut(file, 300), reason=_cut(reason, 500), status_word=STATUS_WORDS[REJECTED]
    )


def write_upload_page(path: str | Path, spec: Assignment, student: str, file: str, reason: str) -> Path:
    """Write the page of a student whose upload is not a notebook (or could not be unpacked): what was
    received, why it scores nothing, what to hand in instead. No per-check listing: nothing was run."""
    return atomic_write(path, render_upload_page(spec, student, file, reason))
