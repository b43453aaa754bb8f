import zipfile

import pytest

from autograder.batch.submissions import SubmissionError, discover, student_id


def test_student_id_from_common_file_names():
    assert student_id("alice.ipynb", "tf_basics") == "alice"
    assert student_id("alice_tf_basics.ipynb", "tf_basics") == "alice"
    assert student_id("tf_basics-bob.ipynb", "tf_basics") == "bob"
    assert student_id("doejane_12345_678901_tf_basics.ipynb", "tf_basics") == "doejane"
    assert student_id("doejane_late_12345_678901_tf_basics.ipynb", "tf_basics") == "doejane"


def test_folder_of_notebooks_and_other_files(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob_tf_basics.ipynb").write_text("{}")
    (tmp_path / "carol.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.ipynb").write_text("{}")
    subs = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert [(s.student, s.path.name) for s in subs] == [
        ("alice", "alice.ipynb"),
        ("bob", "bob_tf_basics.ipynb"),
        ("carol", "carol.pdf"),
    ]


def test_nbgrader_submitted_tree(tmp_path):
    for student in ("s1", "s2"):
        folder = tmp_path / "submitted" / student / "tf_basics"
        folder.mkdir(parents=True)
        (folder / "tf_basics.ipynb").write_text("{}")
        (folder / "scratch.ipynb").write_text("{}")
    subs = discover([tmp_path / "submitted"], "tf_basics", tmp_path / "scratch")
    assert [(s.student, s.path.name) for s in subs] == [("s1", "tf_basics.ipynb"), ("s2", "tf_basics.ipynb")]


def test_lms_zip_is_extracted_safely(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doejane_12345_678901_tf_basics.ipynb", "{}")
        z.writestr("__MACOSX/._doejane.ipynb", "junk")
        z.writestr("../escape.ipynb", "{}")
        z.writestr("smith john_99_assignsubmission_file_/tf_basics.ipynb", "{}")
    subs = discover([archive], "tf_basics", tmp_path / "scratch")
    assert sorted(s.student for s in subs) == ["doejane", "smith_john"]
    assert not (tmp_path / "escape.ipynb").exists()
    assert all((tmp_path / "scratch") in s.path.parents for s in subs)


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        discover([tmp_path / "missing"], "tf_basics", tmp_path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        discover([bad], "tf_basics", tmp_path / "scratch")


def test_ids_are_safe_file_names(tmp_path):
    (tmp_path / "a b&c.ipynb").write_text("{}")
    (subs,) = discover([tmp_path], "tf_basics", tmp_path / "scratch")
    assert subs.student == "a_b_c"
