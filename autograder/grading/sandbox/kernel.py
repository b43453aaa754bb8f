"""The sandboxed kernel manager: jupyter_client's launch and shutdown steps, with the sandbox around them.

Start: reserve a uid (root only), hand the working folder to it, make the runtime folder (sockets, the
connection file, the kernel log), a cgroup when one is writable, then launch the command of
``command.sandbox_command``. Stop: kill every process of the sandbox, then give everything back. Cleanup is
idempotent and also runs when a start fails or the manager is dropped without shutdown.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.utils import run_sync

from autograder.grading import cleanup
from autograder.grading.kernel_folder import KernelFolderMixin
from autograder.grading.limits import Limits
from autograder.grading.sandbox import processes
from autograder.grading.sandbox.cgroups import Cgroup
from autograder.grading.sandbox.command import sandbox_command
from autograder.grading.sandbox.folders import checked_folders
from autograder.grading.sandbox.probe import check
from autograder.grading.sandbox.uids import UidSlot, is_root

log = logging.getLogger(__name__)


class _SandboxMixin(KernelFolderMixin):
    """Overrides of jupyter_client's kernel-launch steps; shared by the blocking and asyncio managers."""

    def __init__(self, *, workdir: Path, data_dir: Path | None, limits: Limits, **kw) -> None:
        super().__init__(**kw)
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
        self._slot: UidSlot | None = None
        self._cgroup: Cgroup | None = None
        self._owner: tuple[int, int] | None = None

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
        self._open_folder()
        if self.sandbox_uid is not None:
            os.chown(self.runtime_dir, self.sandbox_uid, self.sandbox_uid)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            cmd = self._sandbox_cmd(kernel_cmd, kw.get("env") or os.environ)
            if self.sandbox_uid is not None:
                os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
            self._output_to_log(kw)
            kw["cwd"] = str(self.workdir)
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
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        self._close_folder()
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
