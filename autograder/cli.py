"""The command line: generated from the typed config in ``autograder/config.py``.

Each subcommand is a thin layer over one library function; the handlers are imported lazily so that
``--help`` stays fast (TensorFlow is never imported here).
"""
from __future__ import annotations

import sys

import tyro
from tyro.conf import OmitArgPrefixes

from autograder import config


def _dispatch(cmd) -> int:
    if isinstance(cmd, config.Data):
        from autograder.data import signs

        if isinstance(cmd.action, config.DataBuild):
            return signs.run_build(cmd.action)
        return signs.run_verify(cmd.action)
    if isinstance(cmd, config.Release):
        from autograder import release

        return release.run(cmd)
    if isinstance(cmd, config.Reference):
        from autograder import reference

        return reference.run(cmd.action)
    if isinstance(cmd, config.GradeOne):
        from autograder.grading import core

        return core.run_grade_one(cmd)
    if isinstance(cmd, config.Grade):
        from autograder.batch import batch

        return batch.run(cmd)
    raise AssertionError(f"no handler for {type(cmd).__name__}")


def main(argv: list[str] | None = None) -> int:
    cmd = tyro.cli(
        config.Command,
        args=argv,
        prog="autograder",
        description="Course autograder: build data, release assignments, record reference values, grade.",
        config=(OmitArgPrefixes,),
    )
    return int(_dispatch(cmd) or 0)


if __name__ == "__main__":
    sys.exit(main())
