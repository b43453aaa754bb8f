"""Student feedback pages and the instructor summary, read as their readers would read them."""

from __future__ import annotations

import base64
import dataclasses
import html.parser
import math
import re

import pytest

from autograder.grading.result import Reason, Result, Why
from autograder.report import ReportError, write_feedback, write_instructor_summary
from autograder.report.feedback import render_feedback

SECRET = "SECRET-0.8765432"  # stands for anything a hidden check must never reveal


class _Text(html.parser.HTMLParser):
    """The text a reader sees (no tags, no style), and the page's tags with their attributes."""

    def __init__(self):
        super().__init__()
        self.parts, self.tags, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def parse(page: str) -> _Text:
    p = _Text()
    p.feed(page)
    return p


def text_of(page: str) -> str:
    return " ".join(" ".join(parse(page).parts).split())


def test_scores_per_group_and_total(toy, result_of):
    r = result_of({"scale.hidden": "wrong values", "draw_rates.sample": "x"})
    text = text_of(render_feedback(toy, r, student="alice"))
    assert "Feedback for alice" in text
    assert re.search(r"toy .*\b8 / 10\b", text)
    assert re.search(r"scale 2 / 3 .*draw_rates 4 / 5 .*count_positive 2 / 2", text)


def test_failed_visible_check_shows_expected_and_got(toy, result_of):
    msg = "wrong values: expected [3. 6.] (shape (2,)), got [-3. -6.] (shape (2,)) (largest difference 12)"
    text = text_of(render_feedback(toy, result_of({"scale.visible": msg})))
    assert "expected [3. 6.] (shape (2,)), got [-3. -6.] (shape (2,))" in text


def test_hidden_check_shows_only_its_hint(toy, result_of):
    r = result_of({"scale.hidden": f"wrong values {SECRET}", "draw_rates.sample": f"not log-uniform {SECRET}"})
    text = text_of(render_feedback(toy, r))
    assert "Hint: Check the sign and that the whole array is scaled." in text
    assert "Hint: log10 of the rates should be spread evenly over [-4, 0]." in text
    assert SECRET not in text and "not log-uniform" not in text


def test_hidden_check_without_a_hint_gets_a_general_one(toy, result_of):
    groups = list(toy.groups)
    checks = tuple(dataclasses.replace(c, hint="") if c.name == "count_positive.hidden" else c for c in groups[2].checks)
    groups[2] = dataclasses.replace(groups[2], checks=checks)
    spec = dataclasses.replace(toy, groups=tuple(groups))
    text = text_of(render_feedback(spec, result_of({"count_positive.hidden": SECRET})))
    assert "inputs you have not seen" in text and SECRET not in text


def test_the_spec_decides_what_is_hidden(toy, result_of):
    # A Result that claims a hidden check is visible still gets the hidden treatment.
    r = result_of({"scale.hidden": f"wrong values: expected {SECRET}"})
    r.check("scale.hidden").visible = True
    text = text_of(render_feedback(toy, r))
    assert SECRET not in text and "Check the sign" in text


def test_reference_values_fill_in_visible_checks_only(toy, result_of):
    refs = {"scale.visible": [3.0, 6.0], "scale.hidden": SECRET, "count_positive.hidden": SECRET}
    r = result_of({"scale.visible": "not recorded", "scale.hidden": "wrong values"})
    text = text_of(render_feedback(toy, r, reference_values=refs))
    assert "not recorded expected: [3. 6.]" in text
    assert SECRET not in text


def test_submission_text_is_escaped(toy, result_of):
    evil = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
    r = result_of({"scale.visible": f"wrong value: got {evil}"}, reasons=[f"execution: RuntimeError: {evil}"])
    page = render_feedback(toy, r, student=f"<b>{evil}</b>")
    tags = parse(page).tags
    assert not [t for t, _ in tags if t in ("script", "b")]
    assert not [a for t, a in tags if t == "img" and a.get("src") == "x"]
    assert "&lt;script&gt;" in page
    assert f"got {evil}" in text_of(page)  # shown as text, as the student wrote it


def test_tampering_notes_stay_off_the_student_page(toy, result_of):
    r = result_of(tampering=["scale_tests: test cell was changed; restored from the source"])
    assert "restored from the source" not in render_feedback(toy, r)
    assert "tampering" not in text_of(render_feedback(toy, r)).lower()


@pytest.mark.parametrize(
    ("status", "reason", "words"),
    [
        (
            "incomplete",
            Reason(Why.KERNEL_DIED, "the kernel died (out of memory, a crash or an exit call) (at cell 7)"),
            "ran out of memory",
        ),
        ("incomplete", Reason(Why.NOTEBOOK_TIMEOUT, "the notebook ran longer than 900 s and was stopped (at cell 12)"), "endless loop"),
        ("graded", Reason(Why.OUTPUT_CUT, "cell 4 printed more than 1024 KiB; the rest was cut"), "Remove print calls"),
        ("rejected", Reason(Why.NOT_NOTEBOOK, "not a notebook: cannot read it as JSON (JSONDecodeError)"), "not a Jupyter notebook"),
        ("rejected", Reason(Why.OTHER_ASSIGNMENT, "not a notebook of toy: none of its graded cells is present"), "another assignment"),
    ],
)
def test_status_and_reasons_are_explained_in_plain_words(toy, result_of, status, reason, words):
    text = text_of(render_feedback(toy, result_of(status=status, reasons=[reason])))
    assert reason in text and words in text
    if status == "incomplete":
        assert "stopped before the end" in text
    if status == "rejected":
        assert "could not be graded" in text


def test_the_words_follow_the_reasons_code_not_its_text(toy, result_of):
    """Issue #12.3: a page never parses reason sentences; the code decides (and survives a stored result)."""
    coded = Result.from_dict(result_of(status="incomplete", reasons=[Reason(Why.CELL_TIMEOUT, "cell 3: stopped")]).to_dict())
    assert coded.reasons[0].code == Why.CELL_TIMEOUT
    assert "endless loop" in text_of(render_feedback(toy, coded))
    # The same sentence a timeout would give, but as bare text (an older record): no explanation is made up.
    bare = result_of(status="incomplete", reasons=["cell 3 ran longer than 120 s and was interrupted"])
    assert bare.reasons[0].code == Why.OTHER
    assert "endless loop" not in text_of(render_feedback(toy, bare))


def test_every_kind_of_reason_has_plain_words():
    from autograder.report.feedback import REASON_HELP

    assert set(Why) - set(REASON_HELP) == {Why.OTHER}


def test_a_clean_run_has_no_notice(toy, result_of):
    text = text_of(render_feedback(toy, result_of()))
    assert "What happened" not in text and "Notes on the run" not in text


def _png_of(page: str) -> bytes:
    imgs = [a["src"] for t, a in parse(page).tags if t == "img" and a.get("src", "").startswith("data:image/png;base64,")]
    assert len(imgs) == 1
    return base64.b64decode(imgs[0].split(",", 1)[1])


def test_cost_curves_are_drawn_into_an_embedded_png(toy, result_of):
    curves = {
        "your cost": [1.8 * math.exp(-i / 30) for i in range(101)],
        "reference cost": [1.7 * math.exp(-i / 25) for i in range(101)],
    }
    page = render_feedback(toy, result_of(), curves=curves)
    png = _png_of(page)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 600 and height >= 300
    assert "Your training cost" in text_of(page)


def test_no_curves_no_plot(toy, result_of):
    page = render_feedback(toy, result_of())
    assert "<img" not in page and "training cost" not in text_of(page)


def test_odd_curve_values_are_noted_not_fatal(toy, result_of):
    curves = {"your cost $x_1": [1.0, float("nan"), "oops", float("inf"), 0.5], "empty": []}
    page = render_feedback(toy, result_of(), curves=curves)
    _png_of(page)
    text = text_of(page)
    assert "your cost $x_1: 3 value(s) were not finite" in text
    assert "empty: no value to draw" in text


def test_write_feedback_writes_a_self_contained_page(tmp_path, toy, result_of):
    path = write_feedback(tmp_path / "out" / "alice.html", toy, result_of(), curves={"a": [1.0, 0.5]}, student="alice")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # nothing fetched from elsewhere: no external scripts, stylesheets or images
    for tag, attrs in parse(page).tags:
        for key in ("src", "href"):
            assert not attrs.get(key, "data:").startswith(("http", "//")), (tag, attrs)
    assert sorted(p.name for p in path.parent.iterdir()) == ["alice.html"]


def test_feedback_of_another_assignment_is_refused(tmp_path, toy, result_of):
    r = result_of()
    r.assignment = "softmax"
    with pytest.raises(ReportError, match="softmax"):
        write_feedback(tmp_path / "a.html", toy, r)
    assert not (tmp_path / "a.html").exists()


# ------------------------------------------------------------------------------------- summary


def test_summary_lists_students_scores_statuses_reasons_and_tampering(tmp_path, toy, result_of):
    results = {
        "alice": result_of(tampering=["scale_tests: test cell was changed; restored from the source"]),
        "bob": result_of({"scale.hidden": "x"}, status="incomplete", reasons=["cell 4 ran longer than 120 s and was interrupted"]),
        "carol": result_of({c.name: "not graded" for c in toy.checks()}, status="rejected", reasons=["not a notebook: no list of cells"]),
    }
    path = write_instructor_summary(tmp_path / "summary.html", toy, results, feedback_links={"alice": "feedback/alice.html"})
    page = path.read_text(encoding="utf-8")
    text = text_of(page)
    assert re.search(r"alice 10 3 5 2 graded tampering: scale_tests: test cell was changed; restored from the source", text)
    assert re.search(r"bob 9 2 5 2 incomplete cell 4 ran longer than 120 s and was interrupted", text)
    assert re.search(r"carol 0 0 0 0 not gradable not a notebook: no list of cells", text)
    assert re.search(r"3 students 6\.333 / 10 mean 9 median 1 full marks", text)
    assert re.search(r"\b1 with tampering notes", text)
    assert ("a", {"href": "feedback/alice.html"}) in parse(page).tags


def test_summary_escapes_ids_and_neutralises_links(tmp_path, toy, result_of):
    results = {"<script>x</script>": result_of(tampering=["<img src=x onerror=alert(1)>"]), "eve": result_of()}
    page = write_instructor_summary(tmp_path / "s.html", toy, results, feedback_links={"eve": "javascript:alert(1)"}).read_text()
    tags = parse(page).tags
    assert not [t for t, _ in tags if t == "script"]
    assert not [a for t, a in tags if t == "img"]
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert hrefs == ["javascript%3Aalert%281%29"]  # a relative file name now, not a script
