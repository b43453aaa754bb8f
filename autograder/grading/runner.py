"""Execute a notebook for grading, with limits, and always come back with a result.

``run(nb, limits=...)`` executes a copy of ``nb`` in a fresh temporary working directory that holds only
the notebook and copies of the student helper modules. A cell error, a per-cell timeout (the kernel is
interrupted and the next cell runs), the whole-notebook timeout (the kernel is killed), a dead kernel or a
kernel that does not start never raise: the executed notebook so far comes back with an ``Outcome``.
Output beyond ``limits.max_output_kb`` per cell is dropped while the cell runs, so a flood cannot exhaust
memory. Stderr is kept for the record but never matters for scoring.

Kernels started ahead (``keep_kernels_ahead``, for long-lived worker processes): a kernel takes about a second
to start and TensorFlow five more to import, so a worker keeps two kernels started, each in its own fresh folder
and sandbox, with the assignment's modules imported by the grader's code before any student code exists.
A run takes one when it was started exactly as the run would start one; the kernels taken are started again
once the runs are over. Each kernel still serves exactly one run: none is ever reused.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import copy
import dataclasses
import importlib.util
import json
import logging
import os
import resource
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder import course
from autograder.errors import AutograderError
from autograder.grading import cleanup, leftovers
from autograder.grading.kernel_folder import KernelFolderMixin
from autograder.grading.limits import Limits
from autograder.grading.result import Why

log = logging.getLogger(__name__)

NOTEBOOK_NAME = "submission.ipynb"

# factory(workdir, data_dir, limits) -> a jupyter_client (Async)KernelManager that is not started yet.
KernelManagerFactory = Callable[[Path, "Path | None", Limits], Any]


@dataclasses.dataclass
class Outcome:
    """How an execution ended. ``status``: 'ok' (every cell ran; some may have raised), 'timeout' (the
    notebook time ran out), 'dead' (the kernel died), 'no_kernel' (it never started)."""

    status: str = "ok"
    reason: str = ""
    code: Why = Why.OTHER  # what kind of stop ``reason`` describes (for pages), when status is not 'ok'
    cell: int | None = None  # index of the cell where the run stopped
    seconds: float = 0.0
    timed_out_cells: list[int] = dataclasses.field(default_factory=list)
    cut_cells: list[int] = dataclasses.field(default_factory=list)
    error_cells: list[int] = dataclasses.field(default_factory=list)


class _NotebookTimeout(Exception):
    pass


def _mark(cell, **flags) -> None:
    cell.setdefault("metadata", {}).setdefault("autograder", {}).update(flags)


def _error_output(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingClient(NotebookClient):
    """nbclient with a notebook deadline, interrupt-and-continue cell timeouts and an output cap."""

    def __init__(self, nb, km, *, limits: Limits, deadline: float, **kw):
        super().__init__(
            nb,
            km=km,
            allow_errors=True,
            interrupt_on_timeout=True,
            timeout_func=self._cell_timeout,
            kernel_name="python3",  # never the kernel a submission asks for
            record_timing=False,
            **kw,
        )
        self.limits = limits
        self.deadline = deadline
        self.max_output = max(1, limits.max_output_kb) * 1024
        self.max_total = max(1, limits.max_notebook_output_kb) * 1024
        self.current = -1
        self.outcome = Outcome()
        self._bytes: dict[int, int] = {}

    def _cell_timeout(self, cell) -> int:
        remaining = self.deadline - time.monotonic()
        # nbclient reads 0 or less as "no timeout": never hand it that.
        return max(1, int(min(self.limits.cell_timeout, remaining + 1)))

    async def _async_handle_timeout(self, timeout, cell=None):
        if time.monotonic() >= self.deadline - 0.5:
            raise _NotebookTimeout()
        if self.current not in self.outcome.timed_out_cells:
            self.outcome.timed_out_cells.append(self.current)
        return await super()._async_handle_timeout(timeout, cell)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code" and cell.source.strip() and time.monotonic() >= self.deadline:
            raise _NotebookTimeout()
        self.current = cell_index
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell_index in self.outcome.timed_out_cells:
            cell.outputs.append(_error_output("CellTimeout", f"the cell ran longer than {self.limits.cell_timeout} s and was interrupted"))
            _mark(cell, timed_out=True)
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            self.outcome.error_cells.append(cell_index)
        return result

    def _total(self) -> int:
        return sum(self._bytes.values())

    def _cut(self, cell_index: int, why: str) -> None:
        cell = self.nb.cells[cell_index]
        if not cell.get("metadata", {}).get("autograder", {}).get("output_cut"):
            _mark(cell, output_cut=True)
            self.outcome.cut_cells.append(cell_index)
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=f"\n[output cut by the grader: {why}]\n"))

    def _fits(self, cell_index: int, size: int) -> bool:
        """Whether ``size`` more bytes of output fit in the cell's and the notebook's budget; cut if not."""
        used = self._bytes.get(cell_index, 0)
        if used > self.max_output:  # already cut: stays cut until the cell clears its output
            return False
        if used + size > self.max_output:
            self._cut(cell_index, f"more than {self.limits.max_output_kb} KiB in this cell")
        elif self._total() + size > self.max_total:
            self._cut(cell_index, f"more than {self.limits.max_notebook_output_kb} KiB in the whole notebook")
        else:
            return True
        self._bytes[cell_index] = self.max_output + 1
        return False

    def output(self, outs, msg, display_id, cell_index):
        size = _size(msg)
        if self.clear_before_next_output or not outs:
            self._bytes[cell_index] = 0
        if not self._fits(cell_index, size):
            return None
        self._bytes[cell_index] = self._bytes.get(cell_index, 0) + size
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        # A display update rewrites earlier outputs in place, without passing through output(): it may only
        # change outputs of the running cell, and counts against its budget. Updates aimed at any other cell
        # (a test cell's outputs above all) are dropped.
        targets = self._display_id_map.get(display_id, {})
        if any(index != self.current for index in targets):
            return
        size = _size(msg)
        if self.current in targets and not self._fits(self.current, size):
            return
        self._bytes[self.current] = self._bytes.get(self.current, 0) + (size if self.current in targets else 0)
        super()._update_display_id(display_id, msg)

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self._bytes[cell_index] = 0


def _size(msg) -> int:
    try:
        return len(json.dumps(msg.get("content", {})))
    except (TypeError, ValueError):
        return 1 << 40  # unmeasurable: treat as too large


class LocalKernelManager(KernelFolderMixin, AsyncKernelManager):
    """A plain (unsandboxed) kernel: the Python of this environment, on unix sockets in a folder of its own;
    its stdout/stderr (start-up warnings, why it died) go to its log, not into the grader's output."""

    async def _async_pre_start_kernel(self, **kw):
        self._open_folder()
        try:
            return await super()._async_pre_start_kernel(**kw)
        except BaseException:
            self._close_folder()
            raise

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        self._output_to_log(kw)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if not restart:
                self._close_folder()

    pre_start_kernel = _async_pre_start_kernel
    _launch_kernel = _async_launch_kernel
    cleanup_resources = _async_cleanup_resources

    def __del__(self) -> None:
        self._close_folder()
        super().__del__()


def local_kernel_manager(workdir: Path, data_dir: Path | None, limits: Limits) -> LocalKernelManager:
    """A plain (unsandboxed) kernel manager, not started; nbclient starts it in ``workdir``."""
    return LocalKernelManager()


def kernel_env(data_dir: Path | None) -> dict[str, str]:
    """The environment of a grading kernel."""
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
    if data_dir is not None:
        env["COURSE_DATA_DIR"] = str(data_dir)
    else:
        env.pop("COURSE_DATA_DIR", None)
    return env


def prepare_workdir(nb, helpers: Path = course.STUDENT_HELPERS) -> Path:
    """A fresh folder holding only the notebook (None: not yet) and copies of the helper modules."""
    leftovers.sweep_once()  # folders of graders that were killed before they could clean up
    workdir = leftovers.make_folder("run")
    if nb is not None:
        nbformat.write(nb, workdir / NOTEBOOK_NAME)
    _copy_helpers(workdir, helpers)
    return workdir


def _copy_helpers(workdir: Path, helpers: Path) -> None:
    for helper in sorted(Path(helpers).glob("*.py")):
        shutil.copy2(helper, workdir / helper.name)


async def _shutdown(client: GradingClient, km) -> None:
    """Stop the kernel and free its resources, whatever happened; each failure is logged and passed over."""
    # We own the kernel (nbclient does not when given a km). nbclient also registers an atexit cleanup
    # when it starts one; ours has run, so that hook would only fail at interpreter exit.
    atexit.unregister(client._cleanup_kernel)
    try:
        if getattr(client, "kc", None) is not None:
            client.kc.stop_channels()
    except Exception as exc:  # noqa: BLE001
        log.debug("stopping the kernel's channels failed", exc_info=exc)
    try:
        if km.has_kernel:
            await ensure_async(km.shutdown_kernel(now=True))
    except Exception as exc:  # noqa: BLE001
        log.debug("kernel shutdown failed; killing it", exc_info=exc)
        try:
            await ensure_async(km._kill_kernel())
        except Exception as exc2:  # noqa: BLE001
            log.warning("killing the kernel failed", exc_info=exc2)
    try:
        await ensure_async(km.cleanup_resources())
    except Exception as exc:  # noqa: BLE001
        log.warning("cleaning up the kernel's resources failed", exc_info=exc)


async def _execute(
    nb, limits: Limits, factory: KernelManagerFactory, workdir: Path, data_dir: Path | None, km: Any = None
) -> tuple[Any, Outcome]:
    """Run ``nb`` in ``workdir``; ``km``: a kernel already started there (else one is made and started)."""
    start = time.monotonic()
    deadline = start + limits.notebook_timeout
    try:
        km = km if km is not None else factory(workdir, data_dir, limits)
    except Exception as exc:  # e.g. the sandbox refuses a folder: a result, not a crash
        log.warning("the kernel for %s could not be set up", workdir, exc_info=exc)
        outcome = Outcome(
            status="no_kernel", code=Why.NO_KERNEL, reason=f"the kernel could not be set up: {type(exc).__name__}: {str(exc)[:300]}"
        )
        outcome.seconds = round(time.monotonic() - start, 3)
        _close_run(nb, outcome)
        return nb, outcome
    client = GradingClient(nb, km, limits=limits, deadline=deadline, resources={"metadata": {"path": str(workdir)}})
    outcome = client.outcome
    try:
        # A backstop beyond the cell deadlines: kernel start or a stuck channel cannot hang the grader.
        await asyncio.wait_for(client.async_execute(cwd=str(workdir), env=kernel_env(data_dir)), timeout=limits.notebook_timeout + 30)
    except (TimeoutError, _NotebookTimeout, CellTimeoutError):
        outcome.status, outcome.code, outcome.reason = (
            "timeout",
            Why.NOTEBOOK_TIMEOUT,
            f"the notebook ran longer than {limits.notebook_timeout} s and was stopped",
        )
    except DeadKernelError:
        outcome.status, outcome.code, outcome.reason = "dead", Why.KERNEL_DIED, "the kernel died (out of memory, a crash or an exit call)"
    except Exception as exc:  # anything else is reported as a result, never raised to the caller
        started = client.kc is not None
        outcome.status = "dead" if started else "no_kernel"
        outcome.code = Why.EXECUTION if started else Why.NO_KERNEL
        if started and isinstance(exc, MemoryError):  # the grader's process, reading what the kernel sent
            outcome.code = Why.GRADER_MEMORY
        # The reason names the exception's type only: its text may hold what the kernel sent. The log keeps all.
        # Our own errors before the kernel exists (the sandbox refusing to start) are the grader's words.
        log.warning("execution in %s ended with an error", workdir, exc_info=exc)
        said = f": {str(exc)[:300]}" if not started and isinstance(exc, AutograderError) else ""
        outcome.reason = f"{'execution' if started else 'the kernel did not start'}: {type(exc).__name__}{said}"
    finally:
        await _shutdown(client, km)
    if outcome.status in ("dead", "no_kernel"):
        _log_kernel_output(km, workdir, outcome)
    if outcome.status != "ok":
        outcome.cell = client.current if client.current >= 0 else None
        _close_run(client.nb, outcome)
    outcome.seconds = round(time.monotonic() - start, 3)
    return client.nb, outcome


def _log_kernel_output(km, workdir: Path, outcome: Outcome) -> None:
    """Put the end of the kernel's own stderr (it says why the kernel did not start or died) in the grader's
    log. Only there: it holds whatever the kernel printed, so it never goes into the student's feedback.
    Managers without a log (the unsandboxed one) have nothing to add."""
    tail = getattr(km, "log_tail", None)
    if tail is None:
        return
    text = tail().rstrip()
    what = "did not start" if outcome.status == "no_kernel" else "died"
    # Indented, so that lines the kernel printed cannot pass for the grader's own log lines.
    shown = "\n".join(f"    | {line}" for line in text.splitlines()) if text else "    (nothing)"
    log.warning("the kernel in %s %s; the end of its stdout/stderr:\n%s", workdir, what, shown)


def _close_run(nb, outcome: Outcome) -> None:
    """Mark where and why the run stopped, and which cells never ran."""
    stop = outcome.cell if outcome.cell is not None else -1
    if 0 <= stop < len(nb.cells):
        nb.cells[stop].setdefault("outputs", []).append(_error_output("GradingStopped", outcome.reason))
        _mark(nb.cells[stop], stopped=outcome.status)
    for cell in nb.cells[stop + 1 :]:
        if cell.cell_type == "code":
            _mark(cell, not_run=True)


def run(
    nb,
    *,
    limits: Limits | None = None,
    kernel_manager_factory: KernelManagerFactory | None = None,
    data_dir: Path | None = None,
    helpers: Path = course.STUDENT_HELPERS,
    preload: tuple[str, ...] = (),
) -> tuple[Any, Outcome]:
    """Execute a copy of ``nb``; return (executed notebook, Outcome). Never raises for what the notebook does.

    ``preload``: modules a kernel started ahead imports before the notebook runs (only with
    ``keep_kernels_ahead``; a kernel started for this run imports nothing beyond what the notebook does).
    """
    limits = limits or Limits()
    nb = _cleared(nb)
    factory = kernel_manager_factory or local_kernel_manager
    if _keeping_ahead:
        return _loop().run_until_complete(_run_ahead(nb, limits, _Key.of(factory, data_dir, limits, helpers, preload)))
    coro = _run_fresh(nb, limits, factory, data_dir, helpers)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside an event loop (e.g. a Jupyter session): run in a thread with its own loop.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _cleared(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


async def _run_fresh(nb, limits: Limits, factory, data_dir: Path | None, helpers: Path) -> tuple[Any, Outcome]:
    workdir = prepare_workdir(nb, helpers)
    try:
        return await _execute(nb, limits, factory, workdir, data_dir)
    finally:
        cleanup.remove_tree(workdir)  # never raises: a folder left behind is logged and swept later


# ------------------------------------------------------------------------------ kernels started ahead

# Run silently (no history, no execution count, no output kept) in a kernel started ahead, before anything of
# the submission exists. It binds no name in the kernel's namespace: the notebook finds the modules only in
# sys.modules, as if it had imported them itself.
_PRELOAD = """
def __autograder_preload(names):
    import importlib
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            pass
__autograder_preload({names!r})
del __autograder_preload
"""
PRELOAD_TIMEOUT_S = 300  # a start slower than this is abandoned; the run then starts its own kernel


@dataclasses.dataclass(frozen=True)
class _Key:
    """Everything that decides how a kernel is started: a kernel started ahead serves only a run whose key
    is equal (same sandbox, data, limits of the sandbox, helpers, modules, and the memory bound this process
    passes on to an unsandboxed kernel)."""

    factory: Any
    data_dir: str | None
    memory_mb: int
    max_processes: int
    helpers: str
    preload: tuple[str, ...]
    inherited_data_limit: tuple[int, int]

    @staticmethod
    def of(factory, data_dir, limits: Limits, helpers, preload) -> _Key:
        return _Key(
            factory,
            str(data_dir) if data_dir is not None else None,
            limits.memory_mb,
            limits.max_processes,
            str(helpers),
            tuple(preload),
            resource.getrlimit(resource.RLIMIT_DATA),
        )


@dataclasses.dataclass
class _Ahead:
    key: _Key
    task: asyncio.Task  # -> (workdir, km) of a started kernel with its modules imported, or None


# Kernels kept ahead: a graded run and its explain run take two, and a job that needs one leaves one ready
# for the next job. They are started again after the runs that took them, when the machine is freer.
KEPT_AHEAD = 2
_keeping_ahead = False
_count = KEPT_AHEAD
_kept: list[_Ahead] = []
_the_loop: asyncio.AbstractEventLoop | None = None


def keep_kernels_ahead(on: bool = True, count: int = KEPT_AHEAD) -> None:
    """From now on, keep ``count`` kernels started ahead for the next runs of this process (or stop doing so
    and shut down the ones kept). For a worker process that grades job after job; never in a Jupyter session."""
    global _keeping_ahead, _count
    _keeping_ahead = on and count > 0
    _count = max(0, count)
    if not _keeping_ahead:
        drop_ahead()


def start_ahead(
    *,
    limits: Limits,
    kernel_manager_factory: KernelManagerFactory | None = None,
    data_dir: Path | None = None,
    helpers: Path = course.STUDENT_HELPERS,
    preload: tuple[str, ...] = (),
) -> None:
    """Start the kernels kept ahead for runs like this one now, before the first (with ``keep_kernels_ahead``)."""
    if not _keeping_ahead:
        return
    key = _Key.of(kernel_manager_factory or local_kernel_manager, data_dir, limits, helpers, preload)
    _loop().run_until_complete(_drop_other_than(key))
    _schedule(key, limits)


def wait_ahead(until_readable: int | None = None) -> None:
    """Let the kernels being started ahead finish starting (a worker calls this when it is idle); return
    earlier when the file descriptor ``until_readable`` has something to read (the next job)."""
    if _kept:
        _loop().run_until_complete(_wait_ahead(until_readable))


async def _wait_ahead(fd: int | None) -> None:
    loop = asyncio.get_running_loop()
    readable = loop.create_future()
    if fd is not None:
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
    try:
        pending = {a.task for a in _kept if not a.task.done()}
        while pending and not readable.done():
            _, pending = await asyncio.wait(pending | {readable}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(readable)
    finally:
        if fd is not None:
            loop.remove_reader(fd)
        readable.cancel()


def drop_ahead() -> None:
    """Shut down the kernels kept ahead, if any, and remove their folders."""
    _loop().run_until_complete(_drop_other_than(None))


async def _drop_other_than(key: _Key | None) -> None:
    global _kept
    other = [a for a in _kept if a.key != key]
    _kept = [a for a in _kept if a.key == key]
    for ahead in other:
        await _dispose(ahead)


def _loop() -> asyncio.AbstractEventLoop:
    # One loop for the worker's life: a kernel started ahead belongs to the loop that started it.
    global _the_loop
    if _the_loop is None or _the_loop.is_closed():
        _the_loop = asyncio.new_event_loop()
    return _the_loop


async def _dispose(ahead: _Ahead) -> None:
    if not ahead.task.done():  # still starting: no need to wait for its imports
        ahead.task.cancel()
    try:
        started = await ahead.task
    except asyncio.CancelledError:
        return  # _start_ahead cleaned up after itself
    if started is not None:
        workdir, km = started
        await _stop_kernel(km)
        cleanup.remove_tree(workdir)


async def _stop_kernel(km) -> None:
    try:
        if km.has_kernel:
            await ensure_async(km.shutdown_kernel(now=True))
        await ensure_async(km.cleanup_resources())
    except Exception as exc:  # noqa: BLE001
        log.warning("stopping a kernel started ahead failed", exc_info=exc)


async def _start_ahead(key: _Key, limits: Limits) -> tuple[Path, Any] | None:
    """A kernel started in a fresh folder, with ``key.preload`` imported; None when that failed (logged)."""
    workdir = km = None
    try:
        workdir = prepare_workdir(None, Path(key.helpers))
        data_dir = Path(key.data_dir) if key.data_dir is not None else None
        km = key.factory(workdir, data_dir, limits)
        await asyncio.wait_for(_boot(km, workdir, data_dir, key.preload), timeout=PRELOAD_TIMEOUT_S)
        return workdir, km
    except BaseException as exc:  # also a cancel: nothing of a half-started kernel may stay behind
        if km is not None:
            await _stop_kernel(km)
        if workdir is not None:
            cleanup.remove_tree(workdir)
        if not isinstance(exc, Exception):
            raise
        log.warning("starting a kernel ahead failed; the run starts its own", exc_info=exc)
        return None


async def _boot(km, workdir: Path, data_dir: Path | None, preload: tuple[str, ...]) -> None:
    # The same start as nbclient's for a run (folder, environment, history kept in memory only).
    await ensure_async(km.start_kernel(cwd=str(workdir), env=kernel_env(data_dir), extra_arguments=["--HistoryManager.hist_file=:memory:"]))
    kc = km.client()
    kc.start_channels()
    try:
        await ensure_async(kc.wait_for_ready(timeout=60))
        if preload:
            reply = await kc.execute_interactive(
                _PRELOAD.format(names=list(preload)), silent=True, store_history=False, output_hook=lambda msg: None
            )
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"the preload did not run: {reply['content'].get('ename')}")
    finally:
        kc.stop_channels()


def _schedule(key: _Key, limits: Limits) -> None:
    """Start kernels ahead with ``key`` until ``_count`` are kept."""
    while len(_kept) < _count:
        _kept.append(_Ahead(key, _loop().create_task(_start_ahead(key, limits))))


async def _take(key: _Key) -> tuple[Path, Any] | None:
    """A kernel kept ahead that was started with ``key`` (waiting for it to finish starting), else None."""
    await _drop_other_than(key)
    if not _kept:
        return None
    return await _kept.pop(0).task


async def _run_ahead(nb, limits: Limits, key: _Key) -> tuple[Any, Outcome]:
    started = await _take(key)
    if not _kept:  # none left for a run that follows (explain): start one now rather than after
        _schedule(key, limits)
    workdir = None
    try:
        if started is None:
            workdir, km = prepare_workdir(nb, Path(key.helpers)), None
        else:
            workdir, km = started
            nbformat.write(nb, workdir / NOTEBOOK_NAME)
            _copy_helpers(workdir, Path(key.helpers))  # the helpers of now, should they have changed
        data_dir = Path(key.data_dir) if key.data_dir is not None else None
        return await _execute(nb, limits, key.factory, workdir, data_dir, km=km)
    finally:
        if workdir is not None:
            cleanup.remove_tree(workdir)
        _schedule(key, limits)  # replace what this run took
        # nbclient adds these on every run; on a loop that outlives the run they would swallow Ctrl-C.
        for sig in (signal.SIGINT, signal.SIGTERM):
            _loop().remove_signal_handler(sig)


def imports_of(nb, helpers: Path = course.STUDENT_HELPERS) -> tuple[str, ...]:
    """The installed modules a (trusted) notebook imports, in order: what a kernel started ahead preloads.

    Helper modules are left out (a submission may change them), and so is anything not importable here.
    """
    local = {p.stem for p in Path(helpers).glob("*.py")}
    names: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [node.module]
            else:
                continue
            for name in found:
                top = name.partition(".")[0]
                if top in local or name in names:
                    continue
                try:
                    if importlib.util.find_spec(top) is None:
                        continue
                except (ImportError, ValueError):
                    continue
                names.append(name)
    return tuple(names)
