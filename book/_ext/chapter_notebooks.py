"""Sphinx extension of the course book: every executed chapter can be downloaded as a Jupyter notebook.

Each chapter is a MyST notebook. At the end of the build it is written beside the chapter's page as
``<chapter>.ipynb`` (from its MyST source, without outputs: students run it), and the page links to it under
its title; the values the build glued come from myst-nb's ``_build/jupyter_execute/<chapter>.glue.json``. The copy must run where a student runs it,
with only the packages of the Set up page, and read well in JupyterLab, which knows no MyST:

* ``from myst_nb import glue`` becomes a no-op ``glue`` (the book shows those values in its text);
* ``{glue:text}`name:spec``` in the text becomes the value the build computed, formatted as in the book;
* ``{term}``, ``{doc}``, ``{ref}`` roles become their text; an admonition becomes a bold heading; the
  ``(target)=`` lines go;
* a sphinx-exercise ``{exercise}`` becomes a heading ``### Exercise N: title``, numbered as on the page, and
  its ``{solution}`` (or the gated ``{solution-start}`` ... ``{solution-end}``, whose code cells stay code
  cells) a heading ``#### Solution to Exercise N`` under it, so JupyterLab can fold the solution away.
  Only colon fences (``:::``) are understood there, as in the rest of the book.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

GLUE_IMPORT = re.compile(r"^from myst_nb import glue\s*$", re.M)
NO_OP_GLUE = "def glue(name, value, display=True):  # the book shows these values in its text\n    return None"
ROLE = re.compile(r"\{(?:term|doc|ref|numref)\}`([^`]*)`")
GLUE_TEXT = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")
ADMONITION = re.compile(r"^:{3,}\{admonition\}\s*(.*)$")
FENCE_END = re.compile(r"^:{3,}\s*$")
OPTION = re.compile(r"^:[\w-]+:.*$")
LABEL = re.compile(r"^\([\w-]+\)=\s*$")  # (target)= before a heading
# sphinx-exercise's directives: {exercise} and {solution}, and their gated -start/-end forms
EXERCISE = re.compile(r"^:{3,}\{exercise(?:-start)?\}\s*(.*)$")
SOLUTION = re.compile(r"^:{3,}\{solution(?:-start)?\}\s*(\S*)\s*$")
GATE_END = re.compile(r"^:{3,}\{(?:exercise|solution)-end\}\s*$")


def _is_notebook(app: Sphinx, docname: str) -> bool:
    return "kernelspec" in app.env.metadata.get(docname, {})


def _role_text(match: re.Match) -> str:
    inner = match.group(1)
    titled = re.match(r"(.*?)\s*<[^>]*>$", inner)  # {term}`text <target>`
    return titled.group(1) if titled else inner


def _glued_values(glue_file: Path) -> dict[str, str]:
    if not glue_file.is_file():
        return {}
    return {name: out.get("data", {}).get("text/plain", "") for name, out in json.loads(glue_file.read_text()).items()}


def _formatted(text: str, spec: str | None) -> str:
    if not spec:
        return text
    try:
        return format(float(text), spec)
    except ValueError:
        return text


class _Exercises:
    """The exercise numbers of one chapter: the page's own (Sphinx numbers them across the book, by
    label), or, when none are given, counted from 1 in the chapter's order."""

    def __init__(self, numbers: dict[str, str] | None = None) -> None:
        self.numbers = numbers
        self.count = 0
        self.by_label: dict[str, str] = {}

    def heading(self, title: str, options: list[str]) -> str:
        label = next((o.removeprefix(":label:").strip() for o in options if o.startswith(":label:")), "")
        number = None
        if ":nonumber:" not in (o.split()[0] for o in options):
            if self.numbers is None:
                self.count += 1
                number = str(self.count)
            else:  # an exercise without a label has a number we cannot look up
                number = self.numbers.get(label)
        if number and label:
            self.by_label[label] = number
        name = f"Exercise {number}" if number else "Exercise"
        return f"### {name}: {title}" if title else f"### {name}"

    def solution_heading(self, label: str) -> str:
        number = self.by_label.get(label)
        return f"#### Solution to Exercise {number}" if number else "#### Solution"


def _options(lines: list[str], start: int) -> list[str]:
    """The ``:name: value`` lines right after a directive's first line."""
    options = []
    for line in lines[start:]:
        if not OPTION.match(line):
            break
        options.append(line)
    return options


def _markdown(source: str, values: dict[str, str], exercises: _Exercises | None = None) -> str:
    exercises = exercises if exercises is not None else _Exercises()
    lines = []
    source_lines = source.split("\n")
    for i, line in enumerate(source_lines):
        heading = ADMONITION.match(line)
        exercise = EXERCISE.match(line)
        solution = SOLUTION.match(line)
        if heading:
            lines.append(f"**{heading.group(1)}**" if heading.group(1) else "")
        elif exercise:
            lines.append(exercises.heading(exercise.group(1).strip(), _options(source_lines, i + 1)))
        elif solution:
            lines.append(exercises.solution_heading(solution.group(1)))
        elif GATE_END.match(line) or FENCE_END.match(line) or OPTION.match(line) or LABEL.match(line):
            continue
        else:
            lines.append(line)
    text = "\n".join(lines)
    text = GLUE_TEXT.sub(lambda m: _formatted(values.get(m.group(1), m.group(1)), m.group(2)), text)
    return ROLE.sub(_role_text, text)


def student_notebook(myst_source: str, values: dict[str, str], exercise_numbers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The chapter as students download it (see the module's docstring); ``exercise_numbers`` maps an
    exercise's label to its number on the page."""
    from myst_nb.core.read import read_myst_markdown_notebook

    nb = read_myst_markdown_notebook(myst_source)
    exercises = _Exercises(exercise_numbers)  # one numbering across the chapter's cells
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _markdown(cell.source, values, exercises).strip("\n")
        elif cell.cell_type == "code":
            cell.source = GLUE_IMPORT.sub(NO_OP_GLUE, cell.source)
    # a cell that held only the end of a gated solution
    nb.cells = [c for c in nb.cells if c.cell_type != "markdown" or c.source.strip()]
    nb.metadata.pop("jupytext", None)
    return nb


def _add_link(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not _is_notebook(app, docname):
        return
    name = Path(docname).name
    cfg = app.config
    sentence = cfg.chapter_notebook_sentence.format(
        link=f'<a href="{name}.ipynb" download>{html.escape(cfg.chapter_notebook_link_text)}</a>',
        setup=f'<a href="setup.html">{html.escape(cfg.chapter_notebook_setup_text)}</a>',
    )
    link = nodes.raw("", f'<p class="chapter-notebook">{sentence}</p>', format="html")
    title = next(iter(doctree.findall(nodes.title)), None)
    section = title.parent if title is not None else doctree
    section.insert(section.index(title) + 1 if title is not None else 0, link)


def _write_notebooks(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    executed_dir = Path(app.outdir).parent / "jupyter_execute"
    for docname in sorted(app.env.found_docs):
        if not _is_notebook(app, docname):
            continue
        source = Path(app.env.doc2path(docname)).read_text()
        values = _glued_values(executed_dir / f"{docname}.glue.json")
        missing = sorted({m.group(1) for m in GLUE_TEXT.finditer(source)} - set(values))
        if missing:
            logger.warning("chapter-notebooks: %s glues %s, but the build recorded no such value", docname, ", ".join(missing))
        target = Path(app.outdir) / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        fignumbers = getattr(app.env, "toc_fignumbers", {}).get(docname, {}).get("exercise", {})
        numbers = {label: ".".join(map(str, number)) for label, number in fignumbers.items()}
        nbformat.write(student_notebook(source, values, numbers), target)


def _add_to_download_menu(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The theme's download menu offers the page's ``.md`` source; a chapter's menu offers its notebook first."""
    if not _is_notebook(app, pagename):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(
                0,
                {
                    "type": "link",
                    "url": f"{Path(pagename).name}.ipynb",
                    "text": ".ipynb",
                    "icon": "fas fa-code",
                    "tooltip": app.config.chapter_notebook_link_text,
                    "label": "download-notebook-button",
                },
            )


def setup(app: Sphinx) -> dict:
    # The words of the link under each chapter's title, in the edition's language ({link}, {setup}: the links).
    app.add_config_value("chapter_notebook_link_text", "Download this chapter as a notebook", "env", types=[str])
    app.add_config_value("chapter_notebook_setup_text", "Set up", "env", types=[str])
    app.add_config_value(
        "chapter_notebook_sentence", "{link} (.ipynb) to run and change its code in JupyterLab; {setup} says how.", "env", types=[str]
    )
    app.connect("doctree-read", _add_link)
    # After the theme's handler, which makes the header's buttons.
    app.connect("html-page-context", _add_to_download_menu, priority=900)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
