"""Sphinx extension of the course book: ``{assignment-page}`tf_basics``` links to that assignment's page on
the course site, where students download it, submit it and read their feedback.

`autograder serve` serves this book at its root and each assignment's page at ``/assignments/<name>``, so by
default the link is relative to the book's root and works wherever the site is deployed. A book published
apart from the site sets ``course_site_url`` (in ``_config.yml``, under ``sphinx: config:``) to the site's
address. A name that is not a released assignment is a build warning, so a typo cannot ship a dead link.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def assignment_page_uri(docname: str, name: str, site_url: str) -> str:
    """The address of ``name``'s page as written in the page ``docname`` (``book/assignments``)."""
    if site_url:
        return f"{site_url.rstrip('/')}/assignments/{name}"
    return "../" * docname.count("/") + f"assignments/{name}"


def _assignment_page_role(role, rawtext, text, lineno, inliner, options=None, content=None):
    env = inliner.document.settings.env
    name = text.strip()
    if not (Path(env.srcdir) / "assignments" / name / f"{name}.ipynb").is_file():
        logger.warning(
            "assignment-page: %r is not a released assignment (no assignments/%s/%s.ipynb)",
            name,
            name,
            name,
            location=(env.docname, lineno),
        )
    uri = assignment_page_uri(env.docname, name, env.config.course_site_url)
    node = nodes.reference(rawtext, f"the {name} page of the course site", refuri=uri, classes=["assignment-page"])
    return [node], []


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_site_url", "", "html", types=[str])
    app.add_role("assignment-page", _assignment_page_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
