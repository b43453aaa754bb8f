"""Sphinx extension of the course book: the book publishes the SIGNS files students' notebooks download.

At the end of an HTML build, the built ``train_signs.h5`` and ``test_signs.h5`` (``autograder data build``
writes them into ``datasets/``, or ``$COURSE_DATA_DIR``; the config value ``signs_data_dir`` overrides) are
copied as they are into ``<outdir>/data/``, with ``SHA256SUMS`` and ``index.html``, a page that credits the
photos' authors and their licence (Apache-2.0) and says how the notebooks use the files. ``autograder
release`` hashes the same files into each assignment's ``course_data.json``
(``autograder/data/published.py``), so what a notebook downloads from ``<book>/data/`` passes its check.

Without the built files the build warns as it starts, which fails the strict build (``-W``, as ``make book``
and CI run it) instead of publishing a book whose notebooks cannot get their data.
"""

from __future__ import annotations

import html
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from autograder import course
from autograder.data import published

logger = logging.getLogger(__name__)

FOLDER = "data"  # under the book's root: <book>/data/<file>, the address release's --data-url names
UPSTREAM = "https://github.com/ardamavi/Sign-Language-Digits-Dataset"
LICENCE_URL = "https://www.apache.org/licenses/LICENSE-2.0"


def _source(app: Sphinx) -> Path:
    return Path(app.config.signs_data_dir) if app.config.signs_data_dir else course.datasets_dir()


def _check_built(app: Sphinx) -> None:
    # Early, before the pages execute for minutes: the strict build then fails with this message in view.
    if app.builder.format != "html":
        return
    try:
        app.signs_data_files = published.digests(_source(app))
    except published.DataNotBuilt as exc:
        app.signs_data_files = None
        logger.warning("signs-data: the book publishes the SIGNS files for students' notebooks, but %s", exc)


def _page(files: dict[str, dict]) -> str:
    rows = "\n".join(
        f'<tr><td><a href="{name}">{name}</a></td><td>{info["bytes"] / 1e6:.1f} MB</td><td><code>{info["sha256"]}</code></td></tr>'
        for name, info in sorted(files.items())
    )
    commit = html.escape(course.UPSTREAM_COMMIT)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SIGNS data of the course</title>
<style>body {{ font-family: sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
table {{ border-collapse: collapse; }} td {{ padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; }}
code {{ word-break: break-all; }}</style>
</head>
<body>
<h1>SIGNS data of the course</h1>
<p>The two HDF5 files the assignments train and test on: 64&times;64 colour photos of a hand showing the digits
0 to 5, 180 training and 20 test photos per digit.</p>
<table>
<tr><th>file</th><th>size</th><th>SHA-256</th></tr>
{rows}
</table>
<p>Checksums: <a href="{published.SUMS}">{published.SUMS}</a> (<code>sha256sum -c {published.SUMS}</code>).
You rarely need to download these by hand: <code>load_dataset()</code> in the assignments'
<code>course_utils.py</code> downloads them when it finds no local copy and checks each file against its
SHA-256. To place them yourself, put both in a folder named <code>datasets</code> beside the notebook, or set
the environment variable <code>COURSE_DATA_DIR</code> to the folder that holds them.</p>
<h2>Credit and licence</h2>
<p>The photos come from the <a href="{UPSTREAM}">Sign Language Digits Dataset</a> (commit <code>{commit}</code>),
made by students of Turkey Ankara Ayranc&#305; Anadolu High School, with Zeynep Dikle and Arda Mavi as
project executives, and published under the
<a href="{LICENCE_URL}">Apache License, Version 2.0</a>. These files are a changed form of that work: the
course chose 200 photos of each digit from 0 to 5, resized them to 64&times;64 pixels and stored them as
arrays in HDF5.</p>
<p>To cite the data set: Mavi, A. (2020), &ldquo;A New Dataset and Proposed Convolutional Neural Network
Architecture for Classification of American Sign Language Digits&rdquo;, arXiv:2011.08927 [cs.CV].</p>
</body>
</html>
"""


def _copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)  # a reader never gets half a file


def _publish(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html" or not getattr(app, "signs_data_files", None):
        return
    source, target = _source(app), Path(app.outdir) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for name in published.FILES:
        _copy(source / name, target / name)
    # The checksums are of the copies as published, and must equal those release recorded from the source.
    files = {name: published.file_digest(target / name) for name in published.FILES}
    if files != app.signs_data_files:
        logger.warning("signs-data: the SIGNS files in %s changed during the build; build the book again", source)
    (target / published.SUMS).write_text(published.sha256sums(files), encoding="utf-8")
    (target / "index.html").write_text(_page(files), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("signs_data_dir", "", "env", [str])
    app.connect("builder-inited", _check_built)
    app.connect("build-finished", _publish)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
