"""Start a student's Jupyter kernel inside a bubblewrap sandbox, with resource limits.

``kernel_manager(workdir, data_dir, limits)`` returns a (not yet started) jupyter_client kernel manager
whose kernel process runs as::

    [sh: join a cgroup]  bwrap <namespaces, mounts>  setpriv <unprivileged uid>  prlimit <rlimits>  python -m ipykernel_launcher

What the student's code sees (everything else of the machine is absent, not just unreadable):

* its working directory (read-write), at the same path as outside;
* the SIGNS data (read-only), at its own path, named by ``COURSE_DATA_DIR``;
* the Python environment (read-only): the venv and the interpreter prefix it links to;
* ``/usr`` and ``/etc`` (read-only), a fresh ``/proc`` and ``/dev``, a private size-limited ``/tmp``;
* no network (own network namespace, loopback only), own PID, IPC and UTS namespaces.

The kernel is reached over ``transport="ipc"``: Unix sockets in a per-kernel runtime folder that is
bind-mounted at the same path inside, so the client outside connects across the network namespace.

When the grader is root (here and in CI), the kernel runs under a uid of its own (one per live sandbox,
taken from a lock-protected pool), so file permissions are a second wall, RLIMIT_NPROC applies (it never
applies to root) and, at shutdown, every process of that uid can be found and killed.

Memory: RLIMIT_DATA per process (TensorFlow's large PROT_NONE reservations do not count against it, unlike
RLIMIT_AS), plus a memory cgroup (v2, else v1) for the whole sandbox when one is writable, which also
charges the tmpfs folders and several processes together.
"""
from __future__ import annotations

import fcntl
import functools
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync

from autograder import course
from autograder.errors import AutograderError
from autograder.grading import cleanup, leftovers
from autograder.grading.limits import Limits

MISSING_BWRAP = (
    "bubblewrap (bwrap) is not installed: apt-get install bubblewrap, "
    "or pass --unsafe to grade without a sandbox"
)
MIN_BWRAP = (0, 6)  # --size and --perms for --tmpfs

# The sandbox uids when the grader is root: far above system and subordinate-uid ranges.
UID_BASE = 2_000_000_000
UID_SLOTS = 65536

FILE_SIZE_LIMIT = 1 << 30  # one file written by the kernel (also its log): 1 GiB
MAX_OPEN_FILES = 4096

# Environment variables the grader may pass into the kernel; everything else (tokens, paths of the
# grader's machine) stays outside.
# (Not all of "TF_": Terraform keeps tokens in TF_TOKEN_* and TF_VAR_*.)
PASSED_ENV = {"PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "MPLBACKEND", "TZ", "LANG",
              "CUDA_VISIBLE_DEVICES", "KERAS_BACKEND", "TF_DETERMINISTIC_OPS", "TF_USE_LEGACY_KERAS"}
PASSED_ENV_PREFIXES = ("TF_CPP_", "TF_ENABLE_", "TF_NUM_", "TF_XLA_", "OMP_", "KMP_", "MKL_", "OPENBLAS_", "LC_")

_FRESH_TMPFS = (Path("/tmp"), Path("/dev/shm"))  # empty folders: whatever is mounted inside needs its parents

# Top-level system folders that may be real folders or (merged /usr) links into /usr.
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class SandboxError(AutograderError, RuntimeError):
    """The sandbox cannot be set up for this submission."""


class SandboxUnavailable(SandboxError):
    """The machine cannot run sandboxed kernels (bwrap missing, too old or not permitted)."""


# ---------------------------------------------------------------------------------------------------
# Is the sandbox usable here?


def _is_root() -> bool:
    return os.geteuid() == 0


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str, setpriv: str | None, prlimit: str, root: bool) -> str | None:
    """Run a trivial command in a sandbox like the kernel's; return why it failed, or None."""
    version = _bwrap_version(bwrap)
    if version < MIN_BWRAP:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_BWRAP))
        return f"bubblewrap {have} is too old (need {need} or newer), or pass --unsafe to grade without a sandbox"
    cmd = [bwrap, *_base_args(64 << 20)]
    if not root:
        cmd.append("--unshare-user")
    cmd += ["--", *_drop_privileges(setpriv, UID_BASE - 1 if root else None), prlimit, "--nproc=64", "--", "/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not be run: {exc}"
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        hint = "" if root else " (it needs unprivileged user namespaces when not run as root)"
        return f"bubblewrap cannot create a sandbox here{hint}: {detail[0]}; or pass --unsafe to grade without a sandbox"
    return None


def check() -> None:
    """Raise SandboxUnavailable with a clear message unless sandboxed kernels can run here."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(MISSING_BWRAP)
    root = _is_root()
    setpriv = shutil.which("setpriv") if root else None
    prlimit = shutil.which("prlimit")
    if prlimit is None or (root and setpriv is None):
        raise SandboxUnavailable(
            "setpriv and prlimit (util-linux) are needed for the sandbox: apt-get install util-linux, "
            "or pass --unsafe to grade without a sandbox"
        )
    problem = _probe(bwrap, setpriv, prlimit, root)
    if problem:
        raise SandboxUnavailable(problem)


def available() -> bool:
    """True when sandboxed kernels can run on this machine."""
    try:
        check()
    except SandboxUnavailable:
        return False
    return True


# ---------------------------------------------------------------------------------------------------
# One uid per live sandbox (root only)


def _pids_of_uid(uid: int) -> list[int]:
    """Live processes whose real uid is ``uid`` (seen from this pid namespace); zombies run nothing."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"State:") and line.split()[1] in (b"Z", b"X"):
                        break
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry.name))
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # gone meanwhile
    return pids


class _UidSlot:
    """A uid reserved for one sandbox while this object's lock file is held (released on close or exit)."""

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir()) / f"autograder-sandbox-uids-{os.getuid()}"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise SandboxError(f"cannot create the uid lock folder {folder}: {exc}") from None
        st = folder.lstat()
        if not folder.is_dir() or folder.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o022:
            raise SandboxError(f"{folder} is not a private folder of this user; remove it and retry")
        start = random.randrange(UID_SLOTS)
        for i in range(UID_SLOTS):
            slot = (start + i) % UID_SLOTS
            fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            uid = UID_BASE + slot
            if _pids_of_uid(uid):  # left over from a crashed grader: do not share it
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError("no free sandbox uid: too many sandboxes are running")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ---------------------------------------------------------------------------------------------------
# Memory and process limits for the whole sandbox: a cgroup, when one is writable


def _write(path: Path, value: str) -> None:
    path.write_text(value)


class _Cgroup:
    """A cgroup (v2, or v1 memory [+ pids]) holding every process of one sandbox."""

    V2_ROOT = Path("/sys/fs/cgroup")

    def __init__(self, kind: str, dirs: list[Path]) -> None:
        self.kind, self.dirs = kind, dirs

    @classmethod
    def create(cls, name: str, memory_bytes: int, max_pids: int) -> _Cgroup | None:
        """A new cgroup with the limits set, or None when none can be made here (then rlimits alone apply)."""
        if not _is_root():
            return None
        for make in (cls._create_v2, cls._create_v1):
            try:
                group = make(name, memory_bytes, max_pids)
            except OSError:
                group = None
            if group is not None:
                return group
        return None

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, max_pids: int) -> _Cgroup | None:
        root = cls.V2_ROOT
        if not (root / "cgroup.controllers").exists():
            return None
        if not {"memory", "pids"} <= set((root / "cgroup.subtree_control").read_text().split()):
            return None
        # A parent of our own under the root: it holds no processes, so it may enable controllers.
        parent = root / "autograder-sandbox"
        parent.mkdir(exist_ok=True)
        if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
            _write(parent / "cgroup.subtree_control", "+memory +pids")
        group = parent / name
        group.mkdir()
        made = cls("cgroup v2", [group])
        try:
            _write(group / "memory.max", str(memory_bytes))
            if (group / "memory.swap.max").exists():
                _write(group / "memory.swap.max", "0")
            _write(group / "pids.max", str(max_pids))
        except OSError:
            made.remove()
            raise
        return made

    @classmethod
    def _create_v1(cls, name: str, memory_bytes: int, max_pids: int) -> _Cgroup | None:
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                own[controller] = path
        dirs: list[Path] = []
        made = cls("cgroup v1", dirs)
        try:
            for controller in ("memory", "pids"):
                mount = cls.V2_ROOT / controller
                if controller not in own or not (mount / "cgroup.procs").exists():
                    if controller == "memory":
                        return None
                    continue
                group = mount / own[controller].lstrip("/") / f"autograder-{name}"
                group.mkdir()
                dirs.append(group)
                if controller == "memory":
                    _write(group / "memory.limit_in_bytes", str(memory_bytes))
                    try:  # memory+swap, where swap accounting is on
                        _write(group / "memory.memsw.limit_in_bytes", str(memory_bytes))
                    except OSError:
                        pass
                else:
                    _write(group / "pids.max", str(max_pids))
        except OSError:
            made.remove()
            raise
        return made

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def memory_peak(self) -> int | None:
        for d in self.dirs:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((d / name).read_text())
                except (OSError, ValueError):
                    continue
        return None

    def kill(self) -> None:
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                try:
                    _write(d / "cgroup.kill", "1")
                except OSError:
                    pass
        for pid in self.pids():
            _kill(pid)

    def remove(self) -> None:
        # rmdir fails while the last killed processes are still being reaped: retry briefly.
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------------------------------
# The bubblewrap command


def _base_args(tmp_bytes: int) -> list[str]:
    """Namespaces and the read-only system: the part of the sandbox that does not depend on the submission."""
    args = [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "sandbox", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]
    for top in _SYSTEM_LINKS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += [
        "--ro-bind", "/etc", "/etc",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm",
        "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
    ]
    return args


def _clamp(which: int, value: int) -> int:
    # After dropping root, prlimit cannot raise a hard limit: never ask for more than the current one.
    hard = resource.getrlimit(which)[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _drop_privileges(setpriv: str | None, uid: int | None) -> list[str]:
    if uid is None:
        return []
    return [
        setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ]


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def python_roots() -> list[Path]:
    """Folders the kernel's Python needs: the venv and the real interpreter prefix it links to."""
    candidates = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    roots: list[Path] = []
    for c in sorted(candidates):
        p = Path(c).resolve()
        if any(_is_within(p, Path(s)) for s in ("/usr", "/etc")):
            continue  # already part of the read-only system
        if p == Path("/") or _is_within(course.ROOT, p):
            raise SandboxError(
                f"the Python environment {p} contains the course repository, so the sandbox cannot show it "
                "to student code: create the virtual environment in its own folder, or pass --unsafe"
            )
        roots.append(p)
    # Drop roots that lie inside another root.
    return [p for p in roots if not any(q != p and _is_within(p, q) for q in roots)]


def _missing_dirs(dests: list[Path], system: list[Path]) -> list[Path]:
    """Parent folders bwrap must create (with mode 0755: it would make them 0700) so that an unprivileged uid
    can walk to each mount. ``system`` are the mounts made before: those and what they contain exist."""
    made: list[Path] = []
    for dest in dests:
        for parent in reversed(dest.parents):
            if parent == Path("/") or parent in made or parent in system:
                continue
            if any(_is_within(parent, s) for s in system if s not in _FRESH_TMPFS):
                continue  # inside a bound system folder: exists already
            made.append(parent)
    return made


def _kernel_env(passed: dict[str, str], data_dir: Path | None) -> dict[str, str]:
    env = {
        "HOME": "/tmp",  # writable and private; IPython and matplotlib keep their caches there
        "USER": "student",
        "LOGNAME": "student",
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
    }
    for key, value in passed.items():
        if key in PASSED_ENV or key.startswith(PASSED_ENV_PREFIXES):
            env[key] = value
    if data_dir is not None:
        env["COURSE_DATA_DIR"] = str(data_dir)
    return env


# ---------------------------------------------------------------------------------------------------
# The kernel manager


class _SandboxMixin:
    """Overrides of jupyter_client's kernel-launch steps; shared by the blocking and asyncio managers."""

    def __init__(self, *, workdir: Path, data_dir: Path | None, limits: Limits, **kw) -> None:
        super().__init__(transport="ipc", kernel_name="python3", **kw)
        # Our own spec: argv is always this environment's Python, interrupts go over the control channel
        # (a SIGINT to bwrap would end the sandbox instead of interrupting the cell).
        self._kernel_spec = KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (sandboxed)", language="python", interrupt_mode="message",
        )
        self.workdir = workdir
        self.course_data_dir = data_dir
        self.limits = limits
        self.sandbox_uid: int | None = None
        self.memory_mechanism = "rlimit"
        self.runtime_dir: Path | None = None
        self._slot: _UidSlot | None = None
        self._cgroup: _Cgroup | None = None
        self._owner: tuple[int, int] | None = None
        self._log = None

    # -- start ------------------------------------------------------------------------------------

    async def _async_pre_start_kernel(self, **kw):
        try:
            self._prepare()
            return await super()._async_pre_start_kernel(**kw)
        except BaseException:
            self._release()
            raise

    def _prepare(self) -> None:
        if self.runtime_dir is not None:  # a restart keeps its uid, folders and cgroup
            return
        if _is_root():
            self._slot = _UidSlot()
            self.sandbox_uid = self._slot.uid
            st = self.workdir.stat()
            self._owner = (st.st_uid, st.st_gid)
            cleanup.chown_tree(self.workdir, self.sandbox_uid, self.sandbox_uid)
        self.runtime_dir = leftovers.make_folder("kernel")
        if self.sandbox_uid is not None:
            os.chown(self.runtime_dir, self.sandbox_uid, self.sandbox_uid)
        # The sockets ("<ip>-<port>") and the connection file live here, at the same path inside and out.
        self.connection_file = str(self.runtime_dir / "kernel.json")
        self.ip = str(self.runtime_dir / "kernel")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            cmd = self._sandbox_cmd(kernel_cmd, kw.get("env") or os.environ)
            if self.sandbox_uid is not None:
                os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
            if self._log is None:
                # Kernel stdout/stderr (and bwrap's own errors) go to a file outside, not to the grader's terminal.
                self._log = open(self.runtime_dir / "kernel.log", "ab")
            kw.update(stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, cwd=str(self.workdir))
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            await super()._async_launch_kernel(cmd, **kw)
        except BaseException:
            self._release()
            raise

    def _sandbox_cmd(self, kernel_cmd: list[str], passed_env) -> list[str]:
        check()
        limits = self.limits
        memory = limits.memory_mb << 20
        root = self.sandbox_uid is not None
        if self._cgroup is None:
            self._cgroup = _Cgroup.create(Path(self.runtime_dir).name, memory, limits.max_processes)
            self.memory_mechanism = self._cgroup.kind if self._cgroup else "rlimit"

        mounts: list[tuple[str, Path]] = [("--ro-bind", p) for p in python_roots()]
        if self.course_data_dir is not None:
            mounts.append(("--ro-bind", self.course_data_dir))
        mounts += [("--bind", self.workdir), ("--bind", self.runtime_dir)]
        mounts.sort(key=lambda m: len(m[1].parts))  # a folder before anything mounted inside it
        system = [Path("/usr"), Path("/etc"), Path("/tmp"), Path("/proc"), Path("/dev")]
        system += [Path(t) for t in _SYSTEM_LINKS if os.path.exists(t)]

        args = [shutil.which("bwrap"), *_base_args(memory)]
        if not root:
            args.append("--unshare-user")
        for folder in _missing_dirs([p for _, p in mounts], system):
            args += ["--perms", "0755", "--dir", str(folder)]
        for kind, path in mounts:
            args += [kind, str(path), str(path)]
        args += ["--chdir", str(self.workdir), "--clearenv"]
        for key, value in sorted(_kernel_env(dict(passed_env), self.course_data_dir).items()):
            args += ["--setenv", key, value]
        args.append("--")

        if root:
            args += _drop_privileges(shutil.which("setpriv"), self.sandbox_uid)
            nproc = limits.max_processes
        else:
            # Without root RLIMIT_NPROC counts all processes of the grader's user: allow for those.
            nproc = limits.max_processes + len(_pids_of_uid(os.getuid()))
        args += [
            shutil.which("prlimit"),
            f"--data={_clamp(resource.RLIMIT_DATA, memory)}",
            f"--nproc={_clamp(resource.RLIMIT_NPROC, nproc)}",
            f"--fsize={_clamp(resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT)}",
            "--core=0",
            f"--nofile={_clamp(resource.RLIMIT_NOFILE, MAX_OPEN_FILES)}",
            "--",
        ]
        args += list(kernel_cmd)
        if self._cgroup is not None:
            # Join the cgroup before bwrap starts, so every sandbox process is born inside it.
            files = self._cgroup.procs_files()
            script = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(files)))
            args = ["/bin/sh", "-c", script + f' && shift {len(files)} && exec "$@"', "sh", *files, *args]
        return args

    def memory_peak(self) -> int | None:
        """Peak memory of the whole sandbox in bytes, when a cgroup measures it (else None)."""
        return self._cgroup.memory_peak() if self._cgroup is not None else None

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The end of the kernel's stdout/stderr (bwrap errors, crashes); empty once cleaned up."""
        if self.runtime_dir is None:
            return ""
        try:
            data = (self.runtime_dir / "kernel.log").read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode("utf-8", "replace")

    # -- stop -------------------------------------------------------------------------------------

    async def _async_kill_kernel(self, restart: bool = False) -> None:
        await super()._async_kill_kernel(restart=restart)
        self._kill_sandbox()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        self._kill_sandbox()
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if not restart:
                self._release()

    def __del__(self) -> None:
        # A manager dropped without shutdown must not leave processes, its uid slot or a chowned folder.
        try:
            self._release()
        except Exception:
            pass
        super().__del__()

    def _kill_sandbox(self) -> None:
        """Make sure no process of this sandbox survives (idempotent)."""
        deadline = time.monotonic() + 10
        while True:
            pids: set[int] = set()
            if self._cgroup is not None:
                self._cgroup.kill()
                pids |= self._cgroup.pids()
            if self._slot is not None:  # only while the uid is ours: once released, another sandbox may take it
                pids |= set(_pids_of_uid(self._slot.uid))
            for pid in pids:
                _kill(pid)
            if not pids or time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def _release(self) -> None:
        """Kill what is left and give back the uid, cgroup, folders and ownership (idempotent)."""
        self._kill_sandbox()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.runtime_dir is not None:
            cleanup.remove_tree(self.runtime_dir)
            self.runtime_dir = None
        if self._owner is not None and self.workdir.exists():
            # Files the kernel made belong to the grader again; links are changed, never followed.
            cleanup.chown_tree(self.workdir, *self._owner)
            self._owner = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None


class SandboxedKernelManager(_SandboxMixin, KernelManager):
    """Blocking kernel manager whose kernel runs in the sandbox."""

    # jupyter_client binds these public names to its own coroutines; point them at ours.
    pre_start_kernel = run_sync(_SandboxMixin._async_pre_start_kernel)
    _launch_kernel = run_sync(_SandboxMixin._async_launch_kernel)
    _kill_kernel = run_sync(_SandboxMixin._async_kill_kernel)
    cleanup_resources = run_sync(_SandboxMixin._async_cleanup_resources)


class AsyncSandboxedKernelManager(_SandboxMixin, AsyncKernelManager):
    """asyncio kernel manager (what nbclient uses) whose kernel runs in the sandbox."""

    pre_start_kernel = _SandboxMixin._async_pre_start_kernel
    _launch_kernel = _SandboxMixin._async_launch_kernel
    _kill_kernel = _SandboxMixin._async_kill_kernel
    cleanup_resources = _SandboxMixin._async_cleanup_resources


def kernel_manager(
    workdir: Path, data_dir: Path | None, limits: Limits, *, asynchronous: bool = True
) -> KernelManager:
    """A kernel manager (not started) whose kernel runs sandboxed in ``workdir`` with ``limits``.

    ``data_dir`` (read-only inside, exported as COURSE_DATA_DIR) may be None. Raises SandboxUnavailable
    when bubblewrap cannot run here and SandboxError for folders that cannot be sandboxed.
    """
    check()
    workdir = Path(workdir).resolve()
    if not workdir.is_dir():
        raise SandboxError(f"the working directory {workdir} does not exist")
    if data_dir is not None:
        data_dir = Path(data_dir).resolve()
        if not data_dir.is_dir():
            raise SandboxError(f"the data folder {data_dir} does not exist")
    for name, folder in (("working directory", workdir), ("data folder", data_dir)):
        if folder is None:
            continue
        hidden = [course.ROOT, *python_roots()]
        if any(_is_within(h, folder) for h in hidden) or folder == Path("/"):
            raise SandboxError(
                f"the {name} {folder} contains the course repository or the Python environment; "
                "use a folder of its own"
            )
    cls = AsyncSandboxedKernelManager if asynchronous else SandboxedKernelManager
    return cls(workdir=workdir, data_dir=data_dir, limits=limits)
