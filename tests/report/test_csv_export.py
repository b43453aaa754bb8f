"""grades.csv as an instructor opens it: one row per student, a column per function, total, status, reasons."""

from __future__ import annotations

import csv
import dataclasses
import os

import pytest

from autograder.report import ReportError, write_grades_csv


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_one_row_per_student_with_group_scores_total_and_status(tmp_path, toy, result_of):
    results = {
        "bob": result_of({"scale.hidden": "wrong values", "draw_rates.sample": "x", "draw_rates.repeat": "y"}),
        "alice": result_of(),
        "carol": result_of(
            {c.name: "not recorded" for c in toy.checks() if not c.name.startswith("scale.")},
            status="incomplete",
            reasons=["the kernel died (out of memory, a crash or an exit call) (at cell 7)"],
        ),
    }
    path = write_grades_csv(tmp_path / "grades.csv", toy, results)
    rows = read(path)
    assert rows[0] == ["student", "scale", "draw_rates", "count_positive", "total", "max", "status", "reasons"]
    assert rows[1:] == [
        ["alice", "3", "5", "2", "10", "10", "graded", ""],
        ["bob", "2", "3", "2", "7", "10", "graded", ""],
        ["carol", "3", "0", "0", "3", "10", "incomplete", "the kernel died (out of memory, a crash or an exit call) (at cell 7)"],
    ]


def test_reasons_are_one_short_line(tmp_path, toy, result_of):
    long = "cell 3 printed more than 1024 KiB;\n the rest was cut " + "x" * 1000
    write_grades_csv(tmp_path / "g.csv", toy, {"a": result_of(reasons=["first\nreason", long])})
    reasons = read(tmp_path / "g.csv")[1][-1]
    assert reasons.startswith("first reason; cell 3 printed more than 1024 KiB; the rest was cut x")
    assert "\n" not in reasons and len(reasons) <= 300 and reasons.endswith("...")


def test_fractional_scores_and_duplicate_titles(tmp_path, toy, result_of):
    # Two groups with one title get their grade_id in the header, so columns stay distinguishable.
    groups = list(toy.groups)
    groups[1] = dataclasses.replace(groups[1], title="scale")
    spec = dataclasses.replace(toy, groups=tuple(groups))
    r = result_of()
    r.groups[0].score, r.score = 2.5, 9.5
    write_grades_csv(tmp_path / "g.csv", spec, {"a": r})
    header, row = read(tmp_path / "g.csv")
    assert header[1:3] == ["scale (scale_tests)", "scale (draw_rates_tests)"]
    assert row[1] == "2.5" and row[4] == "9.5"


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path, toy, result_of):
    write_grades_csv(tmp_path / "g.csv", toy, {'=HYPERLINK("http://x")': result_of(reasons=["@SUM(A1)"])})
    row = read(tmp_path / "g.csv")[1]
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[-1] == "'@SUM(A1)"


def test_rewrite_replaces_the_file_and_leaves_no_temporary_file(tmp_path, toy, result_of):
    write_grades_csv(tmp_path / "g.csv", toy, {"a": result_of(), "b": result_of()})
    write_grades_csv(tmp_path / "g.csv", toy, {"a": result_of({"scale.visible": "x"})})
    assert [r[0] for r in read(tmp_path / "g.csv")] == ["student", "a"]
    assert os.listdir(tmp_path) == ["g.csv"]


def test_unwritable_path_is_a_clear_error_and_leaves_nothing(tmp_path, toy, result_of):
    (tmp_path / "grades.csv").mkdir()  # a folder where the file should go
    with pytest.raises(ReportError, match="cannot write .*grades.csv"):
        write_grades_csv(tmp_path / "grades.csv", toy, {"a": result_of()})
    assert os.listdir(tmp_path) == ["grades.csv"]
    assert os.listdir(tmp_path / "grades.csv") == []


def test_results_of_another_assignment_are_refused(tmp_path, toy, result_of):
    r = result_of()
    r.assignment = "softmax"
    with pytest.raises(ReportError, match="softmax"):
        write_grades_csv(tmp_path / "g.csv", toy, {"a": r})
    assert not (tmp_path / "g.csv").exists()


def test_uploads_that_are_not_notebooks_get_empty_scores_so_averages_leave_them_out(tmp_path, toy, result_of):
    results = {
        "alice": result_of(),
        "carol": result_of(
            {c.name: "not graded" for c in toy.checks()}, status="rejected", reasons=["not a notebook: carol.pdf is a PDF document"]
        ),
    }
    rows = read(write_grades_csv(tmp_path / "g.csv", toy, results, unscored={"carol"}))
    assert rows[1] == ["alice", "3", "5", "2", "10", "10", "graded", ""]
    assert rows[2] == ["carol", "", "", "", "", "10", "rejected", "not a notebook: carol.pdf is a PDF document"]
