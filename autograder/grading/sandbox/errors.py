"""The sandbox's errors, in a module of their own so that every part of the sandbox can raise them."""

from __future__ import annotations

from autograder.errors import AutograderError


class SandboxError(AutograderError, RuntimeError):
    """The sandbox cannot be set up for this submission."""


class SandboxUnavailable(SandboxError):
    """The machine cannot run sandboxed kernels (bwrap missing, too old or not permitted)."""
