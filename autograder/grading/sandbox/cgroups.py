"""A cgroup for the whole sandbox, when one is writable: memory and process limits across all its processes.

RLIMIT_DATA and RLIMIT_NPROC are per process (per uid); a cgroup also charges the tmpfs folders and several
processes together, and lets shutdown find (and kill) every process of the sandbox. v2 is preferred; v1
(memory, plus pids when mounted) is what some hosts, this one included, offer. Without either, the rlimits
alone apply.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from autograder.grading.sandbox import processes
from autograder.grading.sandbox.uids import is_root

log = logging.getLogger(__name__)


def _write(path: Path, value: str) -> None:
    path.write_text(value)


class Cgroup:
    """A cgroup (v2, or v1 memory [+ pids]) holding every process of one sandbox."""

    V2_ROOT = Path("/sys/fs/cgroup")

    def __init__(self, kind: str, dirs: list[Path]) -> None:
        self.kind, self.dirs = kind, dirs

    @classmethod
    def create(cls, name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
        """A new cgroup with the limits set, or None when none can be made here (then rlimits alone apply)."""
        if not is_root():
            return None
        for make in (cls._create_v2, cls._create_v1):
            try:
                group = make(name, memory_bytes, max_pids)
            except OSError:  # not delegated to us, read-only, or a controller missing
                log.debug("no cgroup %s for sandbox %s", make.__name__.removeprefix("_create_"), name, exc_info=True)
                group = None
            if group is not None:
                return group
        return None

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
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
    def _create_v1(cls, name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
        # v1 groups go next to the grader's own, where a delegated hierarchy lets us write.
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
                        log.debug("no swap accounting in %s", group, exc_info=True)
                else:
                    _write(group / "pids.max", str(max_pids))
        except OSError:
            made.remove()
            raise
        return made

    def procs_files(self) -> list[str]:
        """The files a process writes its pid to in order to join the group."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except FileNotFoundError:  # removed already: holds nothing
                continue
            except OSError:
                log.debug("cannot list the processes of %s", d, exc_info=True)
        return found

    def memory_peak(self) -> int | None:
        for d in self.dirs:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((d / name).read_text())
                except (OSError, ValueError):  # older kernels have neither file
                    continue
        return None

    def kill(self) -> None:
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                try:
                    _write(d / "cgroup.kill", "1")
                except OSError:  # the per-pid kill below still runs
                    log.debug("cgroup.kill failed in %s", d, exc_info=True)
        for pid in self.pids():
            processes.kill(pid)

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
            else:
                log.warning("could not remove the cgroup %s", d)
