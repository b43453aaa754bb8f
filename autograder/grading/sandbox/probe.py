"""Whether sandboxed kernels can run on this machine: the tools are there, and a trivial sandbox works.

The probe runs ``/bin/true`` in a sandbox built like the kernel's, so "cannot create a namespace" (an
unprivileged container, user namespaces switched off) is reported up front with the reason, instead of as
a kernel that never starts.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from autograder.grading.sandbox.command import base_args, drop_privileges
from autograder.grading.sandbox.errors import SandboxUnavailable
from autograder.grading.sandbox.uids import UID_BASE, is_root

MISSING_BWRAP = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or pass --unsafe to grade without a sandbox"
MIN_BWRAP = (0, 6)  # --size and --perms for --tmpfs


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)


@functools.lru_cache(maxsize=8)  # once per process and set of tools: a kernel start calls check() too
def _probe(bwrap: str, setpriv: str | None, prlimit: str, root: bool) -> str | None:
    """Run a trivial command in a sandbox like the kernel's; return why it failed, or None."""
    version = _bwrap_version(bwrap)
    if version < MIN_BWRAP:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_BWRAP))
        return f"bubblewrap {have} is too old (need {need} or newer), or pass --unsafe to grade without a sandbox"
    cmd = [bwrap, *base_args(64 << 20)]
    if not root:
        cmd.append("--unshare-user")
    # A uid below the pool: never one a live sandbox holds.
    cmd += ["--", *drop_privileges(setpriv, UID_BASE - 1 if root else None), prlimit, "--nproc=64", "--", "/bin/true"]
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
    root = is_root()
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
