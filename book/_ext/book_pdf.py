"""Sphinx extension of the course book: the whole book as one PDF, ``_build/html/course-book.pdf``.

At the end of an HTML build each page of the table of contents, in its order, is printed by Chromium
(Debian's ``chromium`` through Playwright, the browser the tests use) once MathJax has typeset it, and the
pages are joined into one file with a bookmark per page (pypdf). Printing the built pages keeps the PDF
exactly what readers see, formulas and plots included; Sphinx's own single-page builder cannot render
myst-nb's hidden code cells, and a LaTeX build would need TeX Live on every machine.

``book_pdf`` (``_config.yml``, ``sphinx: config:``) turns it off; with it on and no Chromium, the build
warns (a strict build fails) and says what to install.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PDF_NAME = "course-book.pdf"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
WAIT_FOR_MATH = """async () => {
  if (!window.MathJax) return;
  while (!(MathJax.startup && MathJax.startup.promise)) await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
}"""


def page_order(app: Sphinx) -> list[str]:
    """The documents in reading order: the root, then the table of contents depth first."""
    env = app.env
    order: list[str] = []

    def visit(docname: str) -> None:
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            visit(child)

    visit(app.config.root_doc)
    return order


def _titles(app: Sphinx, docnames: list[str]) -> dict[str, str]:
    return {d: (app.env.titles[d].astext() if d in app.env.titles else d) for d in docnames}


def print_book(app: Sphinx) -> Path:
    """Print every page into ``<outdir>/course-book.pdf`` (written beside and renamed); returns its path."""
    from playwright.sync_api import sync_playwright
    from pypdf import PdfWriter

    out = Path(app.outdir)
    docnames = page_order(app)
    titles = _titles(app, docnames)
    writer = PdfWriter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="book-pdf-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for i, docname in enumerate(docnames):
                page.goto((out / f"{docname}.html").as_uri(), wait_until="load")
                page.evaluate(WAIT_FOR_MATH)
                part = Path(tmp) / f"{i:02d}.pdf"
                page.pdf(
                    path=str(part),
                    format="A4",
                    print_background=True,
                    margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
                )
                first = len(writer.pages)
                writer.append(str(part))
                writer.add_outline_item(titles[docname], first)
        finally:
            browser.close()
    writer.add_metadata({"/Title": app.config.html_title or app.config.project})
    target = out / PDF_NAME
    fd, name = tempfile.mkstemp(prefix=".course-book-", suffix=".pdf", dir=out)
    with os.fdopen(fd, "wb") as fh:
        writer.write(fh)
    os.chmod(name, 0o644)
    os.replace(name, target)
    logger.info("book-pdf: %d pages of %d documents in %s (%.0f s)", len(writer.pages), len(docnames), target, time.monotonic() - started)
    return target


def _on_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.name != "html" or not app.config.book_pdf:
        return
    if not CHROMIUM.exists():
        logger.warning("book-pdf: no Chromium at %s for the book's PDF (apt-get install chromium, or set book_pdf: false)", CHROMIUM)
        return
    print_book(app)


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_pdf", True, "html")
    # After chapter_notebooks and the other build-finished steps: the PDF prints the finished pages.
    app.connect("build-finished", _on_finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
