"""In Chromium (Playwright), against a real server: a student signs in through the link, downloads the toy
assignment, submits a solved and a wrong notebook and sees both go from queued to graded. Screenshots of the
status and feedback pages go to _build/screenshots/site-student-*.png."""

from __future__ import annotations

import re
import subprocess
import time
import zipfile

import pytest

from autograder.site import accounts
from autograder.site.models import default_url, open_db
from tests import processes, toy_course
from tests.browser import SCREENSHOTS
from tests.site.conftest import PASSWORD, free_port, make_course, notebook_bytes, start_server, wrong

# A real server and worker grade two toy notebooks.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


def test_student_submits_in_the_browser_and_sees_feedback(tmp_path, browser_page):
    page = browser_page
    source, _ = make_course(tmp_path)
    (tmp_path / "site").mkdir()
    factory = open_db(default_url(tmp_path / "site"))
    [(_, token, _)] = accounts.import_roster(factory, [accounts.Person("alice", "Alice", "a@x")])
    toy = source / "toy"
    files = {"solved": tmp_path / "solved.ipynb", "wrong": tmp_path / "wrong.ipynb"}
    files["solved"].write_bytes(notebook_bytes(toy_course.solved(toy)))
    files["wrong"].write_bytes(notebook_bytes(wrong(toy)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    started = time.time() - 1  # the file system's times may round down
    try:
        page.goto(f"{base}/signin/link/{token}")
        page.fill("#password", PASSWORD)
        page.fill("#again", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/assignments")
        page.click("a[href='/assignments/toy']")
        with page.expect_download() as download:
            page.click("text=Download toy.zip")
        zipped = tmp_path / "toy.zip"
        download.value.save_as(zipped)
        assert sorted(zipfile.ZipFile(zipped).namelist()) == ["toy/course_utils.py", "toy/selfcheck.py", "toy/toy.ipynb"]
        seen = {}
        for name in ("solved", "wrong"):
            page.goto(f"{base}/assignments/toy")
            page.set_input_files("#notebook", str(files[name]))
            page.click("#submit")
            page.wait_for_url(re.compile(r"/submissions/\d+$"))
            seen[name] = [page.inner_text("#state")]
            assert seen[name][0] in ("queued", "running")  # grading takes seconds: never done by the first look
            page.screenshot(path=str(SCREENSHOTS / f"site-student-{name}-status.png"), full_page=True)
            # the page refreshes itself; wait for the feedback button (at most a few minutes on a busy machine)
            page.wait_for_selector("#feedback", timeout=240_000)
            seen[name].append(page.inner_text("#state"))
            page.click("#feedback")
            page.wait_for_selector("h1")
            assert "toy" in page.title() and "feedback for alice" in page.title()
            page.screenshot(path=str(SCREENSHOTS / f"site-student-{name}-feedback.png"), full_page=True)
        assert seen["solved"][-1] == "graded" and seen["wrong"][-1] == "graded"
        page.goto(f"{base}/assignments/toy")
        rows = page.locator("tbody tr")
        assert rows.count() == 2
        scores = sorted(rows.nth(i).locator("td").nth(4).inner_text() for i in range(2))
        assert scores == ["10 / 10", "7 / 10"]
        # the screenshots are left for a person to look at, and git does not take them
        for name in seen:
            for kind in ("status", "feedback"):
                shot = SCREENSHOTS / f"site-student-{name}-{kind}.png"
                assert shot.stat().st_mtime >= started and shot.stat().st_size > 10_000, shot
        ignored = subprocess.run(["git", "check-ignore", "-q", str(shot)], cwd=SCREENSHOTS.parents[1], check=False)
        assert ignored.returncode == 0, f"{shot} is not ignored by git"
    finally:
        processes.kill_tree(server)
