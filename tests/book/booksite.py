"""Where the built book is and what it must contain (shared by the book tests)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
BOOK_TITLE = "Improving Deep Neural Networks"
ASSIGNMENTS = ("tf_basics", "signs_model", "batch_norm", "hyperparameter_search", "softmax")


def site_pages() -> list[Path]:
    """Every HTML page of the built book (the redirect index.html and copied files excluded)."""
    if not (SITE / "book").is_dir():
        return []
    return sorted(p for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_") and p.name != "index.html")
