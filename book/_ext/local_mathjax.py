"""Sphinx extension of the course book: serve MathJax from the site itself, keep TensorFlow quiet,
and keep pages free of JavaScript errors.

There is no CDN when the book is built or read offline (the default MathJax URL points at one), so the
book ships the single-file MathJax 3 build ``tex-svg-full.js`` from the ``django-static-mathjax`` wheel
(a plain copy of MathJax; Django itself is not needed). SVG output draws glyphs as paths, so no font
files have to be served beside it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

MATHJAX_FILE = "tex-svg-full.js"
TARGET = f"mathjax/{MATHJAX_FILE}"  # relative to _static, as Sphinx reads mathjax_path


def mathjax_source() -> Path:
    try:
        import mathjax  # the package of django-static-mathjax
    except ImportError as exc:
        raise ExtensionError("MathJax is not installed: run `pip install -e .` (it installs django-static-mathjax)") from exc
    path = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / MATHJAX_FILE
    if not path.is_file():
        raise ExtensionError(f"MathJax file not found at {path}; reinstall django-static-mathjax")
    return path


def _use_local_mathjax(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, before pages are executed, if the copy is missing
    config.mathjax_path = TARGET


def _copy_mathjax(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / TARGET
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(mathjax_source(), tmp)
    os.replace(tmp, dest)  # never leave a half-written file behind


def _drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    # sphinx-thebe registers its inline configuration script once per read phase; Jupyter Book runs
    # that phase twice, and the second `const THEBE_JS_URL` is a JavaScript error in every page.
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attrs = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: it is the builder's own list, to which later handlers (MathJax's) still add.
    scripts[:] = unique


def setup(app: Sphinx):
    # Kernels that execute the pages inherit this environment: hide TensorFlow's C++ INFO/WARNING lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
