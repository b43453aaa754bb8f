"""The command line: generated from the typed config in ``autograder/config.py``.

Each subcommand is a thin layer over one library function; the handlers are imported lazily so that
``--help`` stays fast (TensorFlow is never imported here).
"""

from __future__ import annotations

import logging
import sys

import tyro
from tyro.conf import OmitArgPrefixes

from autograder import config
from autograder.errors import AutograderError

log = logging.getLogger("autograder")


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
    if isinstance(cmd, (config.Serve, config.Roster, config.Instructor, config.ExtensionCmd)):
        from autograder.site import commands

        return commands.run(cmd)
    if isinstance(cmd, config.Site):
        from autograder.site import backup

        return backup.run(cmd)
    if isinstance(cmd, config.Submit):
        from autograder.site import client

        return client.run(cmd)
    if isinstance(cmd, config.Worker):
        from autograder.executor import celery

        return celery.run_worker(cmd)
    raise AssertionError(f"no handler for {type(cmd).__name__}")


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    root = logging.getLogger("autograder")
    if not any(getattr(h, "_autograder", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._autograder = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # -v / --verbose anywhere on the line: more of the log (-vv: debug)
    verbose = sum(2 if a == "-vv" else 1 for a in args if a in ("-v", "--verbose", "-vv"))
    args = [a for a in args if a not in ("-v", "--verbose", "-vv")]
    _setup_logging(verbose)
    cmd = tyro.cli(
        config.Command,
        args=args,
        prog="autograder",
        description="Course autograder: build data, release assignments, record reference values, grade. "
        "Add -v (or -vv) anywhere for a more detailed log on stderr.",
        config=(OmitArgPrefixes,),
    )
    try:
        return int(_dispatch(cmd) or 0)
    except AutograderError as exc:
        # The one place where errors are printed; -v adds the trace.
        print(f"error: {exc}", file=sys.stderr)
        log.debug("trace of the error above", exc_info=exc) if verbose < 1 else log.info("trace", exc_info=exc)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
