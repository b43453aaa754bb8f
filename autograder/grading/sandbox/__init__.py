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

Modules: ``probe`` (can a sandbox run here: ``check``, ``available``), ``folders`` (what may be shown:
``python_roots``, refused folders), ``command`` (the bwrap/setpriv/prlimit command line), ``uids`` (the
pool of sandbox uids), ``cgroups`` (the cgroup of one sandbox), ``processes`` (find and kill by uid),
``kernel`` (the kernel managers, over ``grading.kernel_folder``), ``errors``.
"""

from __future__ import annotations

from autograder.grading.sandbox.errors import SandboxError, SandboxUnavailable
from autograder.grading.sandbox.folders import python_roots
from autograder.grading.sandbox.kernel import AsyncSandboxedKernelManager, SandboxedKernelManager, kernel_manager
from autograder.grading.sandbox.probe import available, check
from autograder.grading.sandbox.uids import UID_BASE

__all__ = [
    "UID_BASE",
    "AsyncSandboxedKernelManager",
    "SandboxError",
    "SandboxUnavailable",
    "SandboxedKernelManager",
    "available",
    "check",
    "kernel_manager",
    "python_roots",
]
