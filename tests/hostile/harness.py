"""What the hostile suites share: a class of attacks written as notebooks, one batch over it, and the checks
an instructor would make afterwards (files left unchanged, no sandbox process left running)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import os
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import attacks
import nbformat

from autograder import course
from autograder.batch.batch import RESULTS
from autograder.grading import sandbox

AUTOGRADER = Path(sys.executable).with_name("autograder")
HONEST = {"honest_blank", "solution"}
# Files a submission could plant in the Python environment; they must never appear.
PLANTED = [Path(sysconfig.get_paths()["purelib"]) / name for name in ("sitecustomize.py", "usercustomize.py")]


def tree_digest(paths) -> dict[str, str]:
    digests = {}
    for root in paths:
        files = sorted(p for p in Path(root).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files or [Path(root)]:
            digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"
    return digests


def live_uids(uids: set[int]) -> list[tuple[int, int]]:
    """(pid, uid) of running processes whose real uid is in ``uids``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as fh:
                    uid = next(int(line.split()[1]) for line in fh if line.startswith("Uid:"))
            except (OSError, StopIteration, ValueError):
                continue
            if uid in uids:
                found.append((int(entry.name), uid))
    return found


class SolutionServer(http.server.ThreadingHTTPServer):
    """Serves the solution code on the loopback and counts the requests it gets."""

    def __init__(self, code: str):
        self.code, self.requests = code.encode(), 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):  # noqa: N805
                self.requests += 1
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(self.code)))
                handler.end_headers()
                handler.wfile.write(self.code)

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/solution.py"


def solution_code(spec) -> str:
    """The source notebook's imports and solution cells: what a leak of the solution would hand over."""
    source = nbformat.read(spec.notebook_path, as_version=4)
    meta = [(c, c.get("metadata", {}).get("nbgrader", {})) for c in source.cells]
    return "\n\n".join(c.source for c, m in meta if m.get("solution") or m.get("grade_id") == "imports")


@contextlib.contextmanager
def serving(code: str):
    srv = SolutionServer(code)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def write_class(folder: Path, env: attacks.Env, names, blank, solved=None) -> None:
    """The attacks ``names`` built from ``blank``, and (given ``solved``) the blank itself and ``solved``, as
    notebooks in ``folder``."""
    folder.mkdir()
    for name in names:
        nbformat.write(attacks.build(name, blank, env), folder / f"{name}.ipynb")
    if solved is not None:
        nbformat.write(blank, folder / "honest_blank.ipynb")
        nbformat.write(solved, folder / "solution.ipynb")


def grade(assignment: str, subs: Path, out: Path, limits, *extra: str, env=None, timeout=1400, workers=2) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AUTOGRADER), "grade", assignment, str(subs), "--out", str(out), "--workers", str(workers), *limits, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def read_results(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text())["result"] for p in sorted((out / RESULTS).glob("*.json"))}


def sandboxed_batch(
    root: Path, assignment: str, env: attacks.Env, names, blank, solved, limits, guarded, server, timeout=1400, workers=2
) -> dict:
    """Grade the class in one sandboxed ``autograder grade``; return what the tests look at.

    The batch gets a private temporary folder: the workers' run folders and the sandbox-uid lock files land
    there, so the uids this batch used can be told apart from those of other sandboxes on the machine, and
    a run folder left behind is seen.
    """
    subs, out, tmp = root / "submissions", env.out, root / "tmp"
    tmp.mkdir()
    write_class(subs, env, names, blank, solved)
    before = tree_digest(list(guarded) + PLANTED)
    requests_before = server.requests
    started = time.monotonic()
    proc = grade(assignment, subs, out, limits, env=dict(os.environ, TMPDIR=str(tmp)), timeout=timeout, workers=workers)
    seconds = time.monotonic() - started
    uids = {sandbox.UID_BASE + int(p.stem) for p in tmp.glob("autograder-sandbox-uids-*/*.lock")}
    results = read_results(out)
    print(f"\nhostile batch ({assignment}): {len(results)} results in {seconds:.0f} s with {workers} workers")
    for name, result in results.items():
        first = (result["reasons"] or [{"text": ""}])[0]["text"][:70]
        print(f"  {name:30s} {result['score']:g}/{result['max_score']:g}  {result['status']:10s} {first}")
    return {
        "proc": proc,
        "out": out,
        "results": results,
        "before": before,
        "uids": uids,
        "tmp": tmp,
        "guarded": list(guarded),
        "downloads": server.requests - requests_before,
        "seconds": seconds,
    }


def group_scores(result) -> dict[str, float]:
    return {g["grade_id"]: g["score"] for g in result["groups"]}


def checks_of(result) -> list[dict]:
    return [c for g in result["groups"] for c in g["checks"]]


def assert_no_more_than_the_blank(results, attack) -> None:
    blank, result = results["honest_blank"], results[attack]
    blank_groups = group_scores(blank)
    for grade_id, score in group_scores(result).items():
        assert score <= blank_groups[grade_id], (grade_id, result)
    assert result["score"] <= blank["score"], result


def assert_no_hidden_check_passed(result) -> None:
    # Hidden reference values never enter the kernel: no attack, whatever it does, can pass a hidden check.
    assert [c["name"] for c in checks_of(result) if c["passed"] and not c["visible"]] == []
    assert result["score"] <= sum(c["max_points"] for c in checks_of(result) if c["visible"])


def assert_files_unchanged_and_no_download(batch) -> None:
    assert tree_digest(batch["guarded"] + PLANTED) == batch["before"]
    # the attacks' downloads never reached the solution server on the grading machine's loopback
    assert batch["downloads"] == 0


def assert_no_sandbox_process_survives(batch) -> None:
    assert batch["uids"], "the batch used no sandbox uid: was it sandboxed?"
    deadline = time.monotonic() + 10
    while live_uids(batch["uids"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert live_uids(batch["uids"]) == []


def guarded_files(spec) -> list[Path]:
    """Files an attack could try to rewrite, outside the output folder: the assignment's instructor folder,
    its release (when it has one on disk) and the shared helper modules."""
    paths = [spec.folder, course.STUDENT_HELPERS]
    release = course.RELEASE_DIR / spec.name
    return paths + ([release] if release.is_dir() else [])
