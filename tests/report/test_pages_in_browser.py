"""Open a feedback page and the summary in headless Chromium: they render, show the plot and run no script."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograder.report import write_feedback, write_instructor_summary

CHROMIUM = Path("/usr/bin/chromium")
EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        pg = browser.new_page(viewport={"width": 1000, "height": 1400})
        yield pg
        browser.close()


def test_feedback_page_renders_plot_and_runs_no_injected_script(tmp_path, page, toy, result_of):
    r = result_of(
        {"scale.visible": f"wrong value: got {EVIL}", "scale.hidden": "wrong values"},
        status="incomplete",
        reasons=["the kernel died (out of memory, a crash or an exit call) (at cell 7)"],
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
