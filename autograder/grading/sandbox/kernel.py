"""The sandboxed kernel manager: jupyter_client's launch and shutdown steps, with the sandbox around them.

Start: reserve a uid (root only), hand the working folder to it, make the runtime folder (sockets, the
connection file, the kernel log), a cgroup when one is writable, then launch the command of
``command.sandbox_command``. Stop: kill every process of the sandbox, then give everything back. Cleanup is
idempotent and also runs when a start fails or the manager is dropped without shutdown.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync

from autograder.grading import cleanup, leftovers
from autograder.grading.limits import Limits
from autograder.grading.sandbox import processes
from autograder.grading.sandbox.cgroups import Cgroup
from autograder.grading.sandbox.command import sandbox_command
from autograder.grading.sandbox.errors import SandboxError
from autograder.grading.sandbox.folders import checked_folders
from autograder.grading.sandbox.kernel_log import TAIL_BYTES, KernelLog
from autograder.grading.sandbox.probe import check
from autograder.grading.sandbox.uids import UidSlot, is_root

log = logging.getLogger(__name__)

# A unix socket's path holds at most 107 bytes (sun_path is 108 with its NUL). The kernel's five sockets are
# "<runtime dir>/k-<n>", n from 1 up; a path too long fails deep inside zmq with a bare ZMQError.
SOCKET_PATH_MAX = 107
_SOCKET_BASE = "k"


def make_runtime_dir() -> Path:
    """A kernel folder whose socket paths fit: in the temporary directory, else in ``leftovers.SHORT_ROOT``."""
    tried = []
    for root in (None, leftovers.SHORT_ROOT):
        try:
            folder = leftovers.make_folder("kernel", root)
        except OSError as exc:  # e.g. no /tmp: try the next, or say why below
            tried.append(f"{root}: {exc.strerror}")
            continue
        if len(os.fsencode(folder / f"{_SOCKET_BASE}-99")) <= SOCKET_PATH_MAX:
            return folder
        folder.rmdir()
        tried.append(f"{folder.parent}: too long")
    log.error("no folder for a kernel's sockets: %s", "; ".join(tried))
    raise SandboxError(
        f"the kernel's socket paths must fit in {SOCKET_PATH_MAX} bytes and no folder was short enough: set TMPDIR to a shorter folder"
    )


class _SandboxMixin:
    """Overrides of jupyter_client's kernel-launch steps; shared by the blocking and asyncio managers."""

    def __init__(self, *, workdir: Path, data_dir: Path | None, limits: Limits, **kw) -> None:
        super().__init__(transport="ipc", kernel_name="python3", **kw)
        # Our own spec: argv is always this environment's Python, interrupts go over the control channel
        # (a SIGINT to bwrap would end the sandbox instead of interrupting the cell).
        self._kernel_spec = KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (sandboxed)",
            language="python",
            interrupt_mode="message",
        )
        self.workdir = workdir
        self.course_data_dir = data_dir
        self.limits = limits
        self.sandbox_uid: int | None = None
        self.memory_mechanism = "rlimit"
        self.runtime_dir: Path | None = None
        self._slot: UidSlot | None = None
        self._cgroup: Cgroup | None = None
        self._owner: tuple[int, int] | None = None
        self._kernel_log = KernelLog()

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
        if is_root():
            self._slot = UidSlot()
            self.sandbox_uid = self._slot.uid
            st = self.workdir.stat()
            self._owner = (st.st_uid, st.st_gid)
            cleanup.chown_tree(self.workdir, self.sandbox_uid, self.sandbox_uid)
        self.runtime_dir = make_runtime_dir()
        if self.sandbox_uid is not None:
            os.chown(self.runtime_dir, self.sandbox_uid, self.sandbox_uid)
        # The sockets ("<ip>-<port>") and the connection file live here, at the same path inside and out.
        self.connection_file = str(self.runtime_dir / "kernel.json")
        self.ip = str(self.runtime_dir / _SOCKET_BASE)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            cmd = self._sandbox_cmd(kernel_cmd, kw.get("env") or os.environ)
            if self.sandbox_uid is not None:
                os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
            out = self._kernel_log.open(self.runtime_dir)
            kw.update(stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=str(self.workdir))
            # bwrap itself needs only PATH; the kernel's environment is set by --setenv.
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            await super()._async_launch_kernel(cmd, **kw)
        except BaseException:
            self._release()
            raise

    def _sandbox_cmd(self, kernel_cmd: list[str], passed_env) -> list[str]:
        check()
        if self._cgroup is None:
            self._cgroup = Cgroup.create(Path(self.runtime_dir).name, self.limits.memory_mb << 20, self.limits.max_processes)
            self.memory_mechanism = self._cgroup.kind if self._cgroup else "rlimit"
        return sandbox_command(
            kernel_cmd,
            workdir=self.workdir,
            data_dir=self.course_data_dir,
            runtime_dir=self.runtime_dir,
            limits=self.limits,
            uid=self.sandbox_uid,
            cgroup_procs=self._cgroup.procs_files() if self._cgroup is not None else [],
            passed_env=passed_env,
        )

    def memory_peak(self) -> int | None:
        """Peak memory of the whole sandbox in bytes, when a cgroup measures it (else None)."""
        return self._cgroup.memory_peak() if self._cgroup is not None else None

    def log_tail(self, max_bytes: int = TAIL_BYTES) -> str:
        """The end of the kernel's stdout/stderr (bwrap errors, crashes), also after cleanup. It is what the
        kernel printed: for the grader's log, never for feedback."""
        return self._kernel_log.tail(max_bytes)

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
            log.warning("releasing a dropped sandbox failed", exc_info=True)
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
                pids |= set(processes.pids_of_uid(self._slot.uid))
            for pid in pids:
                processes.kill(pid)
            if not pids:
                return
            if time.monotonic() > deadline:
                log.warning("sandbox processes %s survived 10 s of SIGKILL", sorted(pids))
                return
            time.sleep(0.02)

    def _release(self) -> None:
        """Kill what is left and give back the uid, cgroup, folders and ownership (idempotent)."""
        self._kill_sandbox()
        self._kernel_log.close()  # keeps its tail: the runtime folder goes next
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
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


def kernel_manager(workdir: Path, data_dir: Path | None, limits: Limits, *, asynchronous: bool = True) -> KernelManager:
    """A kernel manager (not started) whose kernel runs sandboxed in ``workdir`` with ``limits``.

    ``data_dir`` (read-only inside, exported as COURSE_DATA_DIR) may be None. Raises SandboxUnavailable
    when bubblewrap cannot run here and SandboxError for folders that cannot be sandboxed.
    """
    check()
    workdir, data_dir = checked_folders(workdir, data_dir)
    cls = AsyncSandboxedKernelManager if asynchronous else SandboxedKernelManager
    return cls(workdir=workdir, data_dir=data_dir, limits=limits)
