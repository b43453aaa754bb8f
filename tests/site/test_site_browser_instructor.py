"""In Chromium (Playwright), against a real server and worker: an instructor signs in, sees the class table
and the plots, loosens a tolerance in the (temporary) toy course's grading.toml, regrades all, and the
student's counted score changes. Screenshots at 390 and 1280 px go to _build/screenshots/; at 390 px no
page may scroll sideways and every check's pass rate is on screen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autograder.site import accounts, catalog, storage
from autograder.site.models import default_url, open_db
from tests import processes, toy_course
from tests.browser import SCREENSHOTS
from tests.site.conftest import PASSWORD, free_port, make_course, notebook_bytes, start_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def slightly_off(toy: Path):
    """The solved toy with ``scale`` off by one part in a million: inside the visible check's rtol (1e-5),
    outside the hidden check's (1e-7), so it scores 9 of 10 until that tolerance is loosened."""
    nb = toy_course.solved(toy)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "scale":
            cell.source = "def scale(x, a):\n    return a * np.asarray(x, dtype=np.float64) * (1 + 1e-6)\n"
    return nb


def alice_cell(page) -> str:
    return page.inner_text("td[data-student='alice'][data-assignment='toy']").split()[0]


def until(page, url: str, ready, timeout: float = 300.0) -> None:
    """Open ``url`` again until ``ready(page)`` (grading takes seconds, more on a busy machine)."""
    end = time.monotonic() + timeout
    while True:
        page.goto(url)
        if ready(page):
            return
        if time.monotonic() > end:
            raise AssertionError(f"{url} not ready within {timeout} s")
        time.sleep(1.0)


def no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_instructor_sees_the_class_and_plots_regrades_and_the_score_changes(tmp_path, browser):
    source, release = make_course(tmp_path)
    toy = source / "toy"
    (tmp_path / "site").mkdir()
    factory = open_db(default_url(tmp_path / "site"))
    [(_, _, _)] = accounts.import_roster(factory, [accounts.Person("alice", "Alice", "a@x")])
    prof_token = accounts.add_instructor(factory, "prof", "Prof")
    offered = catalog.load(source, release)
    with factory() as db:
        alice_id = accounts.find_user(db, "alice").id
    storage.store(factory, tmp_path / "site" / "blobs", alice_id, offered["toy"], "toy.ipynb", notebook_bytes(slightly_off(toy)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/signin/link/{prof_token}")
        page.fill("#password", PASSWORD)
        page.fill("#again", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/assignments")
        until(page, f"{base}/instructor", lambda p: alice_cell(p) != "\u2013")
        assert alice_cell(page) == "9"
        page.screenshot(path=str(SCREENSHOTS / "site-class-1280.png"), full_page=True)
        page.click("a[href='/instructor/assignments/toy']")
        for plot in ("#plot-scores", "#plot-times"):
            assert page.eval_on_selector(plot, "img => img.complete && img.naturalWidth > 300")
        assert "scale.hidden" in page.inner_text("#checks tbody tr:first-child")  # the check alice fails comes first
        page.screenshot(path=str(SCREENSHOTS / "site-instructor-assignment-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        for name, url in (
            ("instructor-assignment", "/instructor/assignments/toy"),
            ("class", "/instructor"),
            ("extensions", "/instructor/assignments/toy/extensions"),
        ):
            page.goto(base + url)
            page.screenshot(path=str(SCREENSHOTS / f"site-{name}-390.png"), full_page=True)
            assert no_sideways_scroll(page) <= 0, url
            if name == "instructor-assignment":
                # each check's pass rate stays on screen: inside the viewport, in a table that does not scroll either
                rate = page.locator("#checks .rate[data-check='scale.hidden']")
                assert rate.is_visible() and rate.inner_text() == "0% passed (0 of 1)"
                box = rate.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
                assert page.eval_on_selector("#checks", "t => t.parentElement.scrollWidth - t.parentElement.clientWidth") <= 0
        # the instructor loosens the hidden check's tolerance and regrades everyone's counted submission
        spec_file = toy / "grading.toml"
        text = spec_file.read_text()
        assert text.count("rtol = 1e-7") == 1
        spec_file.write_text(text.replace("rtol = 1e-7", "rtol = 1e-5"))
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/instructor/assignments/toy")
        page.click("#regrade")
        page.wait_for_url(f"{base}/instructor/assignments/toy")
        assert page.inner_text("#regrade-progress").count("of 1") == 1
        until(page, f"{base}/instructor/assignments/toy", lambda p: p.inner_text("#regrade-state") == "finished")
        assert "1 scores changed" in page.inner_text("#regrade-progress")
        page.screenshot(path=str(SCREENSHOTS / "site-regraded-1280.png"), full_page=True)
        page.goto(f"{base}/instructor")
        assert alice_cell(page) == "10"
    finally:
        processes.kill_tree(server)
