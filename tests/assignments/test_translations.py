"""Every assignment has a Chinese text (source_solutions/<name>/zh.toml) that translates its notebook and hints as
they are now, cell for cell, keeping what a translation must not change: headings, formulas, code names, links."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from autograder import course
from autograder.grading import spec as spec_mod
from autograder.grading import translation

NAMES = course.assignment_names()
CJK = re.compile(r"[\u4e00-\u9fff]")
# An inline formula may run over a line break (not over a blank line, which ends a paragraph).
MATH = re.compile(r"\$\$.*?\$\$|\$(?:[^$\n]|\n(?!\n))+\$", re.S)
CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s", re.M)
TEXT_IN_MATH = re.compile(r"\\text\{[^}]*\}")


def shape(markdown: str) -> dict:
    """What a translated cell keeps: heading levels, formulas (their words aside), code spans and links."""
    fenced = re.findall(r"^```.*?^```", markdown, re.M | re.S)
    rest = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    math = MATH.findall(rest)
    prose = MATH.sub("", rest)
    return {
        "heading levels": [len(h) for h in HEADING.findall(prose)],
        "formulas": sorted(TEXT_IN_MATH.sub(r"\\text{}", m) for m in math),
        "code blocks": fenced,
        "links": LINK.findall(prose),
        "code spans": Counter(CODE.findall(prose)),
    }


@pytest.fixture(params=NAMES)
def name(request):
    return request.param


def english_cells(spec) -> list[str]:
    return [translation._source_text(c) for c in translation.markdown_cells(spec_mod.read_source(spec))]


def test_every_assignment_has_a_chinese_text(name):
    assert "zh" in spec_mod.load(name).translations, f"source_solutions/{name}/zh.toml is missing"


def test_the_chinese_text_translates_the_notebook_and_hints_as_they_are_now(name):
    spec = spec_mod.load(name)
    assert spec_mod.translation_problems(spec, "zh") == []


def test_each_cell_keeps_headings_formulas_code_names_and_links(name):
    spec = spec_mod.load(name)
    mine = spec.translations["zh"]
    for i, (en, zh) in enumerate(zip(english_cells(spec), (c.text for c in mine.cells)), start=1):
        a, b = shape(en), shape(zh)
        # A translation may name more code than the English (a Chinese sentence can repeat a name), not less.
        assert a["code spans"] - b["code spans"] == Counter(), f"{name} zh cell {i} lost code spans"
        a.pop("code spans"), b.pop("code spans")
        assert b == a, f"{name} zh cell {i} differs from the English one in its structure"


def test_the_chinese_text_is_chinese_and_finished(name):
    mine = spec_mod.load(name).translations["zh"]
    texts = [("cell", i, c.text) for i, c in enumerate(mine.cells, start=1)] + [("hint", k, h.text) for k, h in mine.hints.items()]
    for kind, where, text in texts:
        assert "TODO" not in text, f"{name} zh {kind} {where} is not translated yet"
        letters = re.sub(r"`[^`]*`|\$[^$]*\$|\([^)]*\)|https?://\S+", "", text)
        if re.search(r"[A-Za-z]{3,}.*[A-Za-z]{3,}", letters):
            assert CJK.search(text), f"{name} zh {kind} {where} has English words and no Chinese"


def test_the_checks_above_can_fail():
    en = "## Part 1\nCompute $Z = WX + b$ with `np.dot`, see [the book](../book/x.html)."
    assert shape("## 第一部分\n用 `np.dot` 计算 $Z = WX + b$，参见[课本](../book/x.html)。") == shape(en)
    assert shape("### 第一部分\n用 `np.dot` 计算 $Z = WX + b$。参见[课本](../book/x.html)") != shape(en)
    assert shape("## 第一部分\n用 `np.dot` 计算 $Z = XW + b$，参见[课本](../book/x.html)。") != shape(en)
    assert shape("## 第一部分\n计算 $Z = WX + b$，参见[课本](../book/x.html)。")["code spans"] != shape(en)["code spans"]
