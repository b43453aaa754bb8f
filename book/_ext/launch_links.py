"""Sphinx extension of the course book: "Launch" buttons that open a chapter's notebook on a JupyterHub or Colab.

What they open is the chapter notebook that ``chapter_notebooks`` writes beside each page (``book/<chapter>.ipynb``
in the built site), taken from the branch the built site is published on (e.g. ``gh-pages``, as ``ghp-import``
pushes it). That notebook needs no MyST and no book tools, so neither the hub's image nor Colab needs
jupytext; the theme's own launch buttons would point at the ``.md`` sources instead, which Colab cannot open.

Configuration (``_config.yml``, ``sphinx: config:``); with ``launch_repository`` empty there are no buttons:

* ``launch_repository``: the GitHub repository whose ``launch_branch`` holds the built site,
  e.g. ``https://github.com/our-course/book``;
* ``launch_branch``: that branch (default ``gh-pages``);
* ``launch_jupyterhub``: the course's JupyterHub (with nbgitpuller installed), e.g. ``https://hub.example.edu``;
* ``launch_colab``: ``true`` for a Colab button.
"""

from __future__ import annotations

import urllib.parse

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

COLAB = "https://colab.research.google.com"


def _repository(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    path = [p for p in parts.path.split("/") if p]
    if parts.scheme != "https" or parts.netloc != "github.com" or len(path) != 2:
        raise ConfigError(f"launch_repository must be https://github.com/<owner>/<name>, got {url!r}")
    return path[0], path[1].removesuffix(".git")


def launch_urls(config, pagename: str) -> list[tuple[str, str]]:
    """(service, address) of each launch button for the chapter page ``pagename``; none when unset."""
    if not config.launch_repository:
        return []
    owner, name = _repository(config.launch_repository)
    branch = config.launch_branch
    notebook = f"{pagename}.ipynb"
    urls = []
    if config.launch_jupyterhub:
        hub = config.launch_jupyterhub.rstrip("/")
        if not hub.startswith(("https://", "http://")):
            raise ConfigError(f"launch_jupyterhub must be an http(s) address, got {hub!r}")
        query = urllib.parse.urlencode(
            {"repo": f"https://github.com/{owner}/{name}", "branch": branch, "urlpath": f"lab/tree/{name}/{notebook}"}, safe="/"
        )
        urls.append(("JupyterHub", f"{hub}/hub/user-redirect/git-pull?{query}"))
    if config.launch_colab:
        urls.append(("Colab", f"{COLAB}/github/{owner}/{name}/blob/{branch}/{notebook}"))
    return urls


def _add_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "kernelspec" not in app.env.metadata.get(pagename, {}) or "header_buttons" not in context:
        return  # only chapters have a notebook to open
    icons = {"JupyterHub": "_static/images/logo_jupyterhub.svg", "Colab": "_static/images/logo_colab.png"}
    buttons = [
        {"type": "link", "text": service, "tooltip": f"Open this chapter's notebook on {service}", "icon": icons[service], "url": url}
        for service, url in launch_urls(app.config, pagename)
    ]
    if buttons:
        context["header_buttons"].append(
            {"type": "group", "tooltip": "Run this chapter", "icon": "fas fa-rocket", "buttons": buttons, "label": "launch-buttons"}
        )


def setup(app: Sphinx) -> dict:
    app.add_config_value("launch_repository", "", "html")
    app.add_config_value("launch_branch", "gh-pages", "html")
    app.add_config_value("launch_jupyterhub", "", "html")
    app.add_config_value("launch_colab", False, "html")
    # After the theme's handler, which makes the header's button list.
    app.connect("html-page-context", _add_buttons, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
