"""Fixtures of the book tests: they check the built site in _build/html, they do not build it."""

from __future__ import annotations

from pathlib import Path

import pytest
from booksite import SITE


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip("the book is not built: run `.venv/bin/jupyter-book build . -W -n --keep-going` first")
    return SITE
