"""Sphinx extension of the course book: ``{assignment-page}`tf_basics``` links to that assignment's page on
the course site, where students download it, submit it and read their feedback.

`autograder serve` serves this book at its root and each assignment's page at ``/assignments/<name>``, so by
default the link is relative to the book's root and works wherever the site is deployed. A book published
apart from the site sets ``course_site_url`` (in ``_config.yml``, under ``sphinx: config:``) to the site's
address. A name that is not a released assignment is a build warning, so a typo cannot ship a dead link.

An edition built from another folder and published below the site's root (the Chinese one: sources in
``book/zh``, pages under ``zh/``) says where the repository is (``course_repository_root``, relative to its
sources), which folder its pages are published in (``course_site_book_folder``) and how the link reads
(``course_site_link_text``, with ``{name}``).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def assignment_page_uri(docname: str, name: str, site_url: str, book_folder: str = "") -> str:
    """The address of ``name``'s page as written in the page ``docname`` (``book/assignments``), for pages
    published in ``book_folder`` of the site (``zh/``; empty: at its root)."""
    if site_url:
        return f"{site_url.rstrip('/')}/assignments/{name}"
    depth = docname.count("/") + len([part for part in book_folder.split("/") if part])
    return "../" * depth + f"assignments/{name}"


def _assignment_page_role(role, rawtext, text, lineno, inliner, options=None, content=None):
    env = inliner.document.settings.env
    name = text.strip()
    root = Path(env.srcdir) / env.config.course_repository_root
    if not (root / "assignments" / name / f"{name}.ipynb").is_file():
        logger.warning(
            "assignment-page: %r is not a released assignment (no assignments/%s/%s.ipynb)",
            name,
            name,
            name,
            location=(env.docname, lineno),
        )
    uri = assignment_page_uri(env.docname, name, env.config.course_site_url, env.config.course_site_book_folder)
    text = env.config.course_site_link_text.format(name=name)
    node = nodes.reference(rawtext, text, refuri=uri, classes=["assignment-page"])
    return [node], []


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_site_url", "", "html", types=[str])
    app.add_config_value("course_repository_root", ".", "env", types=[str])
    app.add_config_value("course_site_book_folder", "", "env", types=[str])
    app.add_config_value("course_site_link_text", "the {name} page of the course site", "env", types=[str])
    app.add_role("assignment-page", _assignment_page_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
