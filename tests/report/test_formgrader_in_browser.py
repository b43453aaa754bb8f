"""The real formgrader (jupyter server + nbgrader's extension) on a class graded by `autograder grade`.

An instructor runs Jupyter in the output folder and grades by hand in formgrader: Manage Assignments lists
the assignment (due date, submissions), the gradebook shows names and scores, and a submission opens with
the autograder's points on its test cells.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.report.conftest import JANE

JUPYTER_SERVER = Path(sys.executable).with_name("jupyter-server")
# Only formgrader: the other extensions of the environment cost start-up time and are not under test.
OTHERS_OFF = {
    "jupyterlab": False,
    "notebook": False,
    "jupyter_lsp": False,
    "jupyter_server_terminals": False,
    "notebook_shim": False,
    "nbgrader.server_extensions.validate_assignment": False,
    "nbgrader.server_extensions.assignment_list": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.formgrader": True,
}
START_TIMEOUT_S = 60
# A Jupyter server and a browser: about 25 s, so in the full suite only.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(graded_course, tmp_path_factory):
    """The formgrader of the graded course on a loopback port with a token; stopped afterwards."""
    if not JUPYTER_SERVER.exists():
        pytest.skip(f"no {JUPYTER_SERVER}")
    home = tmp_path_factory.mktemp("jupyter")
    (home / "config").mkdir()
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": OTHERS_OFF}}))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    token, port = secrets.token_hex(16), _free_port()
    out = graded_course["out"]
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(JUPYTER_SERVER),
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={out}",
        ],
        cwd=out,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/formgrader/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"formgrader did not start:\n{(home / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"base": base, "token": token, "log": home / "server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def page(formgrader):
    with chromium() as browser:
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        pg.set_default_timeout(20_000)
        # the token once in the URL logs the browser in (a cookie), as the link Jupyter prints does
        pg.goto(f"{formgrader['base']}/formgrader?token={formgrader['token']}")
        yield pg


# name (as formgrader writes it once shown), overall score and link of each row of a notebook's gradebook
ROWS_JS = """() => [...document.querySelectorAll('tbody tr')].map(tr => {
  const link = tr.querySelector('a.name-shown');
  return {name: link.textContent.trim(), score: link.closest('td').nextElementSibling.textContent.trim(), href: link.getAttribute('href')};
})"""


def _gradebook_rows(formgrader, page) -> list[dict]:
    page.goto(f"{formgrader['base']}/formgrader/gradebook/toy/toy")
    page.locator("tbody tr td a").first.wait_for()
    return page.evaluate(ROWS_JS)


def test_manage_assignments_lists_the_assignment_with_due_date_and_submissions(formgrader, page):
    page.goto(f"{formgrader['base']}/formgrader/manage_assignments")
    row = page.locator("tr", has_text="toy").filter(has=page.locator("td"))
    row.first.wait_for()
    text = " ".join(row.first.inner_text().split())
    assert "2031-05-17 12:00:00" in text  # the due date set in the gradebook survived the second grading
    cells = [" ".join(c.split()) for c in row.first.locator("td").all_inner_texts()]
    assert "3" in cells, cells  # three students sent a notebook


def test_gradebook_shows_names_and_scores(formgrader, page):
    rows = _gradebook_rows(formgrader, page)
    assert {r["name"]: " ".join(r["score"].split()) for r in rows} == {
        "Doe, Jane": "10 / 10",
        "Builder, Bob": "0 / 10",
        "King, Carol Ann": "7 / 10",
    }
    # names are hidden until the grader asks (the eye in the row)
    bob = page.locator("a.name-shown", has_text="Builder, Bob")
    page.locator("tbody tr", has=bob).locator("span.glyphicon-eye-open").click()
    pytest.importorskip("playwright.sync_api").expect(bob).to_be_visible()


def test_a_submission_opens_with_the_autograders_points_on_its_test_cells(formgrader, page):
    carol = next(r for r in _gradebook_rows(formgrader, page) if r["name"] == "King, Carol Ann")
    page.locator(f"a.name-hidden[href='{carol['href']}']").click()  # "Submission #n", as the grader sees it
    page.locator("input.score#scale_tests").wait_for()
    # formgrader shows each test cell's auto score as the placeholder of its score box
    page.wait_for_function("() => document.querySelector('input.score#count_positive_tests').placeholder !== ''")
    placeholders = {
        gid: page.locator(f"input.score#{gid}").get_attribute("placeholder")
        for gid in ("scale_tests", "draw_rates_tests", "count_positive_tests")
    }
    assert {k: float(v) for k, v in placeholders.items()} == {"scale_tests": 0.0, "draw_rates_tests": 5.0, "count_positive_tests": 2.0}
    body = page.inner_text("body")
    assert "a + np.asarray(x, dtype=np.float64)" in " ".join(body.split())  # her own code in her solution cell
    assert "autograder: 0 / 3 points" in body and "FAILED  scale.visible" in body.replace("\u00a0", " ")
    assert "BEGIN HIDDEN TESTS" not in body and "np.arange(6.0)" not in body
    assert JANE not in body
    # her own Markdown is shown as text: its HTML and javascript: link do not run in the grader's page
    assert '<script>document.title="pwned"</script>' in body and page.title() != "pwned"
    assert page.locator("img[onerror]").count() == 0 and page.locator("a[href^='javascript:' i]").count() == 0
