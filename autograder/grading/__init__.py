"""Grading one submission: ``from autograder.grading.core import grade``.

Modules: ``spec`` (grading.toml), ``runner`` (execution with limits), ``records`` (reading recorded values),
``compare`` (comparators), ``pipeline`` (the named steps), ``result`` (the Result dataclasses), ``core``
(``grade`` and the ``grade-one`` CLI), ``sandbox`` (the bubblewrap kernel manager). Nothing is imported
here, so importing one module stays cheap.
"""
