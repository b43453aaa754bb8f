"""The cgroup of one sandbox (``sandbox/cgroups.py``), checked against a stand-in of /sys/fs/cgroup."""

from __future__ import annotations

import os

import pytest

from autograder.grading.sandbox.cgroups import Cgroup


@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are only used when the grader is root")
def test_cgroup_v2_setup_writes_the_limits(tmp_path, monkeypatch):
    # This machine may have cgroup v1 only; check the v2 branch against a stand-in of /sys/fs/cgroup.
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(Cgroup, "V2_ROOT", root)
    parent = root / "autograder-sandbox"
    parent.mkdir()
    (parent / "cgroup.subtree_control").write_text("")
    group = Cgroup.create("kernel-1", 300 << 20, 40)
    assert group is not None and group.kind == "cgroup v2"
    assert group.dirs == [parent / "kernel-1"]
    assert (parent / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (parent / "kernel-1" / "memory.max").read_text() == str(300 << 20)
    assert (parent / "kernel-1" / "pids.max").read_text() == "40"
    assert group.procs_files() == [str(parent / "kernel-1" / "cgroup.procs")]
    # Without the memory controller delegated at the root, no cgroup is made (rlimits alone apply).
    (root / "cgroup.subtree_control").write_text("pids\n")
    assert Cgroup._create_v2("kernel-2", 300 << 20, 40) is None
