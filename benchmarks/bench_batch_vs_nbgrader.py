"""Grade the same class of tf_basics submissions with plain ``nbgrader autograde`` and with ``autograder grade``.

Usage: ``.venv/bin/python benchmarks/bench_batch_vs_nbgrader.py [--students 20] [--workers N] [--kernels-ahead 0 1] [--profile]``

Both graders get the same notebooks (variants of the released notebook: the solution, the blank, the
hard-coded one and wrong answers, cycled over the students) in an nbgrader ``submitted/`` tree of a
temporary course directory whose ``source/`` is a copy of ``source_solutions/``. nbgrader grades them one
after another; ``autograder grade`` runs ``--workers`` sandboxed workers (default: the number of cores), once
for each ``--kernels-ahead`` count.
Prints both wall times, the ratio and, per variant, the scores both graders gave. ``--profile`` also
measures where one submission's time goes (Python start, ``import tensorflow``, plain and sandboxed
kernel start).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder import course  # noqa: E402

ASSIGNMENT = "tf_basics"
BIN = Path(sys.executable).parent


def load_variants():
    spec = importlib.util.spec_from_file_location("variants", REPO / "tests" / "assignments" / ASSIGNMENT / "variants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def submissions(released, source) -> dict[str, object]:
    """Variant name -> notebook: the released notebook with some solution cells filled in."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    variants = load_variants()

    def filled(replace: dict[str, str]):
        nb = copy.deepcopy(released)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = replace.get(gid, answers[gid])
        return nb

    wrong = [(gid, name, src) for gid, by_name in variants.WRONG.items() for name, src in by_name.items()]
    out = {"solution": filled({}), "blank": copy.deepcopy(released), "hardcoded": filled(variants.HARDCODED)}
    for gid, name, src in wrong[::4][:3]:  # three wrong answers from different functions
        out[f"wrong_{gid}_{name}"] = filled({gid: src})
    return out


def run(cmd, cwd=None, env=None) -> tuple[float, subprocess.CompletedProcess]:
    # nbgrader runs `alembic` from PATH: the environment's bin folder must be on it
    env = dict(env or os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, proc


def fail(what: str, proc: subprocess.CompletedProcess) -> None:
    sys.exit(f"{what} failed (exit {proc.returncode}):\n{(proc.stderr or proc.stdout)[-3000:]}")


def make_course(root: Path, students: int) -> dict[str, str]:
    """An nbgrader course in ``root`` with ``students`` submissions; returns student -> variant."""
    # The source notebook (solutions, hidden tests) only: grading.toml and reference.json are this grader's.
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy2(course.SOURCE_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "source" / ASSIGNMENT)
    for helper in course.STUDENT_HELPERS.glob("*.py"):  # released beside the notebook, as `autograder release` does
        shutil.copy2(helper, root / "source" / ASSIGNMENT / helper.name)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = 'bench'\nc.Execute.timeout = 120\n"
    )
    seconds, proc = run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force", "--create"], cwd=root)
    if proc.returncode != 0:
        fail("nbgrader generate_assignment", proc)
    print(f"nbgrader generate_assignment: {seconds:.1f} s")
    release = root / "release" / ASSIGNMENT
    released = nbformat.read(release / f"{ASSIGNMENT}.ipynb", as_version=4)
    source = nbformat.read(course.SOURCE_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    variants = submissions(released, source)
    names = sorted(variants)
    who = {}
    for i in range(students):
        student = f"student{i:02d}"
        folder = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(release, folder)  # the helper modules come with the release
        who[student] = names[i % len(names)]
        nbformat.write(variants[who[student]], folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
    return who


def nbgrader_scores(root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="bench") as gb:
        return {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def our_scores(out: Path) -> tuple[dict[str, float], dict[str, list[float]]]:
    import json

    scores, steps = {}, {}
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text())["result"]
        scores[path.stem] = result["score"]
        for step, seconds in result.get("timings", {}).items():
            steps.setdefault(step, []).append(seconds)
    return scores, steps


def profile(env: dict[str, str]) -> None:
    """Where one submission's time goes, each measured a few times (median)."""
    py = sys.executable
    probes = {
        "python start": [py, "-c", "pass"],
        "import tensorflow": [py, "-c", "import tensorflow"],
        "worker imports (grading stack)": [py, "-c", "import autograder.grading.core, autograder.grading.pipeline, nbclient"],
        "plain kernel start + stop": [py, "-c", KERNEL_PROBE, "plain"],
        "sandboxed kernel start + stop": [py, "-c", KERNEL_PROBE, "sandbox"],
        "sandboxed kernel + import tensorflow": [py, "-c", KERNEL_PROBE, "sandbox-tf"],
    }
    print("\nprofile (median of 3 runs, one at a time):")
    for label, cmd in probes.items():
        times = []
        for _ in range(3):
            seconds, proc = run(cmd, env=env)
            if proc.returncode != 0:
                fail(label, proc)
            times.append(seconds)
        print(f"  {label:40s} {statistics.median(times):6.2f} s")


# Starts one kernel (plain or sandboxed), runs a cell, shuts it down.
KERNEL_PROBE = """
import sys, tempfile
from pathlib import Path
from jupyter_client.manager import KernelManager
from autograder import config
from autograder.grading import sandbox
mode = sys.argv[1]
work = Path(tempfile.mkdtemp())
km = (sandbox.kernel_manager(work, None, config.Limits(), asynchronous=False)
      if mode.startswith("sandbox") else KernelManager(kernel_name="python3"))
km.start_kernel(cwd=str(work)) if not mode.startswith("sandbox") else km.start_kernel()
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=120)
kc.execute_interactive("import tensorflow" if mode.endswith("tf") else "1", timeout=120)
kc.stop_channels(); km.shutdown_kernel(now=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--kernels-ahead", type=int, nargs="+", default=[0, 1], help="run ours once with each")
    parser.add_argument("--profile", action="store_true", help="also measure where one submission's time goes")
    parser.add_argument("--keep", type=Path, help="build the course here and keep it (default: a temporary folder)")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    root.mkdir(parents=True, exist_ok=True)
    # Quiet TensorFlow for both graders: nbgrader fails a test cell that writes to stderr.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    try:
        who = make_course(root, args.students)
        print(
            f"{args.students} submissions ({len(set(who.values()))} variants), {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}"
        )

        t_nbg, proc = run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"], cwd=root, env=env)
        if proc.returncode != 0:
            fail("nbgrader autograde", proc)
        print(f"nbgrader autograde:       {t_nbg:7.1f} s  ({t_nbg / args.students:.1f} s per submission, one at a time)")

        for ahead in args.kernels_ahead:
            out = root / f"autograder-out-{ahead}"
            t_ours, proc = run(
                [str(BIN / "autograder"), "grade", ASSIGNMENT, str(root / "submitted"), "--out", str(out)]
                + ["--workers", str(args.workers), "--kernels-ahead", str(ahead)],
                env=env,
            )
            if proc.returncode != 0:
                fail("autograder grade", proc)
            print(f"autograder grade:         {t_ours:7.1f} s  ({args.workers} workers, sandboxed, {ahead} kernels ahead each)")
            print(f"ratio (nbgrader / ours):  {t_nbg / t_ours:7.2f}x")

        theirs = nbgrader_scores(root)
        ours, steps = our_scores(out)
        print("\nscores per variant (nbgrader | autograder, of 23):")
        for variant in sorted(set(who.values())):
            students = [s for s, v in who.items() if v == variant]
            a = sorted({theirs.get(s) for s in students}, key=str)
            b = sorted({ours.get(s) for s in students}, key=str)
            print(f"  {variant:40s} {a} | {b}")
        print("\nautograder pipeline steps (mean s per submission, inside a worker):")
        for step, values in steps.items():
            print(f"  {step:10s} {statistics.mean(values):6.2f}")
        if args.profile:
            profile(env)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
