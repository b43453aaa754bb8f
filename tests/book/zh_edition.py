"""What the Chinese edition's tests compare: the pages of both editions read as MyST, split into the parts
a translation must keep (code tokens, glue names, headings, labels, directives, math) and the parts it
translates (prose, strings a reader sees, comments)."""

from __future__ import annotations

import hashlib
import io
import re
import tokenize
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EN, ZH = ROOT / "book", ROOT / "book" / "zh"
FENCE = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)
TERM = re.compile(r"\{term\}`([^`]*)`")
GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]*)`")
GLUE_CALL = re.compile(r"""\bglue\(\s*["']([^"']+)["']""")
LABEL = re.compile(r"^\(([\w-]+)\)=\s*$", re.M)
DIRECTIVE = re.compile(r"^(?::{3,}|`{3,})\{([\w:-]+)\}", re.M)
OPTION_LABEL = re.compile(r"^:label:\s*(\S+)\s*$", re.M)
HEADING = re.compile(r"^(#{1,6})\s", re.M)


def pages() -> list[str]:
    """The English book's page names in the order of its table of contents (without ``book/``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f.removeprefix("book/") for f in files]


def zh_pages() -> list[str]:
    toc = yaml.safe_load((ZH / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def source_hash(page: str) -> str:
    """What a Chinese page records as ``translated_from``: the English file's SHA-256, first 16 digits."""
    return hashlib.sha256((EN / f"{page}.md").read_bytes()).hexdigest()[:16]


def front_matter(text: str) -> dict:
    if not text.startswith("---\n"):
        return {}
    end = text.index("\n---", 4)
    return yaml.safe_load(text[4:end]) or {}


def body(text: str) -> str:
    """The page without its front matter."""
    if text.startswith("---\n"):
        return text[text.index("\n---", 4) + 4 :]
    return text


def code_cells(text: str) -> list[str]:
    return FENCE.findall(body(text))


def prose(text: str) -> str:
    """The page's text outside code cells."""
    return FENCE.sub("", body(text))


def _cell_options_and_code(cell: str) -> tuple[list[str], str]:
    lines = cell.split("\n")
    options: list[str] = []
    if lines and lines[0] == "---":
        end = lines.index("---", 1)
        options, lines = lines[1:end], lines[end + 1 :]
    else:
        while lines and lines[0].startswith(":"):
            options.append(lines.pop(0))
    return options, "\n".join(lines)


def code_shape(cell: str) -> tuple:
    """A code cell as a translation must keep it: its options, and its tokens with the text of string
    literals and comments left out (f-strings keep their replacement fields)."""
    options, code = _cell_options_and_code(cell)
    shape = []
    lines = [line for line in code.split("\n") if not line.lstrip().startswith(("%", "!"))]
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.STRING:
            prefix = re.match(r"[A-Za-z]*", tok.string).group(0).lower()
            fields = tuple(re.findall(r"(?<!\{)\{[^{}]*\}(?!\})", tok.string)) if "f" in prefix else ()
            shape.append(("STRING", prefix, fields))
        else:
            shape.append((tokenize.tok_name[tok.type], tok.string))
    return tuple(options), tuple(shape)


def structure(text: str) -> dict:
    """What must be the same on both pages, apart from code cells."""
    rest = prose(text)
    return {
        "heading levels": [len(m.group(1)) for m in HEADING.finditer(rest)],
        "labels": LABEL.findall(rest),
        "directives": DIRECTIVE.findall(rest),
        "directive labels": OPTION_LABEL.findall(rest),
        "glued values": GLUE_TEXT.findall(rest),
        "glue names": [name for cell in code_cells(text) for name in GLUE_CALL.findall(cell)],
        "display math": rest.count("$$"),
    }


def term_targets(text: str) -> list[str]:
    """The glossary entries a page links, by the text its ``{term}`` roles target (case as written)."""
    out = []
    for inner in TERM.findall(prose(text)):
        titled = re.match(r"(?s)(.*?)\s*<([^>]*)>$", inner)
        out.append(" ".join((titled.group(2) if titled else inner).split()))
    return out


def glossary(text: str) -> list[list[str]]:
    """The entries of a page's glossary directive: each a list of its names (the lines before its definition)."""
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.M | re.S)
    entries: list[list[str]] = []
    names: list[str] = []
    for line in block.group(1).split("\n"):
        if line and not line.startswith((" ", "\t")):
            names.append(line.strip())
        elif names:
            entries.append(names)
            names = []
    if names:
        entries.append(names)
    return entries
