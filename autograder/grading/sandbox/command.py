"""The command line of a sandboxed kernel::

    [sh: join a cgroup]  bwrap <namespaces, mounts>  setpriv <sandbox uid>  prlimit <rlimits>  <kernel command>

Only this module knows the flags of bwrap, setpriv and prlimit; it runs nothing.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from autograder.grading.limits import Limits
from autograder.grading.sandbox.folders import is_within, python_roots
from autograder.grading.sandbox.processes import pids_of_uid

FILE_SIZE_LIMIT = 1 << 30  # one file written by the kernel (also its log): 1 GiB
MAX_OPEN_FILES = 4096

# Environment variables the grader may pass into the kernel; everything else (tokens, paths of the
# grader's machine) stays outside.
# (Not all of "TF_": Terraform keeps tokens in TF_TOKEN_* and TF_VAR_*.)
PASSED_ENV = {
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "MPLBACKEND",
    "TZ",
    "LANG",
    "CUDA_VISIBLE_DEVICES",
    "KERAS_BACKEND",
    "TF_DETERMINISTIC_OPS",
    "TF_USE_LEGACY_KERAS",
}
PASSED_ENV_PREFIXES = ("TF_CPP_", "TF_ENABLE_", "TF_NUM_", "TF_XLA_", "OMP_", "KMP_", "MKL_", "OPENBLAS_", "LC_")

_FRESH_TMPFS = (Path("/tmp"), Path("/dev/shm"))  # empty folders: whatever is mounted inside needs its parents

# Top-level system folders that may be real folders or (merged /usr) links into /usr.
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def base_args(tmp_bytes: int) -> list[str]:
    """Namespaces and the read-only system: the part of the sandbox that does not depend on the submission."""
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in SYSTEM_LINKS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += [
        "--ro-bind",
        "/etc",
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/dev/shm",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/tmp",
    ]
    return args


def drop_privileges(setpriv: str | None, uid: int | None) -> list[str]:
    """setpriv's part: become ``uid`` with no groups, capabilities or way back; nothing when uid is None."""
    if uid is None:
        return []
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def _clamp(which: int, value: int) -> int:
    # After dropping root, prlimit cannot raise a hard limit: never ask for more than the current one.
    hard = resource.getrlimit(which)[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _missing_dirs(dests: list[Path], system: list[Path]) -> list[Path]:
    """Parent folders bwrap must create (with mode 0755: it would make them 0700) so that an unprivileged uid
    can walk to each mount. ``system`` are the mounts made before: those and what they contain exist."""
    made: list[Path] = []
    for dest in dests:
        for parent in reversed(dest.parents):
            if parent == Path("/") or parent in made or parent in system:
                continue
            if any(is_within(parent, s) for s in system if s not in _FRESH_TMPFS):
                continue  # inside a bound system folder: exists already
            made.append(parent)
    return made


def kernel_env(passed: Mapping[str, str], data_dir: Path | None) -> dict[str, str]:
    """The kernel's whole environment: a few fixed values plus the allow-listed ones of ``passed``."""
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


def sandbox_command(
    kernel_cmd: list[str],
    *,
    workdir: Path,
    data_dir: Path | None,
    runtime_dir: Path,
    limits: Limits,
    uid: int | None,
    cgroup_procs: list[str],
    passed_env: Mapping[str, str],
) -> list[str]:
    """The full command line. ``uid`` is the sandbox uid (None: no root, bwrap makes a user namespace);
    ``cgroup_procs`` are the ``cgroup.procs`` files the process joins before bwrap starts."""
    memory = limits.memory_mb << 20
    mounts: list[tuple[str, Path]] = [("--ro-bind", p) for p in python_roots()]
    if data_dir is not None:
        mounts.append(("--ro-bind", data_dir))
    # The runtime folder holds the kernel's sockets and connection file: same path inside and out.
    mounts += [("--bind", workdir), ("--bind", runtime_dir)]
    mounts.sort(key=lambda m: len(m[1].parts))  # a folder before anything mounted inside it
    system = [Path("/usr"), Path("/etc"), Path("/tmp"), Path("/proc"), Path("/dev")]
    system += [Path(t) for t in SYSTEM_LINKS if os.path.exists(t)]

    args = [shutil.which("bwrap"), *base_args(memory)]
    if uid is None:
        args.append("--unshare-user")
    for folder in _missing_dirs([p for _, p in mounts], system):
        args += ["--perms", "0755", "--dir", str(folder)]
    for kind, path in mounts:
        args += [kind, str(path), str(path)]
    args += ["--chdir", str(workdir), "--clearenv"]
    for key, value in sorted(kernel_env(passed_env, data_dir).items()):
        args += ["--setenv", key, value]
    args.append("--")

    if uid is not None:
        args += drop_privileges(shutil.which("setpriv"), uid)
        nproc = limits.max_processes
    else:
        # Without root RLIMIT_NPROC counts all processes of the grader's user: allow for those.
        nproc = limits.max_processes + len(pids_of_uid(os.getuid()))
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
    if cgroup_procs:
        # Join the cgroup before bwrap starts, so every sandbox process is born inside it.
        script = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(cgroup_procs)))
        args = ["/bin/sh", "-c", script + f' && shift {len(cgroup_procs)} && exec "$@"', "sh", *cgroup_procs, *args]
    return args
