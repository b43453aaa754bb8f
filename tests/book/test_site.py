"""The built book never leaks solutions or hidden tests, and serves the current student release."""

from __future__ import annotations

import html as html_mod
import io
import json
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from booksite import ASSIGNMENTS, ROOT, site_pages

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def hidden_check_names() -> list[str]:
    names = []
    for toml in sorted((ROOT / "source_solutions").glob("*/grading.toml")):
        spec = tomllib.loads(toml.read_text())
        for group in spec.get("group", []):
            names += [c["name"] for c in group.get("check", []) if not c.get("visible", True)]
    return names


def readable_texts(path: Path):
    """(label, text) of a file, and of each member if it is a zip archive (a bundled download)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield f"{path}!{member}", zf.read(member).decode("utf-8", "replace")
    else:
        yield str(path), data.decode("utf-8", "replace")


def all_site_texts(site: Path):
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix not in {".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf"}:
            yield from readable_texts(path)


def test_site_has_every_chapter(site):
    names = {p.stem for p in site_pages()}
    expected = {"intro", "hyperparameter_tuning", "batch_norm", "softmax", "frameworks", "tensorflow", "setup", "assignments", "glossary"}
    assert expected <= names, f"missing pages: {sorted(expected - names)}"


def test_no_solution_or_hidden_test_markers(site):
    leaks = [f"{label}: {marker}" for label, text in all_site_texts(site) for marker in MARKERS if marker in text]
    assert not leaks, "solution or hidden-test text reached the site:\n" + "\n".join(leaks)


def test_no_hidden_check_names(site):
    names = hidden_check_names()
    if not names:
        pytest.skip("no source_solutions/*/grading.toml with hidden checks yet")
    pattern = re.compile("|".join(re.escape(n) for n in names))
    leaks = sorted({f"{label}: {m.group(0)}" for label, text in all_site_texts(site) for m in pattern.finditer(text)})
    assert not leaks, "names of hidden checks reached the site:\n" + "\n".join(leaks)


def test_downloads_are_the_current_release(site):
    """Each assignment's notebook and helpers are offered for download, byte for byte the released files."""
    downloads = list((site / "_downloads").rglob("*"))
    by_name: dict[str, list[bytes]] = {}
    for path in downloads:
        if path.is_file():
            by_name.setdefault(path.name, []).append(path.read_bytes())
    problems = []
    for name in ASSIGNMENTS:
        released = ROOT / "assignments" / name / f"{name}.ipynb"
        if not released.is_file():
            problems.append(f"{released} does not exist")
            continue
        if released.read_bytes() not in by_name.get(released.name, []):
            problems.append(f"{released.name} on the site differs from {released} (rebuild the book)")
    # The helper modules are the same for every assignment; each copy must match one released copy.
    for helper in ("course_utils.py", "selfcheck.py", "requirements.txt"):
        released = {(ROOT / "assignments" / n / helper).read_bytes() for n in ASSIGNMENTS if (ROOT / "assignments" / n / helper).is_file()}
        served = by_name.get(helper, [])
        if not served:
            problems.append(f"{helper} is not offered for download")
        problems += [f"a served {helper} is not a released copy" for s in served if s not in released]
    assert not problems, "\n".join(problems)


def test_assignments_page_links_every_download(site):
    html = (site / "book" / "assignments.html").read_text()
    hrefs = re.findall(r'<a class="reference download internal"[^>]*href="([^"]+)"', html)
    for name in ASSIGNMENTS:
        assert any(h.endswith(f"/{name}.ipynb") for h in hrefs), f"no download link for {name}.ipynb"
        assert f'id="assignment-{name.replace("_", "-")}"' in html, f"no anchor for {name}"
    assert sum(h.endswith("course_utils.py") for h in hrefs) >= len(ASSIGNMENTS)
    assert sum(h.endswith("selfcheck.py") for h in hrefs) >= len(ASSIGNMENTS)


def test_every_chapter_links_to_its_assignment(site):
    # chapter -> the assignment anchors it must point to on the assignments page
    wanted = {
        "hyperparameter_tuning": ["assignment-hyperparameter-search"],
        "batch_norm": ["assignment-batch-norm"],
        "softmax": ["assignment-softmax"],
        "frameworks": ["assignment-tf-basics", "assignment-signs-model"],
        "tensorflow": ["assignment-tf-basics", "assignment-signs-model"],
    }
    for chapter, anchors in wanted.items():
        html = (site / "book" / f"{chapter}.html").read_text()
        for anchor in anchors:
            assert f'href="assignments.html#{anchor}"' in html, f"{chapter} does not link to {anchor}"


def test_each_assignment_links_to_its_page_on_the_course_site(site, tmp_path):
    """Served by `autograder serve`, the book's Submit link of each assignment opens that assignment's page."""
    from urllib.parse import urljoin

    from starlette.testclient import TestClient

    from autograder.site.app import create_app
    from autograder.site.settings import SiteSettings
    from tests.site.conftest import HeldExecutor, people, set_password

    html = (site / "book" / "assignments.html").read_text()
    links = re.findall(r'<a class="[^"]*assignment-page[^"]*" href="([^"]+)"', html)
    pages = [urljoin("/book/assignments.html", href) for href in links]
    assert pages == [f"/assignments/{name}" for name in ASSIGNMENTS]
    settings = SiteSettings(
        data_dir=tmp_path / "site", source_dir=ROOT / "source_solutions", release_dir=ROOT / "assignments", sandbox=False, book_dir=site
    )
    app = create_app(settings, HeldExecutor())
    with TestClient(app) as student:
        assert student.get("/book/assignments.html").text == html  # the book is served as built
        assert set_password(student, people(app, "alice")["alice"]).status_code == 303
        for name, page in zip(ASSIGNMENTS, pages):
            r = student.get(page)
            assert r.status_code == 200 and f'action="/assignments/{name}/submit' in r.text, page


def test_the_tensorflow_chapter_shows_keras_3_failing_minimize_and_the_way_that_works(site):
    html = (site / "book" / "tensorflow.html").read_text()
    section = html[html.index('id="keras-3-minimize"') :]
    assert "has no attribute" in section and "minimize" in section  # the executed error, as students meet it
    assert "apply_gradients" in section and "GradientTape" in section
    # and the notebook students work in says the same where they write the optimizer step
    released = json.loads((ROOT / "assignments" / "tf_basics" / "tf_basics.ipynb").read_text())
    prose = "".join("".join(c["source"]) for c in released["cells"] if c["cell_type"] == "markdown")
    assert "has no attribute 'minimize'" in prose and "apply_gradients" in prose


def test_sums_over_classes_run_over_the_class_numbers_the_chapter_uses():
    """A chapter that numbers classes 0..C-1 must not sum over 1..C (and the other way round)."""
    for md in sorted((ROOT / "book").glob("*.md")):
        text = md.read_text()
        if r"0, \dots, C-1" in text:
            assert not re.findall(r"\\sum_\{[a-z]=1\}\^\{C\}", text), f"{md.name}: classes are 0..C-1, a sum runs 1..C"
        if r"1, \dots, C" in text:
            assert not re.findall(r"\\sum_\{[a-z]=0\}\^\{C-1\}", text), f"{md.name}: classes are 1..C, a sum runs 0..C-1"


def test_the_set_up_page_is_linked_from_the_intro_the_assignments_and_every_assignment_box(site):
    for page in ["intro", "assignments", "hyperparameter_tuning", "batch_norm", "softmax", "frameworks", "tensorflow"]:
        html = (site / "book" / f"{page}.html").read_text()
        if page not in ("intro", "assignments"):
            html = html[html.index(">Practice</p>") :]  # inside the chapter's assignment box
        assert 'href="setup.html"' in html, f"{page} does not link to the set-up page"
    setup = html_mod.unescape(re.sub(r"<[^>]+>", "", (site / "book" / "setup.html").read_text()))  # the text a reader sees
    for needed in ("python3.11 -m venv", "py -3.11 -m venv", "conda create", "jupyter lab", "Run All Above Selected Cell"):
        assert needed in setup, f"the set-up page lacks {needed!r}"


CHAPTERS = ["hyperparameter_tuning", "batch_norm", "softmax", "frameworks", "tensorflow"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_downloads_as_a_notebook_that_runs_without_the_book_tools(site, chapter):
    import nbformat

    page = (site / "book" / f"{chapter}.html").read_text()
    assert f'href="{chapter}.ipynb"' in page
    nb = nbformat.read(site / "book" / f"{chapter}.ipynb", as_version=4)
    nbformat.validate(nb)
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    assert sum(c.cell_type == "code" for c in nb.cells) == source.count("```{code-cell}")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "myst_nb" not in code  # a student's Python has no myst-nb
    for myst in ("{glue", "{term}", "{doc}", "{ref}", ":::", ")=\n"):
        assert myst not in text, f"{chapter}.ipynb shows MyST markup {myst!r} to the reader"
    if "{glue:text}" in source:
        assert re.search(r"\d\.\d", text)  # the computed values, not their names


def download_menu(page: str) -> list[tuple[str, str]]:
    """(address or action, label) of each entry of the page's download menu."""
    menu = re.search(r'<div class="dropdown dropdown-download-buttons">(.*?)</ul>', page, re.S)
    if menu is None:
        return []
    entries = re.findall(r'(?:href|onclick)="([^"]+)".*?<span class="btn__text-container">([^<]+)</span>', menu.group(1), re.S)
    return [(target, label.strip()) for target, label in entries]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapters_download_menu_offers_its_notebook_first(site, chapter):
    menu = download_menu((site / "book" / f"{chapter}.html").read_text())
    assert menu[0] == (f"{chapter}.ipynb", ".ipynb")
    assert [label for _, label in menu] == [".ipynb", ".md", ".pdf"]


def test_pages_that_are_not_chapters_offer_no_notebook(site):
    for name in ("setup", "assignments", "glossary"):
        assert ".ipynb" not in [label for _, label in download_menu((site / "book" / f"{name}.html").read_text())]


@pytest.mark.slow
def test_a_downloaded_chapter_runs_top_to_bottom(site, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(site / "book" / "softmax.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
