"""The report layer: what the batch grader writes after grading a class.

* ``write_gradebook(db_url, spec, results)``: scores into nbgrader's gradebook (``nbgrader export`` works);
* ``nbgrader_course.write_course(out, spec, results, uploads, timestamps, db_url=...)``: the folder around it
  that formgrader and ``nbgrader generate_feedback`` need (autograded notebooks without hidden tests);
* ``write_grades_csv(path, spec, results)``: grades.csv, one row per student;
* ``write_feedback(path, spec, result, reference_values=None, curves=None)``: a student's HTML page;
* ``write_instructor_summary(path, spec, results)``: the instructor's HTML page (with tampering notes).

``results`` maps student id -> ``autograder.grading.result.Result``. Errors a user can cause (bad path, bad
database URL) raise ``ReportError`` with a readable message.
"""

from autograder.report.common import ReportError
from autograder.report.csv_export import write_grades_csv
from autograder.report.feedback import write_feedback, write_instructor_summary
from autograder.report.gradebook import write_gradebook

__all__ = ["ReportError", "write_gradebook", "write_grades_csv", "write_feedback", "write_instructor_summary"]
