"""The sandbox probe (``sandbox.check`` / ``available``): a machine that cannot run a sandbox says why."""

from __future__ import annotations

import shutil

import pytest

from autograder import config
from autograder.grading import sandbox


def test_missing_bwrap_is_a_clear_error(tmp_path, monkeypatch):
    workdir = tmp_path / "alice"
    workdir.mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert not sandbox.available()
    with pytest.raises(sandbox.SandboxUnavailable) as info:
        sandbox.kernel_manager(workdir, None, config.Limits())
    assert "bubblewrap (bwrap) is not installed: apt-get install bubblewrap" in str(info.value)
    assert "--unsafe" in str(info.value)


@pytest.mark.parametrize(
    "script, expected",
    [
        ('echo "bubblewrap 0.4.1"', "bubblewrap 0.4.1 is too old"),
        (
            'case "$1" in --version) echo "bubblewrap 0.8.0";; *) echo "bwrap: Creating new namespace failed" >&2; exit 1;; esac',
            "cannot create a sandbox here: bwrap: Creating new namespace failed",
        ),
    ],
)
def test_unusable_bwrap_is_a_clear_error(tmp_path, monkeypatch, script, expected):
    workdir = tmp_path / "alice"
    workdir.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    for tool in ("setpriv", "prlimit"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (util-linux) is not installed")
        (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(sandbox.SandboxUnavailable, match=expected):
        sandbox.kernel_manager(workdir, None, config.Limits())
