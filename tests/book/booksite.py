"""Where the built book is and what it must contain (shared by the book tests)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
BOOK_TITLE = "Improving Deep Neural Networks"
ZH_TITLE = "改进深度神经网络"  # the Chinese edition (book/zh/), published under zh/
ASSIGNMENTS = ("tf_basics", "signs_model", "batch_norm", "hyperparameter_search", "softmax")


def site_pages() -> list[Path]:
    """Every HTML page of the built book (the redirect index.html and copied files excluded)."""
    if not (SITE / "book").is_dir():
        return []
    return sorted(
        p for p in SITE.rglob("*.html") if not any(part.startswith("_") for part in p.relative_to(SITE).parts) and p.name != "index.html"
    )


def title_of(page_path: str) -> str:
    """The book title a page of the site (a path relative to it) carries: the Chinese edition's under zh/."""
    return ZH_TITLE if page_path.startswith("zh/") else BOOK_TITLE


def zh_pages() -> list[str]:
    """The Chinese edition's pages, as paths relative to the site."""
    return [p.relative_to(SITE).as_posix() for p in site_pages() if p.relative_to(SITE).parts[0] == "zh"]
