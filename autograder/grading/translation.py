"""An assignment in another language: its student notebook's text and its hints, from one file per language.

``source_solutions/<name>/<language>.toml`` (``zh.toml``) holds, for every Markdown cell of the source notebook
in order, the translated text and ``from``, the first 16 hex digits of the SHA-256 of the English cell it
translates; and ``[hints]``, the translated hints of grading.toml by group ``grade_id`` or check name, each
with the hash of the English hint it translates::

    language = "zh"

    [hints]
    linear_function_tests = { from = "0c1d2e3f4a5b6c7d", text = '''Y = WX + b ...''' }

    [[cell]]
    from = "3f2a9c0d1e4b5a67"
    text = '''
    # 第一部分 ...
    '''

Code cells are never translated: the translated notebook has the same cells, grade ids and checks, so the same
grading.toml grades it. ``release`` writes it beside the English one as ``<notebook>.<language>.ipynb`` with
``metadata.autograder.language`` set; the grader reads that field to write feedback in the student's language.
A changed English cell makes its translation stale: release refuses it and says which cell, and
``tests/assignments/test_translations.py`` fails, so the change shows up as translation work.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.errors import AutograderError

DEFAULT = "en"
# Languages a notebook, a feedback page and a translation file may be in (the English text is the source's).
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != DEFAULT)
METADATA_KEY = "autograder"  # notebook metadata: {"autograder": {"language": "zh"}}


class TranslationError(AutograderError, ValueError):
    """A translation file is invalid, or no longer matches the English notebook it translates."""


@dataclasses.dataclass(frozen=True)
class CellText:
    source_hash: str  # of the English Markdown cell this translates
    text: str


@dataclasses.dataclass(frozen=True)
class Translation:
    language: str
    path: Path
    cells: tuple[CellText, ...]
    hints: Mapping[str, CellText]  # group grade_id or check name -> its hint (and the English hint's hash)

    def hint(self, key: str, english: str) -> str:
        """The translated hint of ``key`` when it translates ``english`` as it is now; else ``english``."""
        mine = self.hints.get(key)
        return mine.text if mine is not None and english and mine.source_hash == text_hash(english) else english


def text_hash(text: str) -> str:
    """What ``from`` records: the first 16 hex digits of the SHA-256 of a cell's text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _source_text(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def markdown_cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in nb.get("cells", []) if isinstance(c, Mapping) and c.get("cell_type") == "markdown"]


def load(path: Path) -> Translation:
    """Read and check one ``<language>.toml`` (its shape only; ``problems`` compares it with a notebook)."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise TranslationError(f"{where}: not readable TOML: {exc}") from None
    language = data.get("language")
    if language != path.stem or language not in TRANSLATED:
        raise TranslationError(f"{where}: 'language' must be '{path.stem}', one of {', '.join(TRANSLATED)} (got {language!r})")
    unknown = set(data) - {"language", "hints", "cell"}
    if unknown:
        raise TranslationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    raw_hints = data.get("hints", {})
    if not isinstance(raw_hints, dict):
        raise TranslationError(f"{where} [hints]: must be a table")
    hints = {key: _entry(raw, f"{where} [hints] {key}") for key, raw in raw_hints.items()}
    cells = tuple(_entry(raw, f"{where} [[cell]] {i}") for i, raw in enumerate(data.get("cell", []), start=1))
    return Translation(language, path, cells, hints)


def _entry(raw: Any, where: str) -> CellText:
    if not isinstance(raw, dict) or set(raw) != {"from", "text"} or not all(isinstance(raw[k], str) for k in raw):
        raise TranslationError(f"{where}: needs exactly 'from' and 'text', both strings")
    if not raw["text"].strip():
        raise TranslationError(f"{where}: 'text' is empty")
    return CellText(raw["from"], raw["text"].strip("\n"))


def load_all(folder: Path) -> dict[str, Translation]:
    """The translations of the assignment in ``folder``, by language."""
    return {lang: load(folder / f"{lang}.toml") for lang in TRANSLATED if (folder / f"{lang}.toml").is_file()}


def problems(translation: Translation, nb: Mapping[str, Any], hints: Mapping[str, str] | None = None) -> list[str]:
    """What no longer matches between a translation and the English notebook and, when given, the English
    hints (key -> hint, from grading.toml): empty when the translation is current and complete."""
    english = markdown_cells(nb)
    out = []
    for key, hint in (hints or {}).items():
        mine = translation.hints.get(key)
        if mine is None:
            out.append(f"{translation.path} [hints]: no translation of the hint of '{key}' (from = \"{text_hash(hint)}\")")
        elif mine.source_hash != text_hash(hint):
            out.append(
                f'{translation.path} [hints] {key}: translates an older hint; bring it up to date and set from = "{text_hash(hint)}"'
            )
    for key in sorted(set(translation.hints) - set(hints or {})) if hints is not None else ():
        out.append(f"{translation.path} [hints] {key}: grading.toml has no hint under this name")
    if len(translation.cells) != len(english):
        out.append(f"{translation.path}: {len(translation.cells)} [[cell]] entries for {len(english)} Markdown cells of the notebook")
    for i, (cell, mine) in enumerate(zip(english, translation.cells), start=1):
        want = text_hash(_source_text(cell))
        if mine.source_hash != want:
            first = _source_text(cell).strip().split("\n", 1)[0][:60]
            out.append(
                f"{translation.path} [[cell]] {i}: translates an older text of Markdown cell {i} ({first!r}); "
                f'bring it up to date and set from = "{want}"'
            )
    return out


def translated(nb: Any, translation: Translation) -> Any:
    """A copy of the notebook with its Markdown cells in the translation's language and its language recorded.

    Raises ``TranslationError`` when the translation does not match the notebook (``problems``).
    """
    found = problems(translation, nb)
    if found:
        raise TranslationError("the translation is out of date:\n  " + "\n  ".join(found))
    out = copy.deepcopy(nb)
    for cell, mine in zip(markdown_cells(out), translation.cells):
        cell["source"] = mine.text
    out["metadata"][METADATA_KEY] = {"language": translation.language}
    return out


_QUOTES = "'" * 3  # TOML's literal strings: no escapes, so TeX's backslashes stay as written


def skeleton(nb: Mapping[str, Any], hints: Mapping[str, str], language: str, old: Translation | None = None) -> str:
    """The text of a ``<language>.toml`` to translate: every Markdown cell and hint with its hash, the English
    as comments above it, and the text of ``old`` where it still translates the same English (else the
    English, marked ``TODO``). A start for a new language, or a list of the work after English changes."""
    kept = {c.source_hash: c.text for c in (old.cells if old else ())}
    kept_hints = {k: h for k, h in (old.hints.items() if old else ())}
    out = [f'language = "{language}"', "", "[hints]"]

    def block(english: str, mine: str | None) -> list[str]:
        lines = [f"# {line}".rstrip() for line in english.strip().split("\n")]
        text = mine if mine is not None else "TODO " + english.strip()
        if _QUOTES in text:
            raise TranslationError("a text holds three single quotes in a row, which a TOML literal string cannot")
        return lines, text

    for key, english in hints.items():
        lines, text = block(
            english, kept_hints[key].text if key in kept_hints and kept_hints[key].source_hash == text_hash(english) else None
        )
        out += lines + [f'"{key}" = {{ from = "{text_hash(english)}", text = {_QUOTES}{text}{_QUOTES} }}', ""]
    for cell in markdown_cells(nb):
        english = _source_text(cell)
        lines, text = block(english, kept.get(text_hash(english)))
        out += ["[[cell]]"] + lines + [f'from = "{text_hash(english)}"', f"text = {_QUOTES}\n{text}\n{_QUOTES}", ""]
    return "\n".join(out)


def notebook_language(nb: Any) -> str:
    """The language a notebook says it is in; the default for anything else (a submission's metadata is
    untrusted, but it chooses only the words of its own feedback)."""
    meta = nb.get("metadata") if isinstance(nb, Mapping) else None
    ours = meta.get(METADATA_KEY) if isinstance(meta, Mapping) else None
    language = ours.get("language") if isinstance(ours, Mapping) else None
    return language if isinstance(language, str) and language in LANGUAGES else DEFAULT


def notebook_name(notebook: str, language: str) -> str:
    """``tf_basics.ipynb`` -> ``tf_basics.zh.ipynb`` (the English name for the default language)."""
    if language == DEFAULT:
        return notebook
    stem, dot, suffix = notebook.rpartition(".")
    return f"{stem}.{language}.{suffix}" if dot else f"{notebook}.{language}"


def without_language(stem: str) -> str:
    """A file stem with a language suffix taken off: ``alice_tf_basics.zh`` -> ``alice_tf_basics``."""
    base, dot, lang = stem.rpartition(".")
    return base if dot and lang in TRANSLATED else stem


__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "TRANSLATED",
    "CellText",
    "Translation",
    "TranslationError",
    "load",
    "load_all",
    "problems",
    "translated",
    "notebook_language",
    "notebook_name",
    "skeleton",
    "text_hash",
    "without_language",
]
