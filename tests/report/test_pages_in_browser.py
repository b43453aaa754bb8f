"""Open a feedback page and the summary in headless Chromium: they render, show the plot and run no script."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograder.grading.result import Reason, Why
from autograder.report import write_feedback, write_instructor_summary
from tests.browser import chromium

EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1000, "height": 1400})


def test_feedback_page_renders_plot_and_runs_no_injected_script(tmp_path, page, toy, result_of):
    r = result_of(
        {"scale.visible": f"wrong value: got {EVIL}", "scale.hidden": "wrong values"},
        status="incomplete",
        reasons=[Reason(Why.KERNEL_DIED, "the kernel died (out of memory, a crash or an exit call) (at cell 7)")],
    )
    curves = {"your cost": [2 * math.exp(-i / 20) for i in range(100)], "reference cost": [2 * math.exp(-i / 18) for i in range(100)]}
    path = write_feedback(tmp_path / "alice.html", toy, r, curves=curves, student="alice")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    assert page.title() == "toy: feedback for alice"
    assert not dialogs
    img = page.locator("img[alt^='Plot of the cost']")
    assert img.evaluate("i => i.complete && i.naturalWidth") > 600
    body = page.inner_text("body")
    assert "Hint: Check the sign and that the whole array is scaled." in body
    assert "got <script>" in body  # the student's text, shown as text
    shot = tmp_path / "feedback.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_summary_page_renders_in_the_browser(tmp_path, page, toy, result_of):
    results = {"alice": result_of(tampering=["scale_tests: test cell was changed"]), EVIL: result_of()}
    path = write_instructor_summary(tmp_path / "summary.html", toy, results, feedback_links={"alice": "alice.html"})
    page.goto(path.as_uri())
    assert page.title() == "toy: grading summary"
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert "tampering: scale_tests: test cell was changed" in page.inner_text("body")
    assert page.locator("a", has_text="alice").get_attribute("href") == "alice.html"


# Elements that end right of the viewport, outside scroll containers (the summary's table scrolls in its own).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) bad.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return {page: document.documentElement.scrollWidth, width, bad: bad.slice(0, 10)};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_phone_and_desktop_widths(tmp_path, page, toy, result_of, width):
    """Issue #11.10: at 390 px the message column was about 8 characters wide and check names were cut."""
    long_message = "wrong values: expected [[ 0.   -0.5 -1. ] [-1.5 -2.  -2.5]] (shape (2, 3)), got [[ 0. 0.5 1.] [1.5 2. 2.5]] (shape (2, 3)) (largest difference 5)"
    r = result_of(
        {"scale.visible": long_message, "scale.hidden": "wrong values", "draw_rates.sample": "x"},
        reasons=[
            Reason(Why.OUTPUT_CUT, "cell 12 printed more than the output limit (1024 KiB per cell, 8192 KiB in all); the rest was cut")
        ],
    )
    r.groups[1].blocked_by = ["scale"]
    fb = write_feedback(tmp_path / "a_student_with_a_long_name.html", toy, r, student="a_student_with_a_long_name")
    results = {f"student_{i:03d}_with_a_long_identifier": result_of() for i in range(5)}
    summary = write_instructor_summary(tmp_path / "summary.html", toy, results, feedback_links={})
    page.set_viewport_size({"width": width, "height": 900})
    shots = Path(__file__).resolve().parents[2] / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for name, path in (("feedback", fb), ("summary", summary)):
        page.goto(path.as_uri())
        found = page.evaluate(OVERFLOW_JS)
        assert found["page"] <= found["width"] + 1 and found["bad"] == [], f"{name} at {width}px overflows: {found}"
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    # the longest check message wraps inside its column: the column is wider than a few characters
    page.goto(fb.as_uri())
    column = page.locator("table.checks td:nth-child(2)").first.evaluate("td => td.getBoundingClientRect().width")
    assert column > 0.5 * min(width, 900) - 80


@pytest.mark.parametrize("width", [390, 1280])
def test_a_chinese_feedback_page_reads_in_chinese_and_fits(tmp_path, page, toy, result_of, width):
    import warnings

    from autograder.report.feedback import curve_png

    r = result_of({"scale.visible": "wrong values: expected [3. 6.], got [4. 7.]", "scale.hidden": "wrong values"})
    r.language = "zh"
    r.groups[1].blocked_by = ["scale"]
    curves = {"你的 cost": [2 * math.exp(-i / 20) for i in range(100)], "参考解的 cost": [2 * math.exp(-i / 18) for i in range(100)]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph in the plot's Chinese labels is a warning of matplotlib's
        curve_png(curves, language="zh")
    path = write_feedback(tmp_path / "alice.html", toy, r, curves=curves, student="alice")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    assert page.title() == "toy：alice 的反馈"
    body = page.inner_text("body")
    for words in ("数值不对", "提示：", "请先修正", "隐藏", "你的训练代价"):
        assert words in body
    assert "Hint:" not in body and "hidden check" not in body
    fits = page.evaluate(OVERFLOW_JS)
    assert fits["page"] <= fits["width"] and not fits["bad"], fits
    page.screenshot(path=str(tmp_path / f"feedback_zh_{width}.png"), full_page=True)
