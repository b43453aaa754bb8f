"""Every internal link of the built book leads somewhere: the file exists and the #anchor is on that page.

External addresses cannot be reached from CI and are not followed here. Links to the course site's
assignment pages (``/assignments/<name>``, served by ``autograder serve`` beside the book) are checked
against the assignments the site offers.
"""

from __future__ import annotations

import functools
import html.parser
import urllib.parse
from pathlib import Path

import pytest
from booksite import ASSIGNMENTS, SITE


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        for attr in ("href", "src"):
            if values.get(attr) and not (tag == "link" and values.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append(values[attr])


@functools.cache
def parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def pages() -> list[Path]:
    return sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts)


def broken_links(page: Path, root: Path) -> list[str]:
    problems = []
    for link in parsed(page).links:
        url = urllib.parse.urlsplit(link)
        if url.scheme or url.netloc or link.startswith(("mailto:", "data:", "javascript:")):
            continue  # external, or not a link to a file
        if not url.path:  # "#anchor" on this page
            target = page
        else:
            base = root if url.path.startswith("/") else page.parent
            target = (base / urllib.parse.unquote(url.path).lstrip("/")).resolve()
            rel = target.relative_to(root.resolve()) if target.is_relative_to(root.resolve()) else None
            if rel is None:
                problems.append(f"{link}: outside the book")
                continue
            if rel.parts[:1] == ("assignments",) and len(rel.parts) == 2 and rel.parts[1] in ASSIGNMENTS and not target.exists():
                continue  # the course site's assignment page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{link}: no such file")
                continue
        if url.fragment and target.suffix == ".html":
            if urllib.parse.unquote(url.fragment) not in parsed(target).ids:
                problems.append(f"{link}: no #{url.fragment} on {target.name}")
    return problems


def test_every_internal_link_of_every_page_resolves(site):
    found = pages()
    assert len(found) >= 8, found
    problems = {str(p.relative_to(site)): broken_links(p, site) for p in found}
    assert {page: probs for page, probs in problems.items() if probs} == {}


def test_the_checker_sees_a_missing_file_and_a_missing_anchor(site, tmp_path):
    # The check above must be able to fail: a page with one good link and two broken ones.
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text('<p id="here"><a href="a.html#here">ok</a></p>')
    page = tmp_path / "book" / "b.html"
    page.write_text(
        '<a href="a.html#here">ok</a> <a href="gone.html">x</a> <a href="a.html#nowhere">y</a> <a href="https://x.org/">ext</a>'
    )
    assert broken_links(page, tmp_path) == ["gone.html: no such file", "a.html#nowhere: no #nowhere on a.html"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_page_links_name_assignments_the_site_offers(site, name):
    links = {link for p in pages() for link in parsed(p).links}
    assert any(link.rstrip("/").endswith(f"assignments/{name}") for link in links)
