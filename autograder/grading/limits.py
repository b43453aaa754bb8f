"""Resource limits for grading one submission (a library type; the CLI exposes it through config.py)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Limits:
    """Resource limits for one submission."""

    cell_timeout: int = 300
    """Seconds one cell may run."""
    notebook_timeout: int = 900
    """Seconds the whole notebook may run."""
    memory_mb: int = 4096
    """Memory limit of the sandbox, in MiB (per-process data limit, and a memory cgroup where one is writable)."""
    max_processes: int = 256
    """Processes and threads the sandbox user may have."""
    max_output_kb: int = 1024
    """Output kept per cell, in KiB; the rest is cut."""
    max_notebook_output_kb: int = 8192
    """Output kept for the whole notebook, in KiB; once reached, every later output is cut."""
