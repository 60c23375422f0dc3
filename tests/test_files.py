"""atomic_write: the target changes only when the whole write succeeds."""

import pytest

from minseq.files import atomic_write


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
