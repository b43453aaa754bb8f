"""The book's launch_links extension on a two-page Sphinx project with the book's theme: buttons on chapter
pages only, opening the chapter notebook on the published branch, and none while the repository is unset."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import urllib.parse

from booksite import ROOT

CHAPTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
# A chapter

```{code-cell} ipython3
print(1 + 1)
```
"""


def build(tmp_path, **settings):
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "book").mkdir(parents=True)
    lines = [
        "import sys",
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})",
        "extensions = ['myst_nb', 'launch_links']",
        "html_theme = 'sphinx_book_theme'",
        "nb_execution_mode = 'off'",
        *(f"{key} = {value!r}" for key, value in settings.items()),
    ]
    (src / "conf.py").write_text("\n".join(lines) + "\n")
    (src / "index.md").write_text("# Home\n\n```{toctree}\nbook/chapter\n```\n")
    (src / "book" / "chapter.md").write_text(CHAPTER)
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)], capture_output=True, text=True, timeout=180
    )
    return done, out


def launch_links(page) -> dict[str, str]:
    text = page.read_text()
    return {
        service: html.unescape(url)
        for url, service in re.findall(
            r'<a href="([^"]+)"(?:(?!</a>).)*?<span class="btn__text-container">(JupyterHub|Colab)</span>', text, re.S
        )
    }


def test_buttons_open_the_chapter_notebook_on_the_published_branch(tmp_path):
    done, out = build(
        tmp_path, launch_repository="https://github.com/our-course/book", launch_jupyterhub="https://hub.example.edu/", launch_colab=True
    )
    assert done.returncode == 0, done.stderr
    links = launch_links(out / "book" / "chapter.html")
    assert links["Colab"] == "https://colab.research.google.com/github/our-course/book/blob/gh-pages/book/chapter.ipynb"
    hub = urllib.parse.urlsplit(links["JupyterHub"])
    assert (hub.netloc, hub.path) == ("hub.example.edu", "/hub/user-redirect/git-pull")
    assert urllib.parse.parse_qs(hub.query) == {
        "repo": ["https://github.com/our-course/book"],
        "branch": ["gh-pages"],
        "urlpath": ["lab/tree/book/book/chapter.ipynb"],
    }
    assert launch_links(out / "index.html") == {}  # not a chapter: nothing to open


def test_no_buttons_while_the_repository_is_unset(tmp_path):
    done, out = build(tmp_path, launch_jupyterhub="https://hub.example.edu", launch_colab=True)
    assert done.returncode == 0, done.stderr
    assert launch_links(out / "book" / "chapter.html") == {}
    assert "launch-buttons" not in (out / "book" / "chapter.html").read_text()


def test_a_repository_that_is_not_on_github_fails_the_build(tmp_path):
    done, _ = build(tmp_path, launch_repository="https://gitlab.com/our-course/book", launch_colab=True)
    assert done.returncode != 0 and "launch_repository must be https://github.com/" in done.stderr


def test_the_book_ships_with_the_buttons_off():
    config = (ROOT / "_config.yml").read_text()
    assert re.search(r'^\s+launch_repository: ""$', config, re.M) and "launch_links: book/_ext" in config
