"""atomic_write: the target changes only when the whole write succeeds. can_write_in: whether
an output can be written to a folder, tried before any work."""

import sys
from pathlib import Path

import pytest

from minseq.files import atomic_write, can_write_in


def test_writes_text_and_bytes(tmp_path):
    with atomic_write(tmp_path / "a" / "x.txt", "w") as f:
        f.write("hello")
    with atomic_write(tmp_path / "y.bin") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "a" / "x.txt").read_text() == "hello"
    assert (tmp_path / "y.bin").read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_write(target, "w") as f:
            f.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_the_result_is_readable_by_everyone(tmp_path):
    with atomic_write(tmp_path / "r.json", "w") as f:
        f.write("{}")
    assert (tmp_path / "r.json").stat().st_mode & 0o044 == 0o044


def test_can_write_in_a_folder_and_leaves_nothing_there(tmp_path):
    assert can_write_in(tmp_path) and list(tmp_path.iterdir()) == []


def test_cannot_write_in_a_file_or_a_missing_folder(tmp_path):
    (tmp_path / "a_file").write_text("")
    assert not can_write_in(tmp_path / "a_file") and not can_write_in(tmp_path / "none")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_cannot_write_in_proc_even_as_root():
    """/proc refuses new files to every user, root included, whose permission bits say yes."""
    assert Path("/proc").is_dir() and not can_write_in("/proc")
