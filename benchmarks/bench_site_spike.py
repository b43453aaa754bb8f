"""The deadline spike: --submissions uploads from --students students within --window seconds, while
--browsers other students browse the book, the assignment list and their status pages.

Everything runs on this machine over loopback: ``autograder serve`` (sandboxed grading, --workers worker
processes) over a fresh data folder, and this load generator (threads, one HTTP client per student). It is
bounded: at most --submissions uploads, every request has a timeout, and the run ends at the latest
--max-drain seconds after the last upload, graded or not.

Each submitting student signs in before the clock starts, then at moments drawn at random (seeded) within
the window uploads through the browser's form (the submit request: the multipart POST, answered with a
redirect once the file and its row are stored), and polls their status page every 2 s (as the page itself
refreshes) until it shows graded, then opens the feedback page. Browsing students loop over the book's front
page (when built, --book), the assignment list, the assignment page and a status page, with a 1 s pause.

By default the assignment is the toy course (numpy only, ~2 s per notebook): 300 tf_basics notebooks would
hold the machine's two cores for a quarter of an hour. The script prints the toy's grading rate and, with
--per-notebook S (seconds of one worker per tf_basics notebook, from bench_site_feedback.py), what the
queue's drain would take for that assignment at the same worker count.

    .venv/bin/python benchmarks/bench_site_spike.py                       # toy, SQLite
    .venv/bin/python benchmarks/bench_site_spike.py --postgres            # toy, a throwaway PostgreSQL server
    .venv/bin/python benchmarks/bench_site_spike.py --submissions 30 --students 10 --window 10   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import site_bench

BOOK = site_bench.ROOT / "_build" / "html"


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def add_server(self, kind: str, response) -> None:
        seconds = site_bench.server_seconds(response)
        if seconds is not None:
            self.add(f"{kind} (server)", seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def timed_get(client, stats: Stats, kind: str, url: str, ok=(200,)):
    start = time.perf_counter()
    try:
        r = client.get(url)
    except Exception as exc:  # a timeout or a refused connection is a failed request, counted
        stats.error(f"{kind} {url}: {type(exc).__name__}")
        return None
    stats.add(kind, time.perf_counter() - start)
    stats.add_server(kind, r)
    if r.status_code not in ok:
        stats.error(f"{kind} {url}: HTTP {r.status_code}")
        return None
    return r


def student(
    login: str,
    clients: dict,
    files: list[bytes],
    moments: list[float],
    t0: float,
    stats: Stats,
    done: dict,
    assignment: str,
    stop: threading.Event,
) -> None:
    client = clients[login]
    pending = []
    try:
        for data, at in sorted(zip(files, moments, strict=True), key=lambda x: x[1]):
            while time.monotonic() < t0 + at and not stop.is_set():
                _poll(client, pending, stats, done, stop, until=t0 + at)
            if stop.is_set():
                return
            try:
                r, seconds = site_bench.upload_form(client, assignment, data, f"{assignment}.ipynb")
            except Exception as exc:
                stats.error(f"submit {login}: {type(exc).__name__}")
                continue
            stats.add("submit", seconds)
            stats.add_server("submit", r)
            if r.status_code != 303:
                stats.error(f"submit {login}: HTTP {r.status_code}")
                continue
            pending.append(r.headers["location"].split("?")[0])
            with stats.lock:
                done["submitted"] += 1
        while pending and not stop.is_set():
            _poll(client, pending, stats, done, stop, until=time.monotonic() + 2)
    finally:
        client.close()


def _poll(client, pending: list[str], stats: Stats, done: dict, stop: threading.Event, until: float) -> None:
    """Look at each pending status page once (then the feedback of those graded), then wait until ``until`` (2 s at most)."""
    for url in list(pending):
        r = timed_get(client, stats, "status", url)
        if r is not None and re.search(r'id="state">graded<', r.text):
            pending.remove(url)
            if timed_get(client, stats, "feedback", url + "/feedback") is not None:
                with stats.lock:
                    done["seen graded"] += 1
    stop.wait(max(0.0, min(2.0, until - time.monotonic())))


def browser(client, stats: Stats, stop: threading.Event, book: bool, assignment: str) -> None:
    try:
        own = None
        while not stop.is_set():
            if book:
                timed_get(client, stats, "book", "/")
            timed_get(client, stats, "assignments", "/assignments")
            page = timed_get(client, stats, "assignment page", f"/assignments/{assignment}")
            if page is not None and own is None:
                found = re.search(r'href="(/submissions/\d+)"', page.text)
                own = found.group(1) if found else None
            if own:
                timed_get(client, stats, "status", own)
            stop.wait(1.0)
    finally:
        client.close()


def notebooks(assignment: str, source: Path, count: int) -> list[bytes]:
    """``count`` distinct notebooks: solved, wrong and blank ones in turn, each with its own note cell."""
    import nbformat

    if assignment == "toy":
        from tests import toy_course
        from tests.site import toy_site

        folder = source / "toy"
        wrong = toy_site.wrong(folder)
        kinds = [toy_course.solved(folder), wrong, toy_course.blank(folder)]
    else:
        demo = site_bench.ROOT / "demo" / assignment
        kinds = [nbformat.read(demo / f"{who}.ipynb", as_version=4) for who in ("alice", "bob")]
    out = []
    for i in range(count):
        nb = nbformat.reads(nbformat.writes(kinds[i % len(kinds)]), as_version=4)  # a copy
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Notes, version {i}."))
        out.append(nbformat.writes(nb).encode())
    return out


def run(args) -> int:
    from sqlalchemy import func, select

    from autograder.site.models import Grade, Submission, default_url, open_db

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-spike-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        if args.assignment == "toy":
            source, release = site_bench.make_course(root)
        else:
            source, release = None, None
        data_dir = root / "site"
        data_dir.mkdir()
        db_url = None
        if args.postgres:
            from tests.site import pg_server

            pg = stack.enter_context(pg_server.Server())
            db_url = pg.create_database("spike")
        url = db_url or default_url(data_dir)
        submitters = [f"s{i:03d}" for i in range(args.students)]
        browsers = [f"b{i:03d}" for i in range(args.browsers)]
        print(f"making {len(submitters) + len(browsers)} accounts ...", flush=True)
        site_bench.make_accounts(url, submitters + browsers)
        files = notebooks(args.assignment, source or site_bench.ROOT / "source_solutions", args.submissions)
        # who submits what when: every student at least once, the rest at random, moments uniform in the window
        owners = [submitters[i % len(submitters)] for i in range(args.submissions)]
        rng.shuffle(owners)
        plan: dict[str, tuple[list[bytes], list[float]]] = {s: ([], []) for s in submitters}
        for data, who in zip(files, owners, strict=True):
            plan[who][0].append(data)
            plan[who][1].append(rng.uniform(0, args.window))
        book = args.book if args.book and (args.book / "index.html").is_file() else None
        server = site_bench.Server(data_dir, source=source, release=release, workers=args.workers, db_url=db_url, book=book)
        stack.callback(server.stop)
        stats, done, stop = Stats(), {"submitted": 0, "seen graded": 0}, threading.Event()
        print(
            f"server at {server.url} ({'PostgreSQL' if db_url else 'SQLite'}, {args.workers} workers, sandboxed); "
            f"signing in {len(submitters) + len(browsers)} students ...",
            flush=True,
        )
        # Everyone signs in before the clock starts, one after another: the sign-in limiter counts the attempts
        # in flight per address, and every client here comes from 127.0.0.1.
        clients = {login: site_bench.signed_in(server.url, login) for login in submitters + browsers}
        t0 = time.monotonic() + 2
        threads = [
            threading.Thread(target=student, args=(s, clients, *plan[s], t0, stats, done, args.assignment, stop), daemon=True)
            for s in submitters
        ]
        threads += [
            threading.Thread(target=browser, args=(clients[b], stats, stop, book is not None, args.assignment), daemon=True)
            for b in browsers
        ]
        for t in threads:
            t.start()
        factory = open_db(url)

        def graded() -> int:
            with factory() as db:
                return db.scalar(select(func.count()).select_from(Grade))

        deadline = t0 + args.window + args.max_drain
        last_print, depth = 0.0, []
        while time.monotonic() < deadline:
            n = graded()
            now = time.monotonic()
            with factory() as db:
                waiting = db.scalar(select(func.count(Submission.id)).where(Submission.state != "graded"))
            if now > t0:
                depth.append((now - t0, waiting))
            if now - last_print > 10:
                print(
                    f"  t={now - t0:6.1f} s  submitted {done['submitted']:3d}  graded {n:3d}  waiting {waiting:3d}  "
                    f"errors {len(stats.errors)}",
                    flush=True,
                )
                last_print = now
            if (
                now > t0 + args.window
                and done["submitted"] + len([e for e in stats.errors if e.startswith("submit")]) >= args.submissions
                and n >= done["submitted"]
            ):
                break
            time.sleep(0.5)
        drained = time.monotonic() - t0
        all_graded = graded()
        stop_students = time.monotonic() + 10  # let the students see their last pages
        while time.monotonic() < stop_students and done["seen graded"] < all_graded:
            time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        with factory() as db:
            stored = db.scalar(select(func.count(Submission.id)))
            first, last = db.execute(select(func.min(Submission.created_at), func.max(Submission.created_at))).one()
            graded_first, graded_last = db.execute(select(func.min(Grade.graded_at), func.max(Grade.graded_at))).one()
        factory.kw["bind"].dispose()
        load = os.getloadavg()
        print(
            f"\n{args.assignment}: {stored} submissions stored ({done['submitted']} acknowledged) from {args.students} students, "
            f"uploads spread over {(last - first).total_seconds():.1f} s; {args.browsers} browsing clients; "
            f"{args.workers} grading workers; {'PostgreSQL' if db_url else 'SQLite'}"
        )
        print(
            f"  graded {all_graded}/{stored}; queue empty {drained:.1f} s after the window opened "
            f"({drained - args.window:+.1f} s after it closed); max depth {max((d for _, d in depth), default=0)}"
        )
        if graded_first and graded_last and all_graded > 1:
            rate = (all_graded - 1) / max(1e-9, (graded_last - graded_first).total_seconds())
            print(f"  grading rate {rate:.2f} notebooks/s ({args.workers / rate:.2f} worker-seconds per notebook)")
            if all_graded < stored:
                print(
                    f"  not drained within --max-drain: at that rate the other {stored - all_graded} would take "
                    f"{(stored - all_graded) / rate:.0f} s more (queue empty ~{drained + (stored - all_graded) / rate:.0f} s after the window opened)"
                )
            if args.per_notebook:
                est = args.submissions * args.per_notebook / args.workers
                print(
                    f"  extrapolated: {args.submissions} notebooks at {args.per_notebook:.1f} worker-seconds each on {args.workers} "
                    f"workers drain in about {est / 60:.0f} min (grading alone, the web side as measured here)"
                )
        # as the clients saw it, then the server's own share (Server-Timing): the clients share the cores
        for kind in ("submit", "status", "feedback", "assignments", "assignment page", "book"):
            for key in (kind, f"{kind} (server)"):
                if key in stats.times:
                    print(f"  {key:<25} {site_bench.summary(stats.times[key])}")
        print(f"  failed requests: {len(stats.errors)}" + (f" (first: {stats.errors[:5]})" if stats.errors else ""))
        print(
            f"  load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (load generator and server share {os.cpu_count()} cores)"
        )
        return 0 if not stats.errors and all_graded == stored == args.submissions else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="toy", help="toy (default), or a repository assignment (tf_basics: slow)")
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the uploads are spread")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-drain", type=float, default=1800.0, help="give up this long after the window")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server instead of SQLite")
    parser.add_argument("--book", type=Path, default=BOOK)
    parser.add_argument("--per-notebook", type=float, default=0.0, help="worker-seconds per notebook to extrapolate to")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.submissions < args.students:
        parser.error("every student submits at least once: --submissions >= --students")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
