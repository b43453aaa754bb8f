"""Course autograder: data, release, reference values and grading."""

from autograder._startup import defer_slow_imports

defer_slow_imports()
