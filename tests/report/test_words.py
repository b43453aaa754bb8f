"""Every language a notebook can be in has every word of a feedback page (report/words.py)."""

from __future__ import annotations

import re

import pytest

from autograder.grading import translation
from autograder.grading.result import Code, Status, Why
from autograder.report import words


@pytest.mark.parametrize("language", list(translation.LANGUAGES))
def test_every_word_exists_in_every_language(language):
    assert set(words.PAGE[language]) == set(words.PAGE["en"])
    assert set(words.STATUS_WORDS[language]) == set(Status) == set(words.STATUS_TEXT[language])
    assert set(words.REASON_HELP[language]) == set(Why) - {Why.OTHER}
    assert set(words.CODE_TEXTS[language]) == set(Code)
    for key, text in words.PAGE[language].items():
        # A translated entry keeps the English entry's placeholders, so filling it in cannot fail.
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", words.PAGE["en"][key])), key


def test_chinese_words_are_chinese():
    for table in (words.PAGE["zh"], words.STATUS_TEXT["zh"], words.REASON_HELP["zh"], words.CODE_TEXTS["zh"]):
        for key, text in table.items():
            if text and key != "html_lang":
                assert re.search(r"[\u4e00-\u9fff]", text), key


def test_a_raised_check_names_only_a_listed_exception_in_any_language():
    assert words.code_message(Code.RAISED, "ValueError", "zh") == "测试因异常而停止 (ValueError)"
    assert words.code_message(Code.RAISED, "HiddenInput_3_5", "zh") == "测试因异常而停止 (异常)"
    assert words.code_message(Code.RAISED, "HiddenInput_3_5", "en") == "the test stopped with an exception (an exception)"
    assert words.code_message(Code.WRONG_VALUES, language="xx") == "wrong values"
