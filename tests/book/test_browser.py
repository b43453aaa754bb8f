"""Open every page of the built book in headless Chromium, as a reader would, and check what it shows.

The site is served over HTTP from 127.0.0.1 (a thread in this process), so links and downloads are checked
the way a browser fetches them. A screenshot of each page goes to _build/screenshots/ for a look by eye.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from booksite import SITE, site_pages, title_of, zh_pages

from tests.browser import SCREENSHOTS, chromium

PAGES = [p.relative_to(SITE).as_posix() for p in site_pages()] or ["(book not built)"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as browser:
        yield browser


@functools.cache
def _fetch(url: str) -> tuple[int, str]:
    """Status and (for HTML) text of a URL on the local server; cached because pages share links."""
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "")
            return resp.status, body.decode("utf-8", "replace") if "html" in ctype else ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""


WAIT_FOR_MATH = """async () => {
  if (!window.MathJax) return 'no-mathjax';
  while (!(MathJax.startup && MathJax.startup.promise)) await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
  return 'done';
}"""

WAIT_FOR_IMAGES = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) img.loading = 'eager';
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.filter(i => i.naturalWidth === 0).map(i => i.getAttribute('src'));
}"""

# Text a reader sees, outside code blocks (code may legitimately contain dollar signs).
VISIBLE_PROSE = """() => {
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  return clone.textContent;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("page_path", PAGES)
def test_page_reads_well(page_path, site, server, browser):
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    url = f"{server}/{page_path}"
    page.goto(url, wait_until="load")

    assert title_of(page_path) in page.title(), f"{page_path}: title is {page.title()!r}"
    assert page.locator("h1").count() >= 1, f"{page_path}: no heading"

    # Math: MathJax typeset every math span, and no raw TeX delimiters are left in the prose.
    state = page.evaluate(WAIT_FOR_MATH)
    n_math = page.locator(".math").count()
    if n_math:
        assert state == "done", f"{page_path}: MathJax did not load"
        n_typeset = page.locator(".math mjx-container, mjx-container.MathJax").count()
        assert n_typeset >= n_math, f"{page_path}: {n_math} math elements, {n_typeset} typeset"
    # A displayed formula wider than the text column is cut off for the reader.
    too_wide = page.evaluate("""() => [...document.querySelectorAll('mjx-container[display="true"]')]
        .filter(e => e.scrollWidth > e.parentElement.clientWidth + 1).map(e => e.textContent.slice(0, 40))""")
    assert not too_wide, f"{page_path}: displayed formulas wider than the page: {too_wide}"
    # Left-over dollar signs or TeX commands in the prose mean a formula was not recognized as math.
    prose = page.evaluate(VISIBLE_PROSE)
    raw_tex = re.findall(r".{0,30}(?:\$|\\[A-Za-z]+).{0,30}", prose)
    assert not raw_tex, f"{page_path}: raw TeX left in the text: {raw_tex[:5]}"

    # Nothing sticks out sideways: a reader never has to scroll the whole page horizontally.
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page_path}: page is {widths[0]} px wide in a {widths[1]} px window"

    broken = page.evaluate(WAIT_FOR_IMAGES)
    assert not broken, f"{page_path}: images did not load: {broken}"

    # Links: every same-site link (downloads too) answers 200, and its #fragment exists on the target.
    # Links to the course site's assignment pages exist only when the site serves the book: test_site.py
    # follows them through the site.
    hrefs = page.eval_on_selector_all("a[href]:not(.assignment-page)", "els => els.map(e => e.href)")
    for href in sorted(set(hrefs)):
        if not href.startswith(server):
            continue
        target, fragment = urldefrag(href)
        fragment = unquote(fragment)
        status, html = _fetch(target)
        if status != 200:
            problems.append(f"link {href} -> HTTP {status}")
        elif fragment and html and not re.search(rf'id="{re.escape(fragment)}"', html):
            problems.append(f"link {href}: no element with id {fragment!r}")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / (urlsplit(url).path.strip("/").replace("/", "_").removesuffix(".html") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert not problems, f"{page_path}:\n" + "\n".join(problems)


BOX = """sel => { const e = document.querySelector(sel); if (!e) return null;
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return {left: r.left, right: r.right, width: r.width, visible: s.visibility !== 'hidden' && s.display !== 'none'}; }"""


def _shown(page, selector: str) -> bool:
    """The element is drawn and lies within the window (a drawer pushed off-screen is not shown)."""
    box = page.evaluate(BOX, selector)
    width = page.evaluate("innerWidth")
    return bool(box) and box["visible"] and box["width"] > 100 and box["left"] >= -1 and box["right"] <= width + 1


def _click_until(page, button: str, selector: str, shown: bool) -> bool:
    page.locator(f"{button}:visible").first.click()
    for _ in range(20):  # the drawers slide in and out
        if _shown(page, selector) == shown:
            return True
        page.wait_for_timeout(100)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 800])
def test_the_menu_and_the_page_contents_open_on_phones_and_tablets(width, site, server, browser):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{server}/book/softmax.html", wait_until="load")
    assert not _shown(page, ".bd-sidebar-primary"), "the chapter list covers the page before it is asked for"
    assert _click_until(page, ".primary-toggle", ".bd-sidebar-primary", True), "the menu button does not open the chapter list"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"nav_menu_{width}px.png"))
    page.locator(".bd-sidebar-primary a", has_text="Batch Normalization").first.click()
    page.wait_for_url("**/book/batch_norm.html")
    assert not _shown(page, ".bd-sidebar-primary")
    assert _click_until(page, ".secondary-toggle", ".bd-sidebar-secondary", True), "the page-contents button does not open them"
    page.close()


@pytest.mark.slow
def test_the_menu_button_collapses_and_restores_the_sidebar_on_a_desktop(site, server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/book/softmax.html", wait_until="load")
    assert _shown(page, ".bd-sidebar-primary")
    assert _click_until(page, ".primary-toggle", ".bd-sidebar-primary", False), "the menu button does not collapse the sidebar"
    assert _click_until(page, ".primary-toggle", ".bd-sidebar-primary", True), "the menu button does not bring it back"
    searches = page.locator("form.bd-search:visible, .search-button:visible, .search-button-field:visible").count()
    assert searches <= 1, f"{searches} search boxes on one page"
    page.close()


@pytest.mark.slow
def test_nothing_sticks_out_of_a_phone_screen(site, server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    problems = []
    for path in PAGES:
        page.goto(f"{server}/{path}", wait_until="load")
        wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if wide > window:
            problems.append(f"{path}: {wide} px wide in a {window} px window")
        # Prev/Next: the link and everything in it (its title and arrow may overflow the link itself)
        cut = page.evaluate("""() => [...document.querySelectorAll('.prev-next-area a')].filter(a =>
            [a, ...a.querySelectorAll('*')].some(e => { const r = e.getBoundingClientRect();
              return r.width > 0 && (r.left < 0 || r.right > innerWidth + 1); })).map(a => a.innerText.trim())""")
        problems += [f"{path}: the link {text!r} is cut off at the edge" for text in cut]
        # Every page as a phone shows it, beside test_page_reads_well's 1280 px ones, for a look by eye.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / (path.strip("/").replace("/", "_").removesuffix(".html") + "_390px.png")), full_page=True)
    page.close()
    assert not problems, "\n".join(problems)


# A code block scrolls when its longest line is wider than the text column; a cell tagged `wide-code` may.
SCROLLING_CODE = """() => [...document.querySelectorAll('div.highlight pre')]
  .filter(e => !e.closest('.tag_wide-code') && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '').trim().slice(0, 60))"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_no_code_block_scrolls_sideways(width, site, server, browser):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems = []
    for path in PAGES:
        page.goto(f"{server}/{path}", wait_until="load")
        problems += [f"{path}: {line!r}" for line in page.evaluate(SCROLLING_CODE)]
    page.close()
    assert not problems, f"code blocks that scroll at {width} px (their longest line):\n" + "\n".join(problems)


# ------------------------------------------------------------------------------ the Chinese edition

ZH_PAGES = zh_pages() or ["(book not built)"]


@functools.cache
def _installed_characters() -> frozenset[int]:
    """Every character some installed font (fontconfig's list: fonts-noto-cjk, DejaVu, ...) has a glyph for."""
    import subprocess

    from fontTools.ttLib import TTCollection, TTFont

    files = subprocess.run(["fc-list", "--format", "%{file}\\n"], capture_output=True, text=True, check=True).stdout.split()
    covered: set[int] = set()
    for file in sorted(set(files)):
        try:
            fonts = TTCollection(file, lazy=True).fonts if file.lower().endswith(".ttc") else [TTFont(file, lazy=True)]
        except Exception:
            continue  # a bitmap or Type 1 font: not one Chromium draws text with here
        for font in fonts:
            cmap = font.getBestCmap() or {}
            covered.update(cmap)
    return frozenset(covered)


MARK_CHINESE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  for (const el of main.querySelectorAll('*')) {
    if (!el.offsetParent) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
    if (/[\\u4e00-\\u9fff]/.test(own)) { el.setAttribute('data-cjk-probe', ''); return own.trim().slice(0, 30); }
  }
  return null;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_chinese_pages_typeset_their_formulas_and_have_a_glyph_for_every_character(width, site, server, browser):
    covered = _installed_characters()
    page = browser.new_page(viewport={"width": width, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    problems = []
    for path in ZH_PAGES:
        page.goto(f"{server}/{path}", wait_until="load")
        n_math = page.locator(".math").count()
        if n_math:
            state = page.evaluate(WAIT_FOR_MATH)
            typeset = page.locator(".math mjx-container, mjx-container.MathJax").count()
            if state != "done" or typeset < n_math:
                problems.append(f"{path}: {n_math} formulas, {typeset} typeset")
        text = page.evaluate("document.body.innerText")
        missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) not in covered})
        if missing:
            problems.append(f"{path}: no installed font has {''.join(missing[:20])!r}")
        # The Chinese text is drawn with a CJK font, not a fallback that happens to cover a few characters:
        # the fonts Chromium used for the first element of the page whose own text is Chinese.
        found = page.evaluate(MARK_CHINESE_TEXT)
        fonts = []
        if found:
            root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-cjk-probe]"})["nodeId"]
            fonts = [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]
        if not any("CJK" in name for name in fonts):
            problems.append(f"{path}: its Chinese text ({found!r}) is drawn with {fonts}, no CJK font")
        if width == 390:
            wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            if wide > window:
                problems.append(f"{path}: {wide} px wide in a {window} px window")
    page.close()
    assert ZH_PAGES != ["(book not built)"]
    assert not problems, f"at {width} px:\n" + "\n".join(problems)
