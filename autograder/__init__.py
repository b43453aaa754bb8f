"""Course autograder: data, release, reference values and grading."""
