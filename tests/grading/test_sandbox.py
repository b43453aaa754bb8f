"""The bubblewrap sandbox of student kernels: each test starts a real sandboxed kernel and tries to get out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import config, course
from autograder.grading import leftovers, runner, sandbox
from autograder.grading.sandbox import processes

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def sandbox_ok():
    """Skip kernel tests where no sandbox can run; in CI (bubblewrap installed) that is a failure instead."""
    try:
        sandbox.check()
    except sandbox.SandboxUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@dataclasses.dataclass
class Reply:
    stdout: str
    error: str | None  # "ExceptionName: message", or None
    dead: bool = False  # the kernel died while running the code


class Kernel:
    """A started sandboxed kernel driven by a BlockingKernelClient."""

    def __init__(self, km):
        self.km = km
        self.kc = km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> Reply:
        msg_id = self.kc.execute(code)
        out, error = [], None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.km.is_alive():
                    return Reply("".join(out), error, dead=True)
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                return Reply("".join(out), error)
        raise AssertionError(f"no reply within {timeout} s to:\n{code}")

    def ok(self, code: str) -> str:
        reply = self.run(code)
        assert reply.error is None and not reply.dead, reply
        return reply.stdout


def sandbox_processes(km) -> list[int]:
    """Processes of this sandbox, found outside by the connection file in their command line."""
    marker = km.connection_file.encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline:
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def sandboxed(workdir: Path, data_dir: Path | None = None, limits: config.Limits | None = None):
    km = sandbox.kernel_manager(workdir, data_dir, limits or config.Limits(), asynchronous=False)
    km.start_kernel()
    kernel = None
    try:
        kernel = Kernel(km)
        yield kernel
    finally:
        if kernel is not None:
            kernel.kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def workdir(tmp_path, sandbox_ok) -> Path:
    folder = tmp_path / "alice"
    folder.mkdir()
    for helper in course.STUDENT_HELPERS.glob("*.py"):
        shutil.copy2(helper, folder / helper.name)
    (folder / "alice.ipynb").write_text("{}")
    return folder


def _needed_for_python(path: Path) -> bool:
    """True for the folders on the way to (or inside) the bound Python environment."""
    return any(p == path or path in p.parents or p in path.parents for p in sandbox.python_roots())


def test_folders_holding_the_repository_are_refused(workdir):
    for folder in (course.ROOT, course.ROOT.parent):
        with pytest.raises(sandbox.SandboxError, match="contains the course repository"):
            sandbox.kernel_manager(folder, None, config.Limits())
    with pytest.raises(sandbox.SandboxError, match="contains the course repository"):
        sandbox.kernel_manager(workdir, course.ROOT, config.Limits())


def test_student_code_cannot_read_outside_its_folder(tmp_path, workdir):
    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "bob.ipynb").write_text("bob's answers")
    outside_tmp = Path(tempfile.mkdtemp(prefix="ag-test-outside-"))
    (outside_tmp / "secret.txt").write_text("not for students")
    home = Path.home()
    hidden = [
        course.SOURCE_DIR,
        course.ROOT / "pyproject.toml",
        course.ROOT / ".git",
        course.ROOT / "autograder",
        bob / "bob.ipynb",
        bob,
        outside_tmp / "secret.txt",
        Path("/work/shared"),
        Path("/root/.ssh"),
    ]
    hidden += [p for p in course.ROOT.iterdir() if not _needed_for_python(p)]
    hidden += [p for p in home.iterdir() if not _needed_for_python(p)] if os.access(home, os.R_OK) else []
    try:
        with sandboxed(workdir) as k:
            probe = "\n".join(f"try:\n    os.stat({str(p)!r}); print('VISIBLE', {str(p)!r})\nexcept OSError:\n    pass" for p in hidden)
            out = k.ok("import os\n" + probe)
            assert "VISIBLE" not in out
            # The repository folder holds only the venv (bound read-only), nothing of the course.
            listed = k.ok(f"print(sorted(os.listdir({str(course.ROOT)!r})))")
            assert "source_solutions" not in listed and "pyproject.toml" not in listed
            assert k.ok("print(sorted(os.listdir('.')))").strip() == repr(sorted(os.listdir(workdir)))
            assert k.ok("print(open('alice.ipynb').read())").strip() == "{}"
    finally:
        shutil.rmtree(outside_tmp)


def test_writes_outside_the_folder_fail(tmp_path, workdir):
    data = tmp_path / "data"
    data.mkdir()
    targets = [
        Path(sys.prefix) / "pwned",
        Path("/usr/pwned"),
        Path("/etc/pwned"),
        data / "pwned",
        course.ROOT / "pwned",
        tmp_path / "pwned",
    ]
    with sandboxed(workdir, data) as k:
        for target in targets:
            reply = k.run(f"open({str(target)!r}, 'w').write('x')")
            assert reply.error is not None and reply.error.split(":")[0] in {"OSError", "PermissionError", "FileNotFoundError"}, (
                target,
                reply,
            )
        k.ok("import os\nopen('answer.txt', 'w').write('42')\nos.mkdir('sub')\nopen('sub/x', 'w').write('y')")
        # /tmp inside is private: it is not the machine's /tmp.
        k.ok("open('/tmp/ag-sandbox-marker', 'w').write('x')")
        assert (workdir / "answer.txt").read_text() == "42"  # the grader reads what the kernel wrote
    for target in targets:
        assert not target.exists()
    assert not Path("/tmp/ag-sandbox-marker").exists()
    # After shutdown, everything in the folder belongs to the folder's owner again.
    owner = workdir.stat().st_uid
    assert owner == tmp_path.stat().st_uid
    assert {p.stat().st_uid for p in workdir.rglob("*")} == {owner}


def test_no_network_even_to_localhost(workdir):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        with sandboxed(workdir) as k:
            reply = k.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).send(b'leak')")
            assert reply.error and reply.error.startswith("ConnectionRefusedError"), reply
            reply = k.run("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)")
            assert reply.error and reply.error.split(":")[0] in {"OSError", "TimeoutError"}, reply
            interfaces = k.ok("import socket\nprint(sorted(name for _, name in socket.if_nameindex()))")
            assert interfaces.strip() == "['lo']"
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing ever reached the server outside
    finally:
        server.close()


def _peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def test_memory_bomb_is_stopped(workdir):
    limits = config.Limits(memory_mb=300)
    with sandboxed(workdir, limits=limits) as k:
        # One big allocation: refused by RLIMIT_DATA, the kernel survives.
        reply = k.run("x = bytearray(2 << 30)")
        assert reply.dead or (reply.error or "").startswith("MemoryError"), reply
        if not reply.dead:
            # Filling the RAM-backed /tmp stops at its size.
            reply = k.run("f = open('/tmp/big', 'wb')\nfor _ in range(1024):\n    f.write(b'x' * (1 << 20))")
            assert reply.dead or "No space left" in (reply.error or ""), reply
        if k.km.memory_mechanism != "rlimit" and not reply.dead:
            # Several processes, each under the per-process limit, together over it: the cgroup kills.
            reply = k.run(
                "import os\n"
                "os.remove('/tmp/big')\n"
                "kids = []\n"
                "for _ in range(4):\n"
                "    pid = os.fork()\n"
                "    if pid == 0:\n"
                "        b = bytearray(200 << 20)\n"
                "        for i in range(0, len(b), 4096): b[i] = 1\n"
                "        os._exit(0)\n"
                "    kids.append(pid)\n"
                "print(sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))"
            )
            assert reply.dead or "-9" in reply.stdout, reply
        # The machine is fine: no sandbox process (nor the sandbox as a whole) ever held more than the limit.
        for pid in sandbox_processes(k.km):
            assert _peak_rss_mb(pid) <= limits.memory_mb
        peak = k.km.memory_peak()
        assert peak is None or peak <= limits.memory_mb << 20
        if k.km.memory_mechanism == "rlimit":
            assert peak is None
    assert sandbox_processes(k.km) == []


def _processes_with(text: str) -> list[int]:
    """Processes whose command line (arguments joined by spaces) contains ``text``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found


def test_fork_bomb_is_contained_and_cleaned_up(workdir):
    limits = config.Limits(max_processes=40)
    daemon_arg = f"{9000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"  # a sleep we can find by its argument
    with sandboxed(workdir, limits=limits) as k:
        km = k.km
        out = k.ok(
            "import os, time, subprocess\n"
            f"subprocess.Popen(['sleep', '{daemon_arg}'], start_new_session=True)\n"  # tries to outlive the kernel
            "n = 0\n"
            "try:\n"
            "    while n < 1000:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(1000)\n"
            "            os._exit(0)\n"
            "        n += 1\n"
            "except OSError as e:\n"
            "    print('stopped', n, e.errno)\n"
        )
        assert out.startswith("stopped"), out
        forked = int(out.split()[1])
        assert 0 < forked < limits.max_processes
        assert len(sandbox_processes(km)) >= forked  # the children are alive ...
        assert len(_processes_with(f"sleep {daemon_arg}")) == 1
        assert subprocess.run(["true"]).returncode == 0  # ... the machine can still start processes ...
    assert sandbox_processes(km) == []  # ... and after shutdown nothing of the sandbox is left
    assert _processes_with(f"sleep {daemon_arg}") == []
    if km.sandbox_uid is not None:
        assert processes.pids_of_uid(km.sandbox_uid) == []


def test_exit_and_signals_do_not_reach_outside(workdir):
    sentinel = subprocess.Popen(["sleep", "60"])
    try:
        with sandboxed(workdir) as k:
            km = k.km
            reply = k.run(
                "import os, signal\n"
                "print('pid', os.getpid(), 'ppid', os.getppid())\n"
                "for target in (os.getppid(), 1):\n"
                "    try:\n"
                "        os.kill(target, signal.SIGKILL)\n"
                "    except OSError as e:\n"
                "        print('refused', target, type(e).__name__)\n"
                f"try:\n    os.kill({sentinel.pid}, signal.SIGKILL)\nexcept OSError as e:\n"
                "    print('unknown', type(e).__name__)\n"
            )
            assert not reply.dead and reply.error is None, reply
            assert "ppid 1" in reply.stdout  # the kernel's parent is the sandbox's own init
            assert "refused 1 PermissionError" in reply.stdout
            assert "unknown ProcessLookupError" in reply.stdout
            reply = k.run("import os\nos._exit(3)", timeout=30)
            assert reply.dead
            assert sandbox_processes(km) == []
        assert sentinel.poll() is None  # nothing outside was hit
        assert os.getppid() > 1
    finally:
        sentinel.kill()
        sentinel.wait()


def test_data_folder_is_readable_not_writable(tmp_path, workdir):
    data = tmp_path / "datasets"
    data.mkdir()
    (data / "train_signs.h5").write_bytes(b"\x89HDF fake bytes for the test")
    with sandboxed(workdir, data) as k:
        assert k.ok("import os\nprint(os.environ['COURSE_DATA_DIR'])").strip() == str(data)
        got = k.ok("print(open(os.path.join(os.environ['COURSE_DATA_DIR'], 'train_signs.h5'), 'rb').read())")
        assert got.strip() == repr(b"\x89HDF fake bytes for the test")
        reply = k.run("open(os.path.join(os.environ['COURSE_DATA_DIR'], 'train_signs.h5'), 'ab').write(b'x')")
        assert reply.error and reply.error.split(":")[0] in {"OSError", "PermissionError"}, reply
    assert (data / "train_signs.h5").read_bytes() == b"\x89HDF fake bytes for the test"


def test_kernel_imports_numpy_and_the_helper_modules(workdir):
    helpers = sorted(p.stem for p in course.STUDENT_HELPERS.glob("*.py"))
    assert helpers
    with sandboxed(workdir) as k:
        out = k.ok(
            "import numpy as np, importlib, os\n"
            "print(np.arange(4).sum())\n"
            f"for name in {helpers!r}:\n"
            "    mod = importlib.import_module(name)\n"
            "    print(name, os.path.dirname(os.path.abspath(mod.__file__)))\n"
        )
    lines = out.splitlines()
    assert lines[0] == "6"
    assert lines[1:] == [f"{name} {workdir}" for name in helpers]


def test_secrets_in_the_environment_stay_outside(monkeypatch, workdir):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_for_students")
    monkeypatch.setenv("TF_TOKEN_app_terraform_io", "also_secret")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with sandboxed(workdir) as k:
        env = k.ok("import os\nprint(sorted(os.environ.items()))")
    assert "ghp_not_for_students" not in env and "also_secret" not in env
    assert "('TF_CPP_MIN_LOG_LEVEL', '2')" in env


def test_nbclient_runs_a_notebook_in_the_sandbox(workdir):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nx = os.getuid()"), nbformat.v4.new_code_cell("print('uid', x, 'cwd', os.getcwd())")]
    km = sandbox.kernel_manager(workdir, None, config.Limits())  # the asyncio manager nbclient expects
    client = NotebookClient(nb, km=km, timeout=60, resources={"metadata": {"path": str(workdir)}})
    seen = {}

    async def run():
        # Like the runner: execute, then shut down the kernel we own, in the same event loop.
        try:
            await client.async_execute(cwd=str(workdir))
            seen["processes"] = sandbox_processes(km)
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(run())
    text = nb.cells[1].outputs[0]["text"]
    expected_uid = km.sandbox_uid if os.geteuid() == 0 else os.getuid()
    assert text.strip() == f"uid {expected_uid} cwd {workdir}"
    assert seen["processes"]  # the kernel ran as a process we can see ...
    assert sandbox_processes(km) == []  # ... and nothing of it is left
    assert km.runtime_dir is None and not km.has_kernel


@pytest.mark.slow
def test_tensorflow_works_under_the_memory_limit(workdir):
    limits = config.Limits()
    with sandboxed(workdir, limits=limits) as k:
        out = k.ok(
            "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\n"
            "import tensorflow as tf\n"
            "x = tf.constant([[1.0, 2.0], [3.0, 4.0]])\n"
            "print(float(tf.reduce_sum(tf.matmul(x, x))))\n",
        )
        assert out.strip().splitlines()[-1] == "54.0"
        limit = k.ok("import resource\nprint(resource.getrlimit(resource.RLIMIT_DATA)[0])")
        assert int(limit) == limits.memory_mb << 20


# Generous: on a loaded machine (the suite on two cores, other jobs) a reply can take many seconds.
WAIT_S = 90


def test_interrupt_stops_a_cell_and_keeps_the_kernel(workdir):
    with sandboxed(workdir) as k:
        # stop_on_error=False, as the grader runs cells: otherwise the kernel aborts requests that arrive soon
        # after the error, and on a loaded machine the next one can be among them (a reply "aborted").
        msg_id = k.kc.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(60)", stop_on_error=False)
        while True:  # interrupt only once the cell is really running
            msg = k.kc.get_iopub_msg(timeout=WAIT_S)
            if msg["msg_type"] == "stream" and "sleeping" in msg["content"]["text"]:
                break
        time.sleep(0.2)
        k.km.interrupt_kernel()  # over the control channel: a SIGINT to bwrap would end the whole sandbox
        reply = k.kc.get_shell_msg(timeout=WAIT_S)
        while reply["parent_header"]["msg_id"] != msg_id:  # skip the kernel_info reply of the start
            reply = k.kc.get_shell_msg(timeout=WAIT_S)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        # The kernel still computes. (Read through the shell reply: right after an interrupt, ipykernel may
        # tag a stream message with the interrupted cell's header.)
        msg_id = k.kc.execute("x = 6 * 7", user_expressions={"v": "x"})
        reply = k.kc.get_shell_msg(timeout=WAIT_S)
        while reply["parent_header"]["msg_id"] != msg_id:
            reply = k.kc.get_shell_msg(timeout=WAIT_S)
        value = reply["content"].get("user_expressions", {}).get("v", {})
        assert value.get("data", {}).get("text/plain") == "42", reply["content"]


def test_two_sandboxes_at_once_are_apart(tmp_path, workdir):
    bob_dir = tmp_path / "bob"
    bob_dir.mkdir()
    (bob_dir / "bob.ipynb").write_text("bob's answers")
    with sandboxed(workdir) as alice, sandboxed(bob_dir) as bob:
        if os.geteuid() == 0:
            assert alice.km.sandbox_uid != bob.km.sandbox_uid  # separate process budgets and file owners
        bob_pids = sandbox_processes(bob.km)
        assert bob_pids
        out = alice.ok(f"import os\nprint(os.path.exists({str(bob_dir)!r}), sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
        visible, pids = out.split(" ", 1)
        assert visible == "False"
        assert max(eval(pids)) < min(bob_pids)  # alice's /proc is her own pid namespace, small pids only
        assert bob.ok("print(open('bob.ipynb').read())").strip() == "bob's answers"


def test_kill_and_cleanup_without_shutdown_release_everything(tmp_path, workdir):
    # The runner's fallback when a shutdown fails: kill, then clean up; nothing of the sandbox may remain.
    km = sandbox.kernel_manager(workdir, None, config.Limits(), asynchronous=False)
    km.start_kernel()
    kernel = Kernel(km)
    kernel.ok("import subprocess\nopen('made_inside.txt', 'w').write('x')\nsubprocess.Popen(['sleep', '999'])")
    runtime = km.runtime_dir
    assert sandbox_processes(km)
    kernel.kc.stop_channels()
    km._kill_kernel()
    km.cleanup_resources()
    assert sandbox_processes(km) == []
    if km.sandbox_uid is not None:
        assert processes.pids_of_uid(km.sandbox_uid) == []
    assert km.runtime_dir is None and not runtime.exists()
    assert (workdir / "made_inside.txt").stat().st_uid == tmp_path.stat().st_uid


def _broken_interpreter(path: Path):
    """A sandbox factory whose kernel command names an interpreter that does not exist."""

    def factory(workdir, data_dir, limits):
        km = sandbox.kernel_manager(workdir, data_dir, limits)
        km.kernel_spec.argv[0] = str(path)
        return km

    return factory


def _crashing_kernel(message: str):
    """A sandbox factory whose 'kernel' writes ``message`` to its stderr and exits before it is ready."""

    def factory(workdir, data_dir, limits):
        km = sandbox.kernel_manager(workdir, data_dir, limits)
        km.kernel_spec.argv[:] = [sys.executable, "-c", f"import sys; sys.stderr.write({message!r}); sys.exit(3)"]
        return km

    return factory


def _kernel_warnings(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "autograder.grading.runner" and r.levelno == logging.WARNING)


@pytest.mark.parametrize("how", ["missing interpreter", "crash at start"])
def test_why_a_kernel_did_not_start_is_in_the_graders_log(tmp_path, caplog, sandbox_ok, how):
    caplog.set_level(logging.WARNING, logger="autograder.grading.runner")
    token = f"{os.getpid()}-{time.time_ns()}"
    if how == "missing interpreter":
        expected = str(tmp_path / f"no-python-{token}")  # prlimit: failed to execute <path>: ...
        factory = _broken_interpreter(Path(expected))
    else:
        expected = f"ImportError: the kernel's own words {token}"
        factory = _crashing_kernel(expected)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    executed, outcome = runner.run(nb, kernel_manager_factory=factory)
    assert outcome.status == "no_kernel", outcome
    logged = _kernel_warnings(caplog)
    assert "did not start; the end of its stdout/stderr" in logged
    assert expected in logged
    # The grader's log only: what the kernel printed never reaches the student's feedback.
    assert token not in outcome.reason and token not in json.dumps(executed)


def test_what_a_dying_kernel_printed_is_in_the_graders_log(caplog, sandbox_ok):
    caplog.set_level(logging.WARNING, logger="autograder.grading.runner")
    n = time.time_ns()
    expected = f"last words {n * 7}"  # computed in the cell: the source itself does not hold it
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            # ipykernel sends fd 2 to the notebook; the process's real stderr is the log file, still open.
            "import os\n"
            "for fd in os.listdir('/proc/self/fd'):\n"
            "    try:\n"
            "        if os.readlink(f'/proc/self/fd/{fd}').endswith('/kernel.log'):\n"
            f"            os.write(int(fd), ('last words ' + str({n} * 7)).encode())\n"
            "            break\n"
            "    except OSError:\n"
            "        pass\n"
            "os._exit(3)\n"
        )
    ]
    executed, outcome = runner.run(nb, kernel_manager_factory=sandbox.kernel_manager)
    assert outcome.status == "dead", outcome
    logged = _kernel_warnings(caplog)
    assert "died; the end of its stdout/stderr" in logged
    assert expected in logged
    assert expected not in outcome.reason and expected not in json.dumps(executed)


def _long_folder(base: Path, length: int) -> Path:
    folder = base / ("t" * max(1, length - len(str(base)) - 1))
    folder.mkdir(exist_ok=True)
    assert len(str(folder)) >= length
    return folder


def test_a_long_temporary_directory_still_grades(tmp_path, monkeypatch, sandbox_ok):
    # The kernel's unix sockets cannot have paths over 107 bytes; a deep TMPDIR (a test's tmp_path, a
    # macOS /var/folders/...) once made every kernel fail with a bare ZMQError.
    long_tmp = _long_folder(tmp_path, 100)
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    executed, outcome = runner.run(nb, kernel_manager_factory=sandbox.kernel_manager)
    assert outcome.status == "ok", outcome
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert not [p for p in long_tmp.iterdir() if p.name.startswith("ag-kernel-")]


def test_without_a_folder_short_enough_the_reason_says_what_to_do(tmp_path, monkeypatch, sandbox_ok):
    monkeypatch.setattr(tempfile, "tempdir", str(_long_folder(tmp_path, 100)))
    (tmp_path / "short").mkdir()
    monkeypatch.setattr(leftovers, "SHORT_ROOT", _long_folder(tmp_path / "short", 100))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    _, outcome = runner.run(nb, kernel_manager_factory=sandbox.kernel_manager)
    assert outcome.status == "no_kernel", outcome
    assert "set TMPDIR to a shorter folder" in outcome.reason, outcome.reason
    # nothing made on the way is left in either folder
    assert not [p for p in tmp_path.rglob("ag-kernel-*")]
