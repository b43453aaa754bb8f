"""``autograder grade`` through the CLI on a tiny class: the three input shapes, odd uploads, bad input.

Issue #11: item 4 (uploads that are not notebooks), item 6 (no upload merged or dropped silently), item 7
(a bad zip member does not stop the class).
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re
import subprocess
import zipfile

import nbformat
import pytest

from autograder import course
from tests import toy_course

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return toy_course.make_toy(tmp_path_factory.mktemp("course"))


def _damaged(data: bytes, name: str, *, flip_at: int | None = None, claim_size: int | None = None) -> bytes:
    """The zip ``data`` with member ``name`` damaged: one byte of its stored data flipped, or claiming
    ``claim_size`` bytes unpacked in its local and central headers."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    data = bytearray(data)
    local = info.header_offset
    if flip_at is not None:
        start = (
            local + 30 + int.from_bytes(data[local + 26 : local + 28], "little") + int.from_bytes(data[local + 28 : local + 30], "little")
        )
        data[start + flip_at] ^= 0xFF
    if claim_size is not None:
        size = claim_size.to_bytes(4, "little")
        data[local + 22 : local + 26] = size
        central = data.index(b"PK\x01\x02")
        while bytes(data[central + 46 : central + 46 + len(name)]) != name.encode():
            central = data.index(b"PK\x01\x02", central + 4)
        data[central + 24 : central + 28] = size
    return bytes(data)


@pytest.fixture(scope="module")
def graded(toy_dir, tmp_path_factory):
    """One batch over a folder, an nbgrader submitted/ tree and an LMS zip, mixed as an instructor might,
    with the odd uploads real classes produce."""
    root = tmp_path_factory.mktemp("class")
    blank, solved = toy_course.blank(toy_dir), toy_course.solved(toy_dir)

    folder = root / "uploads"
    folder.mkdir()
    nbformat.write(solved, folder / "alice.ipynb")
    nbformat.write(blank, folder / "bob_toy.ipynb")
    nbformat.write(solved, folder / "bob!.ipynb")  # another student whose name also gives the id 'bob'
    (folder / "carol.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    (folder / "README.txt").write_text("Submissions downloaded on Monday.\n")
    nbformat.write(solved, folder / ".hidden.ipynb")
    (folder / ".ipynb_checkpoints").mkdir()
    nbformat.write(solved, folder / ".ipynb_checkpoints" / "alice-checkpoint.ipynb")
    # dave handed in the notebook of another assignment
    other = nbformat.read(course.RELEASE_DIR / "tf_basics" / "tf_basics.ipynb", as_version=4)
    nbformat.write(other, folder / "dave.ipynb")

    tree = root / "submitted"
    for student, nb in (("s1", solved), ("s2", blank)):
        (tree / student / "toy").mkdir(parents=True)
        nbformat.write(nb, tree / student / "toy" / "toy.ipynb")
        (tree / student / "toy" / "timestamp.txt").write_text("2024-01-01 10:00:00.000000 UTC")
    nbformat.write(solved, tree / "s2" / "toy" / "scratch.ipynb")

    archive = root / "canvas_export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("doejane_12345_678901_toy.ipynb", nbformat.writes(solved))
        z.writestr("roefrank_late_2345_67890_toy.ipynb", nbformat.writes(blank))
        z.writestr("doejane_55555_678902_toy.ipynb", nbformat.writes(blank))  # a second Jane Doe
        z.writestr("__MACOSX/._doejane_12345_678901_toy.ipynb", "resource fork")
        z.writestr("frank_33333_678903_toy.ipynb", nbformat.writes(solved))
        z.writestr("eve_44444_678904_toy.ipynb", nbformat.writes(solved))
    # frank's member is damaged (one byte of its data flipped), eve's claims 2.5 GB unpacked
    data = _damaged(archive.read_bytes(), "frank_33333_678903_toy.ipynb", flip_at=100)
    archive.write_bytes(_damaged(data, "eve_44444_678904_toy.ipynb", claim_size=2_500_000_000))

    out = root / "out"
    proc = subprocess.run(
        toy_course.grade_cmd(toy_dir, folder, tree, archive, out=out, extra=["--unsafe", "--workers", "2"]),
        capture_output=True,
        text=True,
        timeout=500,
    )
    records = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    results = {s: r["result"] for s, r in records.items()}
    return proc, out, results, records


NOTEBOOKS = {"alice", "bob", "bob-2", "dave", "s1", "s2", "doejane", "doejane-2", "roefrank"}
NOT_NOTEBOOKS = {"carol", "README", "frank", "eve"}  # eve's and frank's zip members cannot be read
STUDENTS = NOTEBOOKS | NOT_NOTEBOOKS


def text_of(page: str) -> str:
    """The words a reader of an HTML page sees (tags, styles and entities aside), on one line."""

    class Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.words, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("style", "title")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("style", "title")

        def handle_data(self, data):
            if not self.hidden:
                self.words.append(data)

    parser = Text()
    parser.feed(page)
    return " ".join(" ".join(parser.words).split())


def test_batch_succeeds_and_says_where_the_reports_are(graded):
    proc, out = graded[:2]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"graded {len(NOTEBOOKS)} of {len(NOTEBOOKS)} notebooks of toy" in proc.stdout
    assert str(out / "autograder-grades.csv") in proc.stdout
    assert "Traceback" not in proc.stderr


def test_every_shape_gives_one_result_per_student(graded):
    results = graded[2]
    assert set(results) == STUDENTS


@pytest.mark.parametrize("student", ["alice", "s1", "doejane", "bob-2"])
def test_solutions_from_each_shape_get_full_marks(graded, student):
    result = graded[2][student]
    assert result["status"] == "graded"
    assert result["score"] == result["max_score"] == 10


@pytest.mark.parametrize("student", ["bob", "s2", "roefrank", "doejane-2"])
def test_blanks_from_each_shape_score_zero(graded, student):
    result = graded[2][student]
    assert result["status"] == "graded" and result["score"] == 0


def test_pdf_gets_a_result_with_a_clear_reason(graded):
    result = graded[2]["carol"]
    assert result["status"] == "rejected" and result["score"] == 0
    assert any(r["code"] == "not_notebook" and "PDF" in r["text"] for r in result["reasons"]), result["reasons"]


def test_notebook_of_another_assignment_gets_a_result_with_a_clear_reason(graded):
    result = graded[2]["dave"]
    assert result["status"] == "rejected" and result["score"] == 0
    assert any(r["code"] == "other_assignment" and "not a notebook of toy" in r["text"] for r in result["reasons"]), result["reasons"]


def test_reports_list_every_student_once(graded):
    from nbgrader.api import Gradebook

    _, out, results, _ = graded
    rows = list(csv.DictReader((out / "autograder-grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="course") as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions("toy")}
    # uploads that are not notebooks are nobody's score in the gradebook
    assert scores == pytest.approx({s: r["score"] for s, r in results.items() if s in NOTEBOOKS})
    assert sorted(p.stem for p in (out / "autograder-feedback").glob("*.html")) == sorted(STUDENTS)


# --- issue 11, item 4: uploads that are not notebooks ------------------------------------------------


def test_not_notebooks_are_listed_and_kept_out_of_the_statistics(graded):
    proc, out, results, _ = graded
    listing = proc.stdout.split("not notebooks or not readable", 1)[1].split("\n  ", 1)[1]
    assert "carol: not a notebook: carol.pdf is a PDF document" in listing
    assert "README: not a notebook: README.txt is a text file" in listing
    scores = [results[s]["score"] for s in NOTEBOOKS]
    mean = sum(scores) / len(scores)
    assert f"mean {mean:.2f} of 10 over {len(NOTEBOOKS)} notebooks" in proc.stdout
    summary = text_of((out / "autograder-summary.html").read_text())
    assert f"{len(NOTEBOOKS)} students {round(mean, 3):g} / 10 mean" in summary
    assert f"{len(NOT_NOTEBOOKS)} not notebooks" in summary
    section = summary.split("Uploads that are not notebooks or could not be read", 1)[1]
    assert re.search(r"README \S*README\.txt not a notebook: README\.txt is a text file", section), section
    assert re.search(r"carol \S*carol\.pdf not a notebook: carol\.pdf is a PDF document", section), section
    rows = {r["student"]: r for r in csv.DictReader((out / "autograder-grades.csv").open())}
    # empty cells: a spreadsheet's AVERAGE leaves them out, as the summary does
    assert [rows["carol"][k] for k in ("scale", "draw_rates", "count_positive", "total")] == ["", "", "", ""]
    assert rows["carol"]["reasons"] == "not a notebook: carol.pdf is a PDF document"


def test_a_pdf_gets_one_short_page_that_says_what_went_wrong(graded):
    out = graded[1]
    page = text_of((out / "autograder-feedback" / "carol.html").read_text())
    assert "Feedback for carol" in page and "0 / 10" in page
    assert "We received carol.pdf" in page and "carol.pdf is a PDF document" in page
    assert ".ipynb" in page  # what to hand in instead
    for group in ("scale", "draw_rates", "count_positive"):
        assert group not in page  # nothing ran: no per-check listing
    assert str(out.parent) not in page  # the instructor's folders are not the student's business


def test_a_folder_of_junk_is_an_error_and_writes_nothing(toy_dir, tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "README.md").write_text("# Assignment 1\n")
    (junk / "notes.pdf").write_bytes(b"%PDF-1.7\n")
    (junk / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (junk / "script.py").write_text("print('hello')\n")
    (junk / "empty.ipynb").write_bytes(b"")
    proc = _run([toy_dir, junk, "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2, proc.stdout
    assert "none of the 5 uploads" in proc.stderr and "is a notebook" in proc.stderr
    for line in (
        "README.md is a Markdown text",
        "notes.pdf is a PDF document",
        "photo.png is a PNG image",
        "script.py is a Python script",
        "empty.ipynb is an empty file",
    ):
        assert line in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


# --- issue 11, item 6: no upload merged or dropped without a word ----------------------------------


def test_uploads_giving_the_same_id_are_graded_apart_and_listed(graded):
    proc, out, _, records = graded
    assert records["bob"]["upload"]["file"].endswith("uploads/bob_toy.ipynb")
    assert records["bob-2"]["upload"]["file"].endswith("uploads/bob!.ipynb")
    assert records["doejane"]["upload"]["file"] == "canvas_export.zip:doejane_12345_678901_toy.ipynb"
    assert records["doejane-2"]["upload"]["file"] == "canvas_export.zip:doejane_55555_678902_toy.ipynb"
    lines = proc.stdout.splitlines()
    bob = next(line for line in lines if line.strip().startswith("bob-2:"))
    assert "bob!.ipynb" in bob and "bob_toy.ipynb" in bob and "graded as 'bob-2'" in bob
    jane = next(line for line in lines if line.strip().startswith("doejane-2:"))
    assert "doejane_55555_678902_toy.ipynb" in jane and "doejane_12345_678901_toy.ipynb" in jane
    summary = text_of((out / "autograder-summary.html").read_text())
    section = summary.split("Uploads set aside or renamed", 1)[1]
    assert re.search(r"bob!\.ipynb bob-2 the id 'bob' is also that of \S*bob_toy\.ipynb", section), section


@pytest.mark.parametrize(
    "upload,reason",
    [
        (".hidden.ipynb", "a hidden file"),
        (".ipynb_checkpoints/ (1 file)", "Jupyter's autosave copies"),
        ("canvas_export.zip:__MACOSX/ (1 file)", "macOS archive metadata"),
        ("s2/toy/scratch.ipynb", "another upload of 's2'; "),
    ],
)
def test_files_not_graded_are_listed_with_their_reason(graded, upload, reason):
    proc, out = graded[:2]
    listed = [line.strip() for line in proc.stdout.split("files not graded:", 1)[1].splitlines()]
    assert any(upload in line and reason in line for line in listed), listed
    summary = text_of((out / "autograder-summary.html").read_text())
    assert upload in summary and reason.strip() in summary
    assert "timestamp.txt" not in proc.stdout  # nbgrader's own file, not an upload


# --- issue 11, item 7: one bad zip member does not stop the class ----------------------------------


def test_unreadable_zip_members_become_results_and_the_rest_is_graded(graded):
    proc, out, results, _ = graded
    assert "Traceback" not in proc.stderr
    assert results["doejane"]["score"] == 10  # the zip's readable members are graded
    frank, eve = results["frank"], results["eve"]
    assert frank["status"] == "rejected" and frank["score"] == 0
    assert [r["text"] for r in frank["reasons"]] == ["not extracted from canvas_export.zip: it is damaged in the zip (bad CRC-32 checksum)"]
    assert [r["text"] for r in eve["reasons"]] == [
        "not extracted from canvas_export.zip: it is 2.3 GiB unpacked, more than the 100 MiB a submission may have"
    ]
    for student in ("frank", "eve"):
        assert f"{student}: not extracted from canvas_export.zip" in proc.stdout
    assert not list((out / "extracted").rglob("eve_*")) and not list((out / "extracted").rglob("frank_*"))
    page = text_of((out / "autograder-feedback" / "frank.html").read_text())
    assert "damaged in the zip" in page and "not about your code" in page


def _run(args, **kw):
    return subprocess.run([str(toy_course.AUTOGRADER), "grade", *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


def test_missing_input_folder_is_a_clear_error(toy_dir, tmp_path):
    proc = _run([toy_dir, tmp_path / "no-such-folder", "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no-such-folder" in proc.stderr and "no such file or folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_assignment_is_a_clear_error(tmp_path):
    proc = _run(["no_such_assignment", tmp_path, "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no_such_assignment" in proc.stderr and "Traceback" not in proc.stderr


def test_folder_without_submissions_is_a_clear_error(toy_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    proc = _run([toy_dir, tmp_path / "empty", "--out", tmp_path / "out", "--unsafe"])
    assert proc.returncode == 2
    assert "no submissions found" in proc.stderr and "Traceback" not in proc.stderr
