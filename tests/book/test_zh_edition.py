"""The Chinese edition (book/zh/) keeps step with the English book: the same pages, the same code cell for
cell, the same glued values, labels and exercises, the glossary's Chinese terms, and a record of which
English text each page translates, so that a change to an English page shows up here as work to do."""

from __future__ import annotations

import re

import pytest
import yaml
from zh_edition import EN, ROOT, ZH, code_cells, code_shape, front_matter, glossary, pages, source_hash, structure, term_targets, zh_pages

PAGES = pages()


def read(folder, page) -> str:
    return (folder / f"{page}.md").read_text(encoding="utf-8")


def test_the_same_pages_in_the_same_order():
    assert zh_pages() == PAGES
    en_toc, zh_toc = (yaml.safe_load(p.read_text()) for p in (ROOT / "_toc.yml", ZH / "_toc.yml"))
    assert [len(p["chapters"]) for p in zh_toc["parts"]] == [len(p["chapters"]) for p in en_toc["parts"]]
    assert sorted(p.stem for p in ZH.glob("*.md")) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_each_page_translates_the_english_page_as_it_is_now(page):
    recorded = front_matter(read(ZH, page)).get("translated_from")
    assert recorded == source_hash(page), (
        f"book/{page}.md changed since book/zh/{page}.md was translated from it (recorded {recorded}): "
        f"bring the Chinese page up to date (`git log -p book/{page}.md` shows what changed), then set its "
        f"translated_from to {source_hash(page)}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_the_same_code_token_for_token_apart_from_text_a_reader_sees(page):
    en, zh = read(EN, page), read(ZH, page)
    assert {k: v for k, v in front_matter(zh).items() if k != "translated_from"} == front_matter(en)
    en_cells, zh_cells = code_cells(en), code_cells(zh)
    assert len(zh_cells) == len(en_cells)
    for i, (a, b) in enumerate(zip(en_cells, zh_cells)):
        assert code_shape(b) == code_shape(a), f"code cell {i + 1} of book/zh/{page}.md differs from the English one:\n{b}"


@pytest.mark.parametrize("page", PAGES)
def test_the_same_headings_labels_exercises_glued_values_and_math(page):
    assert structure(read(ZH, page)) == structure(read(EN, page))


@pytest.mark.parametrize("page", [p for p in PAGES if p != "glossary"])
def test_every_glossary_term_of_the_english_page_appears_in_its_chinese_form(page):
    chinese = {}
    for names in glossary(read(EN, "glossary")):
        for name in names:
            chinese[name.lower()] = names[1]
    text = read(ZH, page)
    missing = sorted({chinese[t.lower()] for t in term_targets(read(EN, page)) if chinese[t.lower()] not in text})
    assert not missing, f"book/zh/{page}.md lacks the glossary's Chinese form of {missing}"


def test_the_chinese_glossary_has_every_entry_chinese_name_first():
    en, zh = glossary(read(EN, "glossary")), glossary(read(ZH, "glossary"))
    assert [names[::-1] for names in zh] == en


def test_the_chinese_assignments_page_offers_each_chinese_notebook_first():
    from autograder import course

    text = read(ZH, "assignments")
    for name in course.assignment_names():
        chinese = f"../../assignments/{name}/{name}.zh.ipynb"
        assert chinese in text and text.index(chinese) < text.index(f"../../assignments/{name}/{name}.ipynb"), name


def test_the_checks_above_can_fail():
    # A changed number in code, a renamed glue value and a dropped label are each seen.
    cell = 'x = 10 ** rng.uniform(-4, 0, size=n)  # samples\nglue("share", x)\nprint(f"{x:.1%} of the trials")'
    same = 'x = 10 ** rng.uniform(-4, 0, size=n)  # 样本\nglue("share", x)\nprint(f"{x:.1%} 的试验")'
    assert code_shape(same) == code_shape(cell)
    assert code_shape(cell.replace("-4", "-3")) != code_shape(cell)
    assert code_shape(cell.replace("{x:.1%}", "{x:.2%}")) != code_shape(cell)
    page = '(sec)=\n# Title\n\n```{code-cell} ipython3\nglue("share", 1)\n```\n'
    assert structure(page.replace('"share"', '"part"')) != structure(page)
    assert structure(page.replace("(sec)=\n", "")) != structure(page)
    assert re.search(r"translated_from", (ZH / "intro.md").read_text()) is not None


# ---------------------------------------------------------------------------- the built editions


def switch_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*?class="[^"]*btn-language-switch-button', html, re.S)
    return found.group(1) if found else None


@pytest.mark.parametrize("page", PAGES)
def test_the_language_switch_goes_to_the_same_page_and_back(site, page):
    english, chinese = site / "book" / f"{page}.html", site / "zh" / f"{page}.html"
    assert chinese.is_file(), f"{chinese} was not built (make book builds and copies the Chinese edition)"
    there = switch_link(english.read_text())
    assert there is not None and (english.parent / there).resolve() == chinese.resolve()
    back = switch_link(chinese.read_text())
    assert back is not None and (chinese.parent / back).resolve() == english.resolve()
    assert '<html lang="zh' in chinese.read_text()


def glued(folder, page) -> dict[str, str]:
    import json

    path = folder / f"{page}.glue.json"
    return {name: out.get("data", {}).get("text/plain", "") for name, out in json.loads(path.read_text()).items()} if path.is_file() else {}


# Glued values that are measured, not computed: each build times its own run.
MEASURED = {"speedup"}  # tensorflow.md: eager time / tf.function time


@pytest.mark.parametrize("page", [p for p in PAGES if "{glue" in (EN / f"{p}.md").read_text()])
def test_both_editions_computed_the_same_values(site, page):
    en = glued(ROOT / "_build" / "jupyter_execute" / "book", page)
    zh = glued(ZH / "_build" / "jupyter_execute", page)
    assert en and set(zh) == set(en)
    assert {k: v for k, v in zh.items() if k not in MEASURED} == {k: v for k, v in en.items() if k not in MEASURED}


@pytest.mark.parametrize("page", [p for p in PAGES if (EN / f"{p}.md").read_text().startswith("---\njupytext")])
def test_a_chinese_chapter_offers_its_notebook_in_chinese(site, page):
    html = (site / "zh" / f"{page}.html").read_text()
    link = re.search(r'<p class="chapter-notebook">(.*?)</p>', html, re.S)
    assert link and "下载本章的笔记本" in link.group(1) and f'href="{page}.ipynb"' in link.group(1)
    assert "Download" not in link.group(1)
