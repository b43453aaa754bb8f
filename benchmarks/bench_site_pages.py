"""What one page costs the server: CPU milliseconds and the server's own time per request, page by page.

A deadline spike is bounded by this: the web process answers every page under one interpreter lock, so its
CPU time per request decides how many pages a second it can serve before requests wait for one another.
This starts ``autograder serve`` on the toy course (loopback, one grading worker), signs one student in,
has one submission graded and one left queued behind a paused worker, then asks each page --count times,
one request after another, and prints for each page the server's time (Server-Timing, p50 and p95) and the
server process's CPU time per request (user + system, from /proc, the grading workers not included).

    .venv/bin/python benchmarks/bench_site_pages.py
    .venv/bin/python benchmarks/bench_site_pages.py --count 500
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path

import site_bench


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(server_pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == server_pid:
                out.append(int(entry.name))
    return out


def measure(client, pid: int, url: str, count: int, headers: dict) -> tuple[list[float], float]:
    client.get(url, headers=headers)  # warm: templates compiled, caches filled
    times = []
    before = cpu_seconds(pid)
    for _ in range(count):
        r = client.get(url, headers=headers)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {r.status_code}")
        times.append(site_bench.server_seconds(r) or float("nan"))
    return times, (cpu_seconds(pid) - before) / count


def run(args) -> int:
    from bench_site_spike import notebooks

    from autograder.site.models import default_url

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        root = Path(tmp)
        source, release = site_bench.make_course(root)
        data_dir = root / "site"
        data_dir.mkdir()
        token = site_bench.make_accounts(default_url(data_dir), ["alice"])["alice"]
        book = args.book if args.book and (args.book / "index.html").is_file() else None
        server = site_bench.Server(data_dir, source=source, release=release, workers=1, book=book)
        try:
            client = site_bench.signed_in(server.url, "alice")
            first, second = notebooks("toy", source, 2)
            r, _ = site_bench.upload_form(client, "toy", first, "first.ipynb")
            graded_url = r.headers["location"]
            deadline = time.monotonic() + 120
            while 'class="total"' not in client.get(graded_url).text:
                if time.monotonic() > deadline:
                    raise RuntimeError("the first submission was not graded within two minutes")
                time.sleep(0.2)
            # A second submission held queued: the grading worker is stopped (SIGSTOP) while it waits.
            workers = worker_pids(server.proc.pid)
            for w in workers:
                os.kill(w, signal.SIGSTOP)
            try:
                r, _ = site_bench.upload_form(client, "toy", second, "second.ipynb")
                queued_url = r.headers["location"]
                pages = [
                    ("status, graded", graded_url),
                    ("status, queued", queued_url),
                    ("feedback", f"{graded_url}/feedback"),
                    ("assignment list", "/assignments"),
                    ("assignment page", "/assignments/toy"),
                    ("JSON status", f"/api{queued_url}"),
                ]
                if book:
                    pages.append(("book front page", "/"))
                print(f"{args.count} requests per page, one at a time; server {server.url}, SQLite")
                print(f"  {'page':<18} {'server p50':>11} {'server p95':>11} {'CPU/request':>12}")
                for name, url in pages:
                    headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
                    times, cpu = measure(client, server.proc.pid, url, args.count, headers)
                    print(
                        f"  {name:<18} {site_bench.pct(times, 50) * 1000:>8.1f} ms {site_bench.pct(times, 95) * 1000:>8.1f} ms"
                        f" {cpu * 1000:>9.1f} ms"
                    )
            finally:
                for w in workers:
                    os.kill(w, signal.SIGCONT)
            client.close()
        finally:
            server.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--book", type=Path, default=site_bench.ROOT / "_build" / "html")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
