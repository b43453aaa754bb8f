"""The book's signs_data extension on a one-page Sphinx project: it publishes the files, or fails the build."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from booksite import ROOT

NAMES = ("train_signs.h5", "test_signs.h5")


def build(tmp_path, data_dir):
    """Run a strict Sphinx build (as ``make book`` does) with the extension; returns (process, out folder)."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        f"extensions = ['signs_data']\nsigns_data_dir = {str(data_dir)!r}\n"
    )
    (src / "index.rst").write_text("Book\n====\n\nA page.\n")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, out


def test_the_build_publishes_the_files_their_sums_and_the_credit(tmp_path):
    data = tmp_path / "datasets"
    data.mkdir()
    for name in NAMES:
        (data / name).write_bytes(name.encode() * 1000)
    done, out = build(tmp_path, data)
    assert done.returncode == 0, done.stderr
    published = out / "data"
    for name in NAMES:
        assert (published / name).read_bytes() == (data / name).read_bytes()
    sums = (published / "SHA256SUMS").read_text().splitlines()
    assert sorted(sums) == sorted(f"{hashlib.sha256((data / n).read_bytes()).hexdigest()}  {n}" for n in NAMES)
    page = (published / "index.html").read_text()
    for credit in ("Apache License, Version 2.0", "Zeynep Dikle", "Arda Mavi", "Anadolu High School", "arXiv:2011.08927"):
        assert credit in page
    assert 'href="train_signs.h5"' in page and 'href="SHA256SUMS"' in page
    assert sorted(p.name for p in published.iterdir()) == sorted([*NAMES, "SHA256SUMS", "index.html"])


def test_without_the_built_files_the_strict_build_fails_and_says_why(tmp_path):
    (tmp_path / "empty").mkdir()
    done, out = build(tmp_path, tmp_path / "empty")
    assert done.returncode != 0
    assert "SIGNS files are not built" in done.stderr and "autograder data build" in done.stderr
    assert not (out / "data").exists()
