"""Sphinx extension of the course book: a button on every page that opens the same page in the other language.

The English edition's pages are ``book/<page>.html`` of the site, the Chinese edition's ``zh/<page>.html``
(built from ``book/zh/`` with its own ``_config.yml`` and copied into ``_build/html/zh/``; see
docs/architecture.md). Each edition names the other in its configuration (``sphinx: config:``):

* ``language_switch_label``: the button's text, in the other language (``中文``, ``English``);
* ``language_switch_prefix``: this edition's docname prefix (``book/`` for English, empty for Chinese);
* ``language_switch_url``: the other edition's page folder, relative to this edition's (``../zh/``, ``../book/``);
* ``language_switch_sources``: the other edition's source folder, relative to this ``conf``'s folder, to
  check that the page exists there (``book/zh``, ``..``).

A page without a counterpart (the search page, an untranslated page) shows no button; with
``language_switch_label`` empty there is none at all.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def counterpart(app: Sphinx, pagename: str) -> str | None:
    """The address of ``pagename`` in the other edition, relative to this page; None without one."""
    prefix = app.config.language_switch_prefix
    if not app.config.language_switch_label or not pagename.startswith(prefix):
        return None
    page = pagename[len(prefix) :]
    sources = Path(app.confdir) / app.config.language_switch_sources
    if not any((sources / f"{page}{suffix}").is_file() for suffix in (".md", ".ipynb", ".rst")):
        return None
    # From this page's folder: up to this edition's page folder, then over to the other's.
    up = "../" * page.count("/")
    return f"{up}{app.config.language_switch_url}{page}.html"


def _add_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    url = counterpart(app, pagename)
    if url is None or "header_buttons" not in context:
        return
    label = app.config.language_switch_label
    context["header_buttons"].insert(
        0,
        {"type": "link", "url": url, "text": label, "tooltip": label, "icon": "fas fa-language", "label": "language-switch-button"},
    )


def setup(app: Sphinx) -> dict:
    app.add_config_value("language_switch_label", "", "html", types=[str])
    app.add_config_value("language_switch_prefix", "", "html", types=[str])
    app.add_config_value("language_switch_url", "", "html", types=[str])
    app.add_config_value("language_switch_sources", "", "html", types=[str])
    # After the theme's handler, which makes the header's buttons.
    app.connect("html-page-context", _add_button, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
