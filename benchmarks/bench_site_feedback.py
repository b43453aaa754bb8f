"""Instant feedback through the real site: from the upload to the finished feedback page.

Starts ``autograder serve`` (Uvicorn on a loopback port, sandboxed grading, one worker) over a fresh data
folder and the repository's assignments, signs a student in, and submits --count distinct copies of the
demo's full-marks notebook (``demo/<assignment>/alice.ipynb`` with a note cell numbered per copy) one after
another, each only once the previous one's page is finished (and ``--gap`` seconds more: a class's uploads
come spread out, and a worker prepares the next kernels between them). For each it times the browser's upload POST to
the moment the feedback page has been received (polling the JSON status every 50 ms), then prints p50 and
where the time goes: the server's own part (upload acknowledged -> grade stored, from the database), the
grading pipeline's steps (``Result.timings``), and, measured apart in the same sandbox, a kernel start and
``import tensorflow`` in a fresh kernel, and a worker process's start (Python and the grading stack).

TensorFlow-heavy: run it under the shared lock, once, on an otherwise idle machine:

    flock /tmp/tf-heavy.lock .venv/bin/python benchmarks/bench_site_feedback.py
    flock /tmp/tf-heavy.lock .venv/bin/python benchmarks/bench_site_feedback.py --assignments tf_basics --count 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import site_bench

ROOT = site_bench.ROOT


def notebook_copies(assignment: str, count: int) -> list[bytes]:
    import nbformat

    base = nbformat.read(ROOT / "demo" / assignment / "alice.ipynb", as_version=4)
    out = []
    for i in range(count):
        nb = nbformat.from_dict(json.loads(json.dumps(base)))
        nb.cells.append(nbformat.v4.new_markdown_cell(f"My notes, copy {i}."))  # a new file each time: graded, not deduplicated
        out.append(nbformat.writes(nb).encode())
    return out


def run_site(assignment: str, count: int, unsafe: bool, gap: float = 0.0) -> list[dict]:
    import httpx
    from sqlalchemy import select

    from autograder.site.models import Grade, Submission, default_url, open_db

    with tempfile.TemporaryDirectory(prefix=f"bench-feedback-{assignment}-") as tmp:
        data_dir = Path(tmp) / "site"
        data_dir.mkdir()
        url = default_url(data_dir)
        token = site_bench.make_accounts(url, ["alice"])["alice"]
        server = site_bench.Server(data_dir, workers=1, unsafe=unsafe)
        rows = []
        try:
            client = site_bench.signed_in(server.url, "alice", timeout=300)
            api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            for i, data in enumerate(notebook_copies(assignment, count)):
                if i:
                    time.sleep(gap)  # a class submits spread out; 0: each upload as soon as the last page is in
                start = time.perf_counter()
                r, _ = site_bench.upload_form(client, assignment, data, f"{assignment}.ipynb")
                if r.status_code != 303:
                    raise RuntimeError(f"upload {i} answered {r.status_code}: {r.text[:300]}")
                sid = int(r.headers["location"].split("?")[0].rsplit("/", 1)[-1])
                while True:
                    state = api.get(f"/api/submissions/{sid}").json()
                    if state["state"] == "graded":
                        break
                    if time.perf_counter() - start > 600:
                        raise RuntimeError(f"submission {sid} not graded within 10 minutes")
                    time.sleep(0.05)
                page = client.get(f"/submissions/{sid}/feedback")
                total = time.perf_counter() - start
                if page.status_code != 200 or "<html" not in page.text:
                    raise RuntimeError(f"feedback page of {sid}: {page.status_code}")
                rows.append({"id": sid, "total": total, "score": state["score"], "max": state["max_score"], "status": state["status"]})
                print(f"  {assignment} #{i + 1}: {total:.2f} s  ({state['score']:g}/{state['max_score']:g}, {state['status']})", flush=True)
        finally:
            server.stop()
        factory = open_db(url)
        with factory() as db:
            for row in rows:
                sub, grade = db.get(Submission, row["id"]), db.get(Grade, row["id"])
                row["server"] = (grade.graded_at - sub.created_at).total_seconds()
                row["timings"] = json.loads(grade.result_json).get("timings", {})
            assert len(db.scalars(select(Submission)).all()) == count
        factory.kw["bind"].dispose()
        return rows


def kernel_costs(repeat: int, unsafe: bool) -> tuple[float, float]:
    """Median wall seconds of runner.run on a one-cell notebook: ``pass``, and ``import tensorflow``."""
    import nbformat

    from autograder import course
    from autograder.grading import core, runner

    factory = None if unsafe else core.sandbox_factory()
    data = course.datasets_dir() if course.datasets_dir().is_dir() else None
    out = []
    for source in ("pass", "import tensorflow as tf\ntf.constant(1.0) + 1"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            ran, outcome = runner.run(nb, kernel_manager_factory=factory, data_dir=data)
            times.append(time.perf_counter() - start)
            if outcome.status != "ok" or outcome.error_cells:
                raise RuntimeError(f"the separate kernel run failed ({outcome.status}): {outcome.reason} {ran.cells[0].outputs}")
        out.append(statistics.median(times))
    return out[0], out[1]


def worker_start(repeat: int, assignment: str) -> float:
    """Median wall seconds of a fresh Python doing what a worker does before the pipeline's first step: its
    imports, the sandbox probe, loading the assignment (spec, source, release, reference values)."""
    notebook = ROOT / "demo" / assignment / "alice.ipynb"
    code = (
        "import sys; sys.modules.setdefault('rfc3987_syntax', None); "
        "import autograder.executor.worker; from autograder.grading import core; "
        f"core.make_state({str(notebook)!r}, {assignment!r}, sandbox=True)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def med(rows: list[dict], key) -> float:
    return statistics.median(key(r) for r in rows)


def report(assignment: str, rows: list[dict], kernel: float, tf_kernel: float, worker: float) -> None:
    steps = sorted({k for r in rows for k in r["timings"]})
    pipe = lambda r: sum(r["timings"].values())  # noqa: E731
    print(
        f"\n{assignment}: {len(rows)} submissions, upload -> feedback page p50 {med(rows, lambda r: r['total']):.2f} s "
        f"(min {min(r['total'] for r in rows):.2f}, max {max(r['total'] for r in rows):.2f}; first {rows[0]['total']:.2f})"
    )
    execute = med(rows, lambda r: r["timings"].get("execute", 0.0))
    print("  where the time goes (medians):")
    print(f"    HTTP upload, status polling, page fetch   {med(rows, lambda r: r['total'] - r['server']):6.2f} s")
    print(f"    server: acknowledged -> grade stored       {med(rows, lambda r: r['server']):6.2f} s, of which")
    print(
        f"      outside the pipeline (worker process,   {med(rows, lambda r: r['server'] - pipe(r)):6.2f} s   "
        f"[a worker's start, imports and loading the assignment, apart: {worker:.2f} s]"
    )
    print("        hand-back, feedback page, database)")
    for step in steps:
        value = med(rows, lambda r, s=step: r["timings"].get(s, 0.0))
        print(f"      pipeline step {step:<10}               {value:6.2f} s")
    print(
        f"      execute, split by separate runs:  kernel start ~{kernel:.2f} s, TensorFlow import ~{max(0.0, tf_kernel - kernel):.2f} s, "
        f"the notebook's cells ~{max(0.0, execute - tf_kernel):.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="+", default=["tf_basics", "signs_model"])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each separate measurement")
    parser.add_argument("--unsafe", action="store_true", help="grade without the sandbox")
    parser.add_argument("--gap", type=float, default=0.0, help="seconds between a feedback page and the next upload (0: back to back)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start; "
        f"{'unsandboxed' if args.unsafe else 'sandboxed'} grading, one worker, {args.gap:g} s between uploads"
    )
    results = {}
    for assignment in args.assignments:
        results[assignment] = run_site(assignment, args.count, args.unsafe, args.gap)
    kernel, tf_kernel = kernel_costs(args.repeat, args.unsafe)
    for assignment, rows in results.items():
        report(assignment, rows, kernel, tf_kernel, worker_start(args.repeat, assignment))
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
