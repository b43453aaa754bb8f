"""What the site benchmarks share: a real ``autograder serve`` on a loopback port over a fresh data folder
(the toy course from ``tests/site/toy_site.py``, as the site's tests build it), accounts made ahead,
signed-in HTTP clients, percentiles. Loopback only: the server listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The toy course, its accounts' password and the HTTP helpers: the same setup as the site's tests.
from tests.site.toy_site import PASSWORD, csrf_of, free_port, make_course  # noqa: E402, F401 (make_course: for bench_site_spike)

AUTOGRADER = Path(sys.executable).with_name("autograder")


def make_accounts(url: str, logins: list[str]) -> dict[str, str]:
    """Students with PASSWORD set and an API token each; returns login -> token."""
    from autograder.site import accounts
    from autograder.site.models import open_db

    factory = open_db(url)
    made = accounts.import_roster(factory, [accounts.Person(x, x, f"{x}@example.org") for x in logins], days=1)
    tokens = {}
    with factory.begin() as db:
        for person, link, _ in made:
            user = accounts.use_link(db, link, PASSWORD)
            tokens[person.login] = accounts.new_api_token(db, user)
    factory.kw["bind"].dispose()
    return tokens


class Server:
    """``autograder serve`` in a session of its own; ``stop()`` ends its whole process group."""

    def __init__(
        self,
        data_dir: Path,
        *,
        source: Path | None = None,
        release: Path | None = None,
        workers: int = 1,
        db_url: str | None = None,
        book: Path | None = None,
        unsafe: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "server.log"
        args = [
            str(AUTOGRADER),
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--book",
            str(book) if book else "None",
        ]
        if source:
            args += ["--source-dir", str(source)]
        if release:
            args += ["--release-dir", str(release)]
        if db_url:
            args += ["--db-url", db_url]
        if unsafe:
            args.append("--unsafe")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_up()

    def _wait_up(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server ended:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/signin", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not answer within two minutes")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass


def signed_in(base: str, login: str, timeout: float = 30):
    """An httpx.Client with a session cookie of ``login``."""
    import httpx

    client = httpx.Client(base_url=base, timeout=timeout)
    page = client.get("/signin")
    r = client.post("/signin", data={"csrf": csrf_of(page.text), "login": login, "password": PASSWORD})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in of {login} failed: {r.status_code}")
    return client


def upload_form(client, assignment: str, data: bytes, filename: str):
    """The browser's upload: the assignment page (for its CSRF token), then the multipart POST; returns (response, seconds of the POST)."""
    csrf = csrf_of(client.get(f"/assignments/{assignment}").text)
    start = time.perf_counter()
    r = client.post(f"/assignments/{assignment}/submit?csrf={csrf}", files={"notebook": (filename, data, "application/octet-stream")})
    return r, time.perf_counter() - start


def server_seconds(response) -> float | None:
    """The server's own time for a response, from its ``Server-Timing: app;dur=<ms>`` header."""
    found = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
    return float(found.group(1)) / 1000 if found else None


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[k]


def summary(values: list[float], unit: float = 1000.0, suffix: str = "ms") -> str:
    if not values:
        return "no samples"
    return (
        f"n={len(values)}  p50 {pct(values, 50) * unit:.0f} {suffix}  p95 {pct(values, 95) * unit:.0f} {suffix}  "
        f"p99 {pct(values, 99) * unit:.0f} {suffix}  max {max(values) * unit:.0f} {suffix}  mean {statistics.fmean(values) * unit:.0f} {suffix}"
    )
