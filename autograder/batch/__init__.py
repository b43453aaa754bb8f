"""Instructor-scale grading: find submissions, grade them in parallel worker processes, resume."""
