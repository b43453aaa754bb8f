"""Every chapter ends with a few exercises whose solutions start collapsed and show what their code printed.

The exercises are sphinx-exercise's ``{exercise}`` and ``{solution}`` directives (the gated
``{solution-start}`` / ``{solution-end}`` form where a solution holds code cells, which the build executes).
The HTML checks read the built pages; the slow test opens them in headless Chromium on a phone's width.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHAPTERS = ["hyperparameter_tuning", "batch_norm", "softmax", "frameworks", "tensorflow"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str | None = None, classes: set[str] = frozenset()):
        """Descendants (document order) with this tag and all these classes."""
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and classes <= child.classes:
                    yield child
                yield from child.find_all(tag, classes)


class _Tree(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):  # close up to the matching open tag
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(page: Path) -> Element:
    tree = _Tree()
    tree.feed(page.read_text(encoding="utf-8"))
    return tree.root


def exercise_problems(page: Path) -> list[str]:
    """What is wrong with the exercises of one built chapter page (empty when nothing is)."""
    root = parse(page)
    problems = []
    boxes = [e for e in root.find_all("div", {"admonition"}) if e.classes & {"exercise", "solution"}]
    exercises = [e for e in boxes if "exercise" in e.classes]
    solutions = [e for e in boxes if "solution" in e.classes]
    if not 2 <= len(exercises) <= 3:
        problems.append(f"{len(exercises)} exercises, not 2 or 3")
    order = {id(e): i for i, e in enumerate(boxes)}
    position = {e.attrs.get("id"): order[id(e)] for e in exercises}
    solved: dict[str, int] = {}
    for solution in solutions:
        name = solution.attrs.get("id", "?")
        title = next(solution.find_all("p", {"admonition-title"}), None)
        links = [a.attrs.get("href", "") for a in title.find_all("a")] if title is not None else []
        targets = [h[1:] for h in links if h.startswith("#") and h[1:] in position]
        if len(targets) != 1:
            problems.append(f"solution {name} links to no exercise of this page (links: {links})")
            continue
        target = targets[0]
        solved[target] = solved.get(target, 0) + 1
        if position[target] > order[id(solution)]:
            problems.append(f"solution {name} comes before its exercise {target}")
        if "dropdown" not in solution.classes:
            problems.append(f"solution {name} is not collapsed (no dropdown class): {sorted(solution.classes)}")
        cells = list(solution.find_all("div", {"cell"}))
        if not cells and not solution.text().replace(title.text(), "").strip():
            problems.append(f"solution {name} is empty")
        for cell in cells:
            source = "".join(i.text() for i in cell.find_all("div", {"cell_input"}))
            printed = "".join(o.text() for o in cell.find_all("div", {"cell_output"})).strip()
            if "print(" in source and not printed:
                problems.append(f"solution {name}: a code cell prints, but the page shows no output")
            if any(cell.find_all(classes={"traceback"})) or "Traceback" in printed:
                problems.append(f"solution {name}: a code cell shows an error")
    for exercise in exercises:
        label = exercise.attrs.get("id")
        if solved.get(label) != 1:
            problems.append(f"exercise {label} has {solved.get(label, 0)} solutions, not 1")
    script = page.read_text(encoding="utf-8")
    if solutions and not (re.search(r'src="[^"]*togglebutton\.js', script) and ".admonition.dropdown" in script):
        problems.append("the page does not load sphinx-togglebutton for .admonition.dropdown, so nothing collapses")
    return problems


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_two_or_three_exercises_with_collapsed_executed_solutions(site, chapter):
    problems = exercise_problems(site / "book" / f"{chapter}.html")
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


def test_the_check_fails_on_a_broken_page(site, tmp_path):
    """The check above can fail: an open solution, a missing output, an unlinked solution, one exercise."""
    good = (site / "book" / "softmax.html").read_text(encoding="utf-8")
    assert not exercise_problems(site / "book" / "softmax.html")
    broken = {
        "open solution": good.replace('class="solution dropdown admonition"', 'class="solution admonition"', 1),
        "no output": re.sub(
            r'(<div class="solution[^"]*".*?)<div class="cell_output docutils container">.*?</pre>',
            r"\1<div>",
            good,
            count=1,
            flags=re.S,
        ),
        "unlinked": good.replace('href="#softmax-first-cost"', 'href="#elsewhere"', 1),
        "one exercise": re.sub(r'class="exercise admonition" id="softmax-(first-cost|meeting-point)"', 'class="note"', good),
    }
    expected = {
        "open solution": "is not collapsed",
        "no output": "shows no output",
        "unlinked": "links to no exercise",
        "one exercise": "1 exercises, not 2 or 3",
    }
    for name, text in broken.items():
        assert text != good, f"the {name!r} edit changed nothing: update the test to the page's markup"
        page = tmp_path / f"{name.replace(' ', '_')}.html"
        page.write_text(text, encoding="utf-8")
        problems = exercise_problems(page)
        assert any(expected[name] in p for p in problems), f"{name}: {problems}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_downloaded_chapter_has_the_exercises_under_headings_with_the_solution_code(site, chapter):
    import nbformat

    root = parse(site / "book" / f"{chapter}.html")
    titles = [
        re.sub(r"\s+", " ", next(e.find_all("p", {"admonition-title"})).text()).strip()
        for e in root.find_all("div", {"exercise", "admonition"})
    ]
    cells_per_solution = [len(list(s.find_all("div", {"cell"}))) for s in root.find_all("div", {"solution", "admonition"})]
    nb = nbformat.read(site / "book" / f"{chapter}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    headings = re.findall(r"^### (Exercise \d+): (.*)$", text, re.M)
    assert [f"{n} ({t})" for n, t in headings] == titles  # "Exercise 1 (A title)" on the page
    for number, _ in headings:
        assert f"#### Solution to {number}" in text
    for directive in ("{exercise", "{solution", ":label:", ":class:"):
        assert directive not in text
    # a solution's code cells follow its heading as code cells, up to the next heading
    code_after, counting = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^#", cell.source, re.M):
            counting = "#### Solution" in cell.source
            if counting:
                code_after.append(0)
        elif cell.cell_type == "code" and counting:
            code_after[-1] += 1
    assert code_after == cells_per_solution


@pytest.mark.slow
def test_solutions_open_on_a_click_and_fit_a_phone(site, served_book):
    from tests.browser import SCREENSHOTS, chromium

    problems = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800})
        for chapter in CHAPTERS:
            page.goto(f"{served_book}/book/{chapter}.html", wait_until="load")
            solutions = page.locator("div.solution.admonition")
            if page.locator("div.solution.admonition section:visible").count():
                problems.append(f"{chapter}: a solution is open before it is clicked")
            first = solutions.first
            first.locator("button.toggle-button").click()  # the title's middle may be its link
            try:
                first.locator("section").first.wait_for(state="visible", timeout=3000)
            except Exception:
                problems.append(f"{chapter}: a click on the solution's title does not open it")
            cut = page.evaluate("""() => [...document.querySelectorAll('div.exercise, div.solution')]
              .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth + 1; })
              .map(e => e.id)""")
            problems += [f"{chapter}: {box} sticks out of a 390 px screen" for box in cut]
            wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            if wide > window:
                problems.append(f"{chapter}: {wide} px wide in a {window} px window with a solution open")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            first.screenshot(path=str(SCREENSHOTS / f"solution_{chapter}_390px.png"))
        page.close()
    assert not problems, "\n".join(problems)
