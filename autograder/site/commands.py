"""CLI handlers of ``autograder serve``, ``autograder roster ...`` and ``autograder instructor add``."""

from __future__ import annotations

import csv
import logging

from autograder import config
from autograder.errors import UsageError
from autograder.site import accounts
from autograder.site.models import default_url, open_db

log = logging.getLogger(__name__)


def _factory(site: config.SiteFiles):
    site.data_dir.mkdir(parents=True, exist_ok=True)
    return open_db(site.db_url or default_url(site.data_dir))


def settings_of(cmd: config.Serve):
    from autograder.executor.job import Priority
    from autograder.site.settings import SiteSettings

    book = cmd.book if cmd.book is not None and (cmd.book / "index.html").is_file() else None
    return SiteSettings(
        data_dir=cmd.site.data_dir,
        db_url=cmd.site.db_url,
        source_dir=cmd.source_dir,
        release_dir=cmd.release_dir,
        book_dir=book,
        base_url=cmd.site.base_url,
        max_upload_mb=cmd.max_upload_mb,
        grading_workers=cmd.workers,
        kernels_ahead=cmd.kernels_ahead,
        grading_priority=Priority(cmd.grading_priority),
        page_threads=cmd.page_threads,
        sandbox=not cmd.unsafe,
        limits=cmd.limits,
        worker_memory_mb=cmd.worker_memory_mb or None,
    )


def _freeze_heap() -> None:
    """Keep what is alive at start (modules, templates, the app) out of the garbage collector's full passes.

    A full pass walks every tracked object in the process and stops every thread meanwhile. With the
    grading, reporting and database stacks imported, each one took 200-420 ms and found nothing to free (13
    of them in one deadline spike): those were the slowest pages. Frozen objects are never walked again; the
    modules imported late anyway (matplotlib for the plots) are imported first.
    """
    import gc

    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    gc.collect()
    gc.freeze()


def serve(cmd: config.Serve) -> int:
    import uvicorn

    from autograder.site.app import create_app

    if not cmd.unsafe:
        from autograder.grading import sandbox

        sandbox.check()
    settings = settings_of(cmd)
    app = create_app(settings)
    site = app.state.site
    offered = site.offered
    if not offered:
        raise UsageError(f"no assignment can be served from {cmd.source_dir} and {cmd.release_dir} (run `autograder release`)")
    if cmd.demo:
        from autograder.site import demo

        print("\n".join(demo.load_demo(site.factory, settings.blobs, offered, settings.base_url)), flush=True)
    print(
        f"serving {', '.join(sorted(offered))} at http://{cmd.host}:{cmd.port} (students open {settings.base_url}); "
        f"data in {settings.data_dir}",
        flush=True,
    )
    _freeze_heap()
    uvicorn.run(app, host=cmd.host, port=cmd.port, log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return 0


def run(cmd) -> int:
    if isinstance(cmd, config.Serve):
        return serve(cmd)
    action = cmd.action
    factory = _factory(action.site)
    base = action.site.base_url
    if isinstance(action, config.RosterImport):
        people = accounts.read_roster(action.csv)
        made = accounts.import_roster(factory, people, action.days)
        created = sum(1 for *_, new in made if new)
        print(f"{len(made)} students ({created} new, {len(made) - created} updated); sign-in links, valid {action.days:g} days, each once:")
        for person, token, _ in made:
            print(f"  {person.login}\t{accounts.link_url(base, token)}")
        if action.out is not None:
            with open(action.out, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["id", "name", "email", "link"])
                for person, token, _ in made:
                    writer.writerow([person.login, person.name, person.email, accounts.link_url(base, token)])
            action.out.chmod(0o600)
            print(f"links written to {action.out}")
        return 0
    if isinstance(action, config.RosterLink):
        for login in action.logins:
            print(f"  {login}\t{accounts.link_url(base, accounts.new_link(factory, login, action.days))}")
        return 0
    if isinstance(action, config.RosterRemove):
        for login in action.logins:
            accounts.remove_user(factory, login)
            print(f"removed {login}")
        return 0
    if isinstance(action, config.InstructorAdd):
        token = accounts.add_instructor(factory, action.login, action.name, action.email, action.days)
        print(f"instructor {action.login}: sign-in link (valid {action.days:g} days, once):\n  {accounts.link_url(base, token)}")
        return 0
    if isinstance(action, (config.ExtensionGrant, config.ExtensionRevoke, config.ExtensionList)):
        return _extension(action, factory)
    if isinstance(action, config.InstructorList):
        for login, name, active in accounts.instructors(factory):
            print(f"  {login}\t{name}{'' if active else '  (removed)'}")
        return 0
    raise AssertionError(f"no handler for {type(action).__name__}")


def _extension(action, factory) -> int:
    from autograder.site import extensions, rules

    course = rules.load(action.source_dir, known={p.parent.name for p in action.source_dir.glob("*/grading.toml")})
    if isinstance(action, config.ExtensionList):
        for login, assignment, deadline, by in extensions.listing(factory, action.assignment):
            print(f"  {login}\t{assignment}\t{course.show(deadline)}\t{by}")
        return 0
    if isinstance(action, config.ExtensionRevoke):
        gone = extensions.revoke(factory, action.login, action.assignment)
        print(f"{action.login}: {'extension of ' + action.assignment + ' removed' if gone else 'had no extension of ' + action.assignment}")
        return 0
    until = extensions.parse_until(course, action.assignment, action.until, action.days)
    extensions.grant(factory, course, action.login, action.assignment, until, by="command line")
    print(f"{action.login}: {action.assignment} is due {course.show(until)}")
    return 0
