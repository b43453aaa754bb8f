"""The kernel's own stdout/stderr file (``grading/kernel_log.py``): its tail is printable and outlives the file."""

from __future__ import annotations

from autograder.grading.kernel_log import KernelLog


def test_tail_is_the_end_and_is_kept_after_the_folder_is_gone(tmp_path):
    kernel_log = KernelLog()
    assert kernel_log.tail() == ""
    out = kernel_log.open(tmp_path)
    assert kernel_log.open(tmp_path) is out  # a restart appends to the same file
    out.write(b"x" * 10_000 + b"\nTraceback: the real reason\n")
    out.flush()
    assert kernel_log.tail(30) == "xx\nTraceback: the real reason\n"
    kernel_log.close()
    (tmp_path / "kernel.log").unlink()  # the runtime folder is removed at cleanup
    assert kernel_log.tail().endswith("x\nTraceback: the real reason\n")
    assert len(kernel_log.tail()) == 4096
    kernel_log.close()  # idempotent
    assert kernel_log.tail().endswith("the real reason\n")


def test_tail_reads_what_the_kernel_wrote_even_if_it_replaced_the_file(tmp_path):
    kernel_log = KernelLog()
    out = kernel_log.open(tmp_path)
    out.write(b"bwrap: the real error\n")
    out.flush()
    (tmp_path / "kernel.log").unlink()  # inside, the runtime folder is the kernel's: it may swap the file
    (tmp_path / "kernel.log").write_bytes(b"all is well\n")
    assert kernel_log.tail() == "bwrap: the real error\n"


def test_control_characters_cannot_reach_the_graders_terminal(tmp_path):
    kernel_log = KernelLog()
    out = kernel_log.open(tmp_path)
    out.write(b"\x1b[2J\x1b]0;owned\x07line\r\tend\n\xff")
    out.flush()
    tail = kernel_log.tail()
    assert tail == "\\x1b[2J\\x1b]0;owned\\x07line\\x0d\tend\n\ufffd"
    assert not any(ord(c) < 32 and c not in "\n\t" for c in tail)
