"""Discovery of uploads: ids from file names, the three input shapes, and nothing merged or dropped silently."""

import io
import zipfile

import pytest

from autograder.batch import submissions
from autograder.batch.submissions import SubmissionError, discover, not_a_notebook, student_id

NB = '{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}'


def ids(found):
    return [(s.student, s.path.name if s.path else None) for s in found.submissions]


def skipped(found):
    return {s.file.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: s.reason for s in found.skipped}


def test_student_id_from_common_file_names():
    assert student_id("alice.ipynb", "tf_basics") == "alice"
    assert student_id("alice_tf_basics.ipynb", "tf_basics") == "alice"
    # a translated notebook (grading/translation.py) keeps its language suffix: not part of the name
    assert student_id("alice_tf_basics.zh.ipynb", "tf_basics") == "alice"
    assert student_id("tf_basics.zh.ipynb", "tf_basics") == "tf_basics"
    assert student_id("tf_basics-bob.ipynb", "tf_basics") == "bob"
    assert student_id("doejane_12345_678901_tf_basics.ipynb", "tf_basics") == "doejane"
    assert student_id("doejane_late_12345_678901_tf_basics.ipynb", "tf_basics") == "doejane"


def test_folder_of_notebooks_and_other_files(tmp_path):
    (tmp_path / "alice.ipynb").write_text(NB)
    (tmp_path / "bob_tf_basics.ipynb").write_text(NB)
    (tmp_path / "carol.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.ipynb").write_text(NB)
    found = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("alice", "alice.ipynb"), ("bob", "bob_tf_basics.ipynb"), ("carol", "carol.pdf")]
    assert [s.student for s in found.not_notebooks] == ["carol"]
    assert found.not_notebooks[0].problem == "not a notebook: carol.pdf is a PDF document"
    assert skipped(found) == {".hidden.ipynb": "a hidden file (its name starts with a dot)"}


@pytest.mark.parametrize(
    "content,name,what",
    [
        (b"%PDF-1.5\n", "a.pdf", "a PDF document"),
        (b"", "a.ipynb", "an empty file"),
        (b"  \n", "a.ipynb", "an empty file (only white space)"),
        (b"\x89PNG\r\n\x1a\n", "a.png", "a PNG image"),
        (b"PK\x03\x04rest", "a.docx", "a Word document"),
        (b"<!DOCTYPE html><html>", "a.html", "an HTML page (an exported notebook, not the .ipynb file)"),
        (b"def f():\n    pass\n", "a.py", "a Python script"),
        (b"\x00\x01\x02\xff\xfe\x00binary" * 10, "a.bin", "a binary file"),
        (b"# notes\n", "README", "a text file"),
        (b'\xef\xbb\xbf  {"cells": []}', "a.ipynb", None),  # JSON (after a byte-order mark): the grader decides
        (b"{not json", "renamed.txt", None),
    ],
)
def test_what_is_not_a_notebook(tmp_path, content, name, what):
    path = tmp_path / name
    path.write_bytes(content)
    assert not_a_notebook(path) == what


def test_nbgrader_submitted_tree(tmp_path):
    for student in ("s1", "s2"):
        folder = tmp_path / "submitted" / student / "tf_basics"
        folder.mkdir(parents=True)
        (folder / "tf_basics.ipynb").write_text(NB)
        (folder / "timestamp.txt").write_text("2024-01-01 10:00:00 UTC")  # nbgrader's, not an upload
    (tmp_path / "submitted" / "s2" / "tf_basics" / "scratch.ipynb").write_text(NB)
    (tmp_path / "submitted" / "notes.txt").write_text("x")
    found = discover([tmp_path / "submitted"], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("s1", "tf_basics.ipynb"), ("s2", "tf_basics.ipynb")]
    assert skipped(found) == {
        "scratch.ipynb": "another upload of 's2'; submitted/s2/tf_basics/tf_basics.ipynb is graded instead".replace(
            "submitted/", f"{tmp_path}/submitted/"
        ),
        "notes.txt": "not in a <student>/tf_basics/ folder of the nbgrader tree",
    }


def test_lms_zip_is_extracted_safely(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doejane_12345_678901_tf_basics.ipynb", NB)
        z.writestr("__MACOSX/._doejane.ipynb", "junk")
        z.writestr("../escape.ipynb", NB)
        z.writestr("smith john_99_assignsubmission_file_/tf_basics.ipynb", NB)
    found = discover([archive], "tf_basics", tmp_path / "scratch")
    assert sorted(s.student for s in found.submissions) == ["doejane", "smith_john"]
    assert not (tmp_path / "escape.ipynb").exists()
    assert all((tmp_path / "scratch") in s.path.parents for s in found.submissions)
    reasons = {s.file: s.reason for s in found.skipped}
    assert reasons == {
        "export.zip:../escape.ipynb": "an unsafe path in the zip (absolute, or climbing out of it); not extracted",
        "export.zip:__MACOSX/ (1 file)": "macOS archive metadata; not extracted",
    }


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        discover([tmp_path / "missing"], "tf_basics", tmp_path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        discover([bad], "tf_basics", tmp_path / "scratch")


def test_ids_are_safe_file_names(tmp_path):
    (tmp_path / "a b&c.ipynb").write_text(NB)
    (sub,) = discover([tmp_path], "tf_basics", tmp_path / "scratch").submissions
    assert sub.student == "a_b_c"


# --- issue 11, item 6: every upload is graded under an id of its own, or listed with the reason -----


def test_two_files_giving_one_id_are_both_graded_under_ids_of_their_own(tmp_path):
    (tmp_path / "bob.ipynb").write_text(NB)
    (tmp_path / "bob!.ipynb").write_text(NB)
    (tmp_path / "bob-2.ipynb").write_text(NB)  # a real id, which the suffix must not take
    found = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("bob", "bob.ipynb"), ("bob-2", "bob-2.ipynb"), ("bob-3", "bob!.ipynb")]
    (renamed,) = found.renamed
    assert renamed.note == f"the id 'bob' is also that of {tmp_path}/bob.ipynb; graded as 'bob-3'"
    assert found.skipped == []


def test_ids_that_differ_only_in_case_do_not_share_a_result_file(tmp_path):
    (tmp_path / "Alice.ipynb").write_text(NB)
    (tmp_path / "alice.ipynb").write_text(NB)
    found = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("Alice", "Alice.ipynb"), ("Alice-2", "alice.ipynb")]


def test_two_canvas_students_of_one_name_are_both_graded(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doejane_111_900_tf_basics.ipynb", NB)
        z.writestr("doejane_222_901_tf_basics.ipynb", NB)
        z.writestr("doejane_222_902_notes.pdf", "%PDF")  # the second Jane's other file
    found = discover([archive], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("doejane", "doejane_111_900_tf_basics.ipynb"), ("doejane-2", "doejane_222_901_tf_basics.ipynb")]
    assert skipped(found) == {
        "doejane_222_902_notes.pdf": "another upload of 'doejane'; export.zip:doejane_222_901_tf_basics.ipynb is graded instead"
    }


def test_a_notebook_beats_a_file_of_the_same_id_which_is_listed(tmp_path):
    (tmp_path / "bob.ipynb").write_text(NB)
    (tmp_path / "bob.pdf").write_bytes(b"%PDF")
    (tmp_path / "eve.pdf").write_bytes(b"%PDF")
    (tmp_path / "eve.docx").write_bytes(b"PK\x03\x04")
    found = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("bob", "bob.ipynb"), ("eve", "eve.docx")]
    reasons = skipped(found)
    assert reasons["bob.pdf"] == f"not a notebook: bob.pdf is a PDF document; {tmp_path}/bob.ipynb gives the same id 'bob' and is used"
    assert reasons["eve.pdf"].startswith("not a notebook: eve.pdf is a PDF document; ")


def test_system_and_hidden_files_are_listed_not_dropped(tmp_path):
    (tmp_path / "alice.ipynb").write_text(NB)
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "._alice.ipynb").write_bytes(b"\x00")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text(NB)
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    for i in range(3):
        (tmp_path / ".git" / "objects" / f"o{i}").write_text("x")
    found = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert ids(found) == [("alice", "alice.ipynb")]
    assert {s.file.removeprefix(f"{tmp_path}/"): s.reason for s in found.skipped} == {
        ".DS_Store": "a system file (folder settings)",
        "._alice.ipynb": "macOS metadata of another file",
        ".ipynb_checkpoints/ (1 file)": "Jupyter's autosave copies",
        ".git/ (3 files)": "a hidden folder",
    }


def test_zips_of_one_name_do_not_overwrite_each_other(tmp_path):
    for folder, student in (("a", "alice"), ("b", "bob")):
        (tmp_path / folder).mkdir()
        with zipfile.ZipFile(tmp_path / folder / "export.zip", "w") as z:
            z.writestr(f"{student}.ipynb", NB)
    found = discover([tmp_path / "a" / "export.zip", tmp_path / "b" / "export.zip"], "tf_basics", tmp_path / "scratch")
    assert [(s.student, s.path.relative_to(tmp_path / "scratch").as_posix()) for s in found.submissions] == [
        ("alice", "export/alice.ipynb"),
        ("bob", "export-2/bob.ipynb"),
    ]


# --- issue 11, item 7: each zip member on its own ----------------------------------------------------


def _flip(data: bytes, name: str, offset: int) -> bytes:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + offset
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_damaged_too_big_and_duplicate_members_do_not_stop_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_MEMBER_BYTES", 1000)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("alice.ipynb", NB)
        z.writestr("bob.ipynb", NB + " " * 50)
        z.writestr("carol.ipynb", NB + " " * 2000)  # over the (patched) cap
        z.writestr("alice.ipynb", "{}")  # a second member of the same name
    archive.write_bytes(_flip(archive.read_bytes(), "bob.ipynb", 10))
    found = discover([archive], "tf_basics", tmp_path / "scratch")
    subs = {s.student: s for s in found.submissions}
    assert set(subs) == {"alice", "bob", "carol"}
    assert subs["alice"].problem is None and subs["alice"].path.read_text() == NB
    assert subs["bob"].path is None
    assert subs["bob"].problem == "not extracted from export.zip: it is damaged in the zip (bad CRC-32 checksum)"
    assert subs["carol"].path is None
    assert (
        subs["carol"].problem == "not extracted from export.zip: it is 2065 bytes unpacked, more than the 1000 bytes a submission may have"
    )
    assert not (tmp_path / "scratch" / "export" / "bob.ipynb").exists()  # no half-written file
    assert not (tmp_path / "scratch" / "export" / "carol.ipynb").exists()
    assert skipped(found) == {"alice.ipynb": "the zip holds an earlier member of the same name, which was used"}


def test_the_total_size_cap_leaves_the_rest_as_results(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_EXTRACTED_BYTES", 150)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for student in ("a", "b", "c"):
            z.writestr(f"{student}.ipynb", NB)  # 65 bytes each
    found = discover([archive], "tf_basics", tmp_path / "scratch")
    problems = {s.student: s.problem for s in found.submissions}
    assert problems["a"] is None and problems["b"] is None
    assert "unpacks to more than" in problems["c"]
