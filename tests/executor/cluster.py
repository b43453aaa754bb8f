"""A grading cluster on this machine for the Celery tests: a real redis-server and `autograder worker`s.

Everything listens on the loopback interface only and lives in a temporary folder; every process is
started in a session of its own and killed with everything below it when the test ends (``stop``), so a
failing test leaves nothing behind. Each worker gets a folder of its own (its working directory and its
copy of the course), as a separate machine would have.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.processes import descendants, kill_tree
from tests.toy_course import AUTOGRADER

REPO = Path(__file__).resolve().parent.parent.parent
REDIS_SERVER = shutil.which("redis-server")
# A vanished worker's job goes back to the queue after this many seconds: longer than any job of these
# tests (a toy job takes 2 to 10 s on a loaded machine), short enough to wait for.
VISIBILITY_TIMEOUT_S = 20
_PR_SET_PDEATHSIG = 1


def _die_with_the_tests() -> None:
    """In the child before exec: SIGKILL it when the test process dies, even without its finalizers."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def env() -> dict[str, str]:
    """The environment of every process we start: this checkout first on the path, quiet TensorFlow."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    out["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(what: str, ready, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{what} did not start within {timeout:.0f} s\n{tail}")


class RedisServer:
    """redis-server on 127.0.0.1:<port>, its data (AOF: the queue survives a restart) in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        log = self.folder / "redis.log"
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_the_tests,
        )
        _wait_until("redis-server", self._pong, 20, self.proc, log)

    def stop(self) -> None:
        """Shut down as an operator would (SIGTERM: the AOF is flushed), SIGKILL if it hangs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc)
        self.proc = None


class Worker:
    """`autograder worker` named ``name@<host>``, in ``folder`` with its own copy of the course."""

    def __init__(
        self, folder: Path, name: str, broker: str, course: Path, concurrency: int = 1, visibility_timeout: int = VISIBILITY_TIMEOUT_S
    ) -> None:
        self.folder, self.name, self.broker = folder, name, broker
        self.course = course
        self.concurrency = concurrency
        self.visibility_timeout = visibility_timeout
        self.proc: subprocess.Popen | None = None
        self.log = folder / "worker.log"

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(AUTOGRADER),
                    "worker",
                    "--broker",
                    self.broker,
                    "--concurrency",
                    str(self.concurrency),
                    "--name",
                    f"{self.name}@%h",
                    "--course",
                    str(self.course),
                    "--visibility-timeout",
                    str(self.visibility_timeout),
                ],
                cwd=self.folder,
                env=env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_the_tests,
            )
        _wait_until(f"worker {self.name}", lambda: " ready." in self.log.read_text(errors="replace"), 90, self.proc, self.log)

    def grading_processes(self) -> list[int]:
        """The kernels grading a submission on this worker now. Worker processes live on between jobs and keep
        a kernel started ahead, so neither says a job runs: a kernel whose folder holds the notebook does."""
        found = []
        for pid in descendants(self.proc.pid) if self.proc else []:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                busy = (Path(f"/proc/{pid}/cwd") / "submission.ipynb").exists()
            except OSError:
                continue
            if b"ipykernel_launcher" in cmdline and busy:
                found.append(pid)
        return found

    def kill(self) -> None:
        """SIGKILL the worker and everything below it: a machine that vanishes mid-job."""
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc)
        elif self.proc is not None:
            self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def copy_course(assignment: Path, machine: Path) -> Path:
    """``machine``/course/<assignment>: the course folder of one worker machine; returns the course folder."""
    course = machine / "course"
    shutil.copytree(assignment, course / assignment.name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return course


def grade(assignment, inputs, out: Path, broker: str | None, extra=(), timeout: float = 600) -> subprocess.CompletedProcess:
    """`autograder grade` as a subprocess (the coordinator), with the Celery executor when ``broker`` is given."""
    cmd = [str(AUTOGRADER), "grade", str(assignment), *map(str, inputs), "--out", str(out), *extra]
    if broker:
        cmd += ["--executor", "celery", "--broker", broker]
    return subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start_grade(assignment, inputs, out: Path, broker: str, extra=(), log: Path | None = None) -> subprocess.Popen:
    cmd = [
        str(AUTOGRADER),
        "grade",
        str(assignment),
        *map(str, inputs),
        "--out",
        str(out),
        *extra,
        "--executor",
        "celery",
        "--broker",
        broker,
    ]
    if log is None:
        return subprocess.Popen(
            cmd, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    with open(log, "wb") as sink:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, env=env(), stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


__all__ = ["RedisServer", "Worker", "copy_course", "grade", "start_grade", "REDIS_SERVER", "env"]
