"""The same class of tf_basics submissions graded by the local executor and by the Celery executor.

Usage: ``.venv/bin/python benchmarks/bench_celery.py [--students 20] [--concurrency 2] [--rounds 2] [--unsafe]``
(run it under ``flock /tmp/tf-heavy.lock`` on a shared machine).

Local: ``autograder grade --workers C``. Celery: a redis-server on a loopback port in a temporary folder,
one ``autograder worker --concurrency C`` in a folder of its own, and ``autograder grade --executor celery``.
Both grade the same notebooks (the variants of ``bench_batch_vs_nbgrader.py``, cycled over the students)
into fresh output folders, in turns (local, celery, celery, local, ...). Prints the mean wall times, their
ratio and the Celery overhead per submission, and checks that all CSVs are identical. The worker starts (and is ready) before the clock starts: a worker
fleet is up before a batch comes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_batch_vs_nbgrader import submissions  # noqa: E402

from autograder import course, release  # noqa: E402
from tests.executor.cluster import REDIS_SERVER, RedisServer, Worker, env  # noqa: E402

ASSIGNMENT = "tf_basics"
AUTOGRADER = Path(sys.executable).with_name("autograder")


def grade(inputs: Path, out: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(AUTOGRADER), "grade", ASSIGNMENT, str(inputs), "--out", str(out), *extra], env=env(), capture_output=True, text=True
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"autograder grade {' '.join(extra)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs, in turns (2: local celery celery local)")
    parser.add_argument("--unsafe", action="store_true", help="grade without the sandbox (both executors)")
    args = parser.parse_args()
    if REDIS_SERVER is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    source = course.SOURCE_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    variants = submissions(release.released_notebook(source, ASSIGNMENT), nbformat.read(source, as_version=4))
    names = sorted(variants)
    root = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    inputs = root / "uploads"
    inputs.mkdir()
    for i in range(args.students):
        nbformat.write(variants[names[i % len(names)]], inputs / f"student{i:02d}.ipynb")
    extra = ["--unsafe"] if args.unsafe else []

    # In turns, A B B A ... (--rounds pairs): a machine that speeds up or slows down during the run
    # weighs on both executors alike. The worker is up before the first clock starts and stays up.
    order = [kind for r in range(args.rounds) for kind in (("local", "celery") if r % 2 == 0 else ("celery", "local"))]
    times: dict[str, list[float]] = {"local": [], "celery": []}
    redis = RedisServer(root / "redis")
    worker = Worker(root / "machine", "bench", redis.url, course.SOURCE_DIR, concurrency=args.concurrency, visibility_timeout=1800)
    try:
        redis.start()
        worker.start()
        for i, kind in enumerate(order):
            how = ["--workers", str(args.concurrency)] if kind == "local" else ["--executor", "celery", "--broker", redis.url]
            times[kind].append(grade(inputs, root / f"{kind}-{i}", [*how, *extra]))
            print(f"  run {i + 1}/{len(order)}: {kind:6s} {times[kind][-1]:7.1f} s", flush=True)
    finally:
        worker.kill()
        redis.stop()
    csvs = {(root / f"{kind}-{i}" / "autograder-grades.csv").read_bytes() for i, kind in enumerate(order)}
    n = args.students
    local, celery = statistics.mean(times["local"]), statistics.mean(times["celery"])
    print(f"{n} {ASSIGNMENT} submissions, concurrency {args.concurrency} on {os.cpu_count()} cores{' (unsafe)' if args.unsafe else ''}")
    print(f"  local executor:  {local:7.1f} s  ({local / n:.2f} s per submission; runs {', '.join(f'{t:.1f}' for t in times['local'])})")
    print(f"  celery executor: {celery:7.1f} s  ({celery / n:.2f} s per submission; runs {', '.join(f'{t:.1f}' for t in times['celery'])})")
    print(
        f"  celery / local:  {celery / local:.3f}  (overhead {(celery - local) / n:+.2f} s, "
        f"{100 * (celery - local) / local:+.1f} % per submission)"
    )
    print(f"  grades identical in all {len(order)} runs: {len(csvs) == 1}")
    print(f"  (outputs in {root})")


if __name__ == "__main__":
    main()
