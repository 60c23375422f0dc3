"""Every lesson runs non-interactively in its fast mode and passes its own checks."""

import subprocess
import sys

import pytest

from minseq.lesson import describe, lesson_files

LESSONS = lesson_files()


def test_there_are_lessons():
    assert LESSONS, "no lessons found"


# "strict" runs each lesson as CuPy would see it (no implicit host conversions), on a CPU.
@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_and_checks_itself(path, backend_name, tmp_path):
    proc = subprocess.run([sys.executable, str(path), "--fast", "--backend", backend_name,
                           "--out", str(tmp_path)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert ": OK:" in proc.stdout.splitlines()[-1]
    assert list(tmp_path.glob("*.png")), f"{path.stem} saved no figure"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_has_a_one_line_description(path):
    assert describe(path) != path.stem


def test_step_mode_survives_no_terminal(tmp_path):
    """--step pauses with input(); with no input available it carries on instead of hanging."""
    proc = subprocess.run([sys.executable, str(LESSONS[0]), "--fast", "--step", "--out",
                           str(tmp_path)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
