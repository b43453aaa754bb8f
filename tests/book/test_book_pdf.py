"""The whole book as one PDF (book/_ext/book_pdf.py): every page of the table of contents, in its order,
with a bookmark each, its formulas typeset and its plots in; linked from the intro."""

from __future__ import annotations

import re

import pytest
import yaml
from booksite import BOOK_TITLE, ROOT

pypdf = pytest.importorskip("pypdf")


def toc_documents() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


@pytest.fixture(scope="module")
def pdf(site):
    path = site / "course-book.pdf"
    assert path.is_file(), "no course-book.pdf: the book_pdf extension did not run (is chromium installed?)"
    return pypdf.PdfReader(path)


def test_one_bookmark_per_page_of_the_contents_in_its_order(pdf, site):
    titles = []
    for doc in toc_documents():
        heading = re.search(r"<h1[^>]*>(.*?)<", (site / f"{doc}.html").read_text(), re.S)
        titles.append(heading.group(1).strip())
    assert [item.title for item in pdf.outline] == titles
    starts = [pdf.get_destination_page_number(item) for item in pdf.outline]
    assert starts == sorted(starts) and starts[0] == 0 and len(set(starts)) == len(starts)
    assert pdf.metadata.title == BOOK_TITLE


def test_the_pages_hold_the_text_the_formulas_and_the_plots(pdf):
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for words in ("Sampling on the right scale", "GradientTape", "Batch Normalization", "log-uniform"):
        assert words in text
    assert "\\frac" not in text and "$$" not in text  # MathJax typeset the formulas before printing
    images = sum(len(page.images) for page in pdf.pages)
    assert images >= 10, f"only {images} images in the PDF: the plots are missing"


def test_the_intro_links_the_pdf(site):
    assert 'href="../course-book.pdf"' in (site / "book" / "intro.html").read_text()
