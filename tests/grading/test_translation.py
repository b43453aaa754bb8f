"""An assignment in another language (grading/translation.py), on a copy of the toy with a Chinese text: the
release writes the translated notebook beside the English one, the same grading.toml grades it, and its
feedback page is in Chinese; a translation that no longer matches the English is refused, naming the cell."""

from __future__ import annotations

import copy
import json
import re
import shutil

import nbformat
import pytest

from autograder import release
from autograder.grading import core, translation
from autograder.grading import spec as spec_mod
from autograder.grading.result import Code
from autograder.report import feedback
from tests.toy_course import FAST, fill_in, replaced

WRONG_SCALE = "def scale(x, a):\n    return a * np.asarray(x, dtype=np.float64) + 1.0\n"
CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_text(spec) -> str:
    """A complete zh.toml for the toy: every cell and hint, 'translated' (marked so a test can find it)."""
    text = translation.skeleton(spec_mod.read_source(spec), spec.english_hints(), "zh")
    return re.sub(r"TODO ", "中文：", text)


@pytest.fixture
def zh_toy(toy_dir, tmp_path):
    folder = tmp_path / "course" / "toy"
    shutil.copytree(toy_dir, folder)
    (folder / "zh.toml").write_text(chinese_text(spec_mod.load(folder)), encoding="utf-8")
    return folder


def test_the_translation_loads_and_is_current(zh_toy):
    spec = spec_mod.load(zh_toy)
    assert set(spec.translations) == {"zh"}
    assert spec_mod.translation_problems(spec, "zh") == []
    assert spec.hint("scale_tests", "zh").startswith("中文：")
    assert spec.hint("scale_tests") == "Convert x to a float64 array, then multiply by a."


def test_release_writes_the_translated_notebook_beside_the_english_one(zh_toy, tmp_path):
    out = release.write("toy", zh_toy.parent, tmp_path / "release")
    english = nbformat.read(out / "toy.ipynb", as_version=4)
    chinese = nbformat.read(out / "toy.zh.ipynb", as_version=4)
    assert [c.cell_type for c in chinese.cells] == [c.cell_type for c in english.cells]
    for en, zh in zip(english.cells, chinese.cells):
        if en.cell_type == "code":
            assert zh.source == en.source and zh.metadata == en.metadata  # same code, grade ids, locks
        else:
            assert zh.source.startswith("中文：") and CJK.search(zh.source)
    assert chinese.metadata["autograder"] == {"language": "zh"}
    assert translation.notebook_language(chinese) == "zh" and translation.notebook_language(english) == "en"
    assert release.compare("toy", zh_toy.parent, tmp_path / "release") == []


def test_a_changed_english_cell_is_refused_naming_the_cell_and_nothing_is_written(zh_toy, tmp_path):
    source = zh_toy / "toy.ipynb"
    nb = json.loads(source.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    first["source"] = ["A new first paragraph.\n"]
    source.write_text(json.dumps(nb, indent=1))
    spec = spec_mod.load(zh_toy)
    problems = spec_mod.translation_problems(spec, "zh")
    assert len(problems) == 1 and "[[cell]] 1" in problems[0] and translation.text_hash("A new first paragraph.\n") in problems[0]
    with pytest.raises(translation.TranslationError, match=r"\[\[cell\]\] 1"):
        release.write("toy", zh_toy.parent, tmp_path / "release")
    assert not (tmp_path / "release" / "toy").exists()


def test_a_changed_english_hint_keeps_the_english_hint_on_the_page_and_is_listed(zh_toy):
    spec_file = zh_toy / "grading.toml"
    spec_file.write_text(spec_file.read_text().replace("then multiply by a.", "then multiply it by a."))
    spec = spec_mod.load(zh_toy)
    assert spec.hint("scale_tests", "zh") == "Convert x to a float64 array, then multiply it by a."
    assert any("[hints] scale_tests" in p for p in spec_mod.translation_problems(spec, "zh"))


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda t: t.replace('language = "zh"', 'language = "fr"'), "'language' must be 'zh'"),
        (lambda t: t.replace('language = "zh"', 'language = "zh"\nnotes = "x"'), "unknown key"),
        (lambda t: t.replace("'''中文：Convert x to a float64 array, then multiply by a.'''", "'''  '''", 1), "'text' is empty"),
        (lambda t: t.replace('from = "', 'source = "', 1), "needs exactly 'from' and 'text'"),
        (lambda t: t.replace("[[cell]]", "[[cell", 1), "not readable TOML"),
    ],
)
def test_a_broken_translation_file_is_an_instructor_error_with_the_file_named(zh_toy, change, words):
    path = zh_toy / "zh.toml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(spec_mod.SpecError, match=re.escape(words)) as err:
        spec_mod.load(zh_toy)
    assert "zh.toml" in str(err.value)


def test_an_unknown_hint_name_is_listed(zh_toy):
    path = zh_toy / "zh.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"scale_tests" =', '"scale_test" =', 1), encoding="utf-8")
    problems = spec_mod.translation_problems(spec_mod.load(zh_toy), "zh")
    assert any("scale_test: grading.toml has no hint" in p for p in problems)
    assert any("no translation of the hint of 'scale_tests'" in p for p in problems)


def chinese_submission(zh_toy, tmp_path, solution=None):
    release.write("toy", zh_toy.parent, tmp_path / "release")
    blank = nbformat.read(tmp_path / "release" / "toy" / "toy.zh.ipynb", as_version=4)
    nb = fill_in(blank, spec_mod.read_source(spec_mod.load(zh_toy)))
    return replaced(nb, "scale", solution) if solution else nb


def test_a_correct_chinese_notebook_scores_full_marks_without_tampering_notes(zh_toy, tmp_path):
    spec = spec_mod.load(zh_toy)
    result = core.grade(chinese_submission(zh_toy, tmp_path), spec, limits=FAST)
    assert result.score == result.max_score == 10
    assert result.tampering == [] and result.language == "zh"
    page = feedback.render_feedback(spec, result)
    assert '<html lang="zh-CN">' in page and "已评分" in page and ">graded<" not in page


def test_a_wrong_chinese_notebook_gets_chinese_feedback_from_codes_and_chinese_hints(zh_toy, tmp_path):
    spec = spec_mod.load(zh_toy)
    result = core.grade(chinese_submission(zh_toy, tmp_path, WRONG_SCALE), spec, limits=FAST)
    assert result.language == "zh" and result.score < 10
    hidden = result.check("scale.hidden")
    assert not hidden.passed and hidden.code == Code.WRONG_VALUES
    page = feedback.render_feedback(spec, result)
    # The grader's own "expected ..., got ..." line of a visible check stays as written, in a <pre>.
    body = re.sub(r"<pre>.*?</pre>", "", page.split("<main>")[1], flags=re.S)
    assert "数值不对" in body  # the hidden check's code, in fixed Chinese words
    assert "中文：Check the sign" in body  # its hint, from zh.toml
    assert "中文：Convert x to a float64 array" in body  # the group's hint
    for english in ("wrong values", "Hint:", "hidden check", "Feedback for", "expected:"):
        assert english not in body
    # The visible check's values, from the run without hidden tests, under Chinese labels (and no English line).
    visible = result.check("scale.visible")
    assert visible.code == Code.WRONG_VALUES and visible.got.startswith("[4. 7.]")
    with_reference = feedback.render_feedback(spec, result, {"scale.visible": [3.0, 6.0]})
    assert "期望值：" in with_reference and "你的结果：" in with_reference and "[4. 7.]" in with_reference
    assert "wrong value" not in with_reference.split("<main>")[1]
    # The same result read back from its JSON (as the site stores it) gives the same page.
    assert feedback.render_feedback(spec, type(result).from_json(result.to_json())) == page


def test_a_notebook_that_names_an_unknown_language_gets_english_feedback(zh_toy, tmp_path):
    spec = spec_mod.load(zh_toy)
    nb = copy.deepcopy(chinese_submission(zh_toy, tmp_path, WRONG_SCALE))
    nb.metadata["autograder"] = {"language": "<script>"}
    result = core.grade(nb, spec, limits=FAST)
    assert result.language == "en"
    assert "wrong values" in feedback.render_feedback(spec, result)


def test_names():
    assert translation.notebook_name("tf_basics.ipynb", "zh") == "tf_basics.zh.ipynb"
    assert translation.notebook_name("tf_basics.ipynb", "en") == "tf_basics.ipynb"
    assert translation.without_language("alice_tf_basics.zh") == "alice_tf_basics"
    assert translation.without_language("alice.v2") == "alice.v2"


# Right when the visible tests run alone, wrong when the cell also holds the hidden tests (it reads the input history).
SEES_HIDDEN_TESTS = (
    "def scale(x, a):\n"
    "    shift = 1.0 if any('scale.' + 'hidden' in s for s in get_ipython().user_ns.get('In', [])) else 0.0\n"
    "    return a * np.asarray(x, dtype=np.float64) + shift\n"
)


def test_a_check_that_passed_only_without_the_hidden_tests_is_said_so_in_either_language(zh_toy, tmp_path):
    from autograder.grading.result import PASSED_ALONE

    spec = spec_mod.load(zh_toy)
    result = core.grade(chinese_submission(zh_toy, tmp_path, SEES_HIDDEN_TESTS), spec, limits=FAST)
    visible = result.check("scale.visible")
    assert not visible.passed and visible.passed_alone and visible.message == PASSED_ALONE
    page = feedback.render_feedback(spec, result)
    assert "只运行可见测试时这项检查通过了" in page and PASSED_ALONE not in page
    result.language = "en"
    assert PASSED_ALONE in feedback.render_feedback(spec, result)
