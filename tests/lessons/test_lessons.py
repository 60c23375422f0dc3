"""Every lesson runs non-interactively in its fast mode and passes its own checks; the runner
(``minseq lessons``) finds the lessons in a checkout or under --dir, and says where it looked
when it finds none."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minseq
from minseq import lesson_runner
from minseq.cli import main
from minseq.lesson_runner import describe, lesson_files

from mpi_processes import run
from paths import ROOT

CHECKOUT_LESSONS = ROOT / "lessons"
LESSONS = lesson_files(CHECKOUT_LESSONS)


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


# -- the runner -------------------------------------------------------------------------------
def _installed(monkeypatch, tmp_path):
    """minseq as a non-editable install sees it: no lessons beside the package, and the
    current folder outside any checkout."""
    monkeypatch.setattr(lesson_runner, "CHECKOUT_LESSONS", tmp_path / "site-packages" / "lessons")
    monkeypatch.chdir(tmp_path)


def test_runner_lists_every_lesson_of_dir_from_outside_a_checkout(monkeypatch, tmp_path,
                                                                  capsys):
    _installed(monkeypatch, tmp_path)
    assert main(["lessons", "--dir", str(CHECKOUT_LESSONS)]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {p.stem[:2]}  {p.stem[3:]}" in listed for p in LESSONS)


def test_runner_without_lessons_says_where_it_looked_and_fails(monkeypatch, tmp_path, capsys):
    _installed(monkeypatch, tmp_path)
    assert main(["lessons"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minseq lessons: no lessons") and err.count("\n") == 1
    assert str(tmp_path / "site-packages" / "lessons") in err and "--dir" in err
    assert str(tmp_path / "lessons") in err
    assert main(["lessons", "--dir", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_a_lesson_copied_out_of_the_checkout_runs_with_its_helpers(tmp_path):
    """The runner as a user of an installed minseq calls it: lessons in a folder of their own
    (with the helpers they import), from another working folder."""
    copy = tmp_path / "my lessons"
    shutil.copytree(CHECKOUT_LESSONS, copy)
    work = tmp_path / "work"
    work.mkdir()
    package_root = str(Path(minseq.__file__).resolve().parents[1])   # minseq importable there
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [package_root] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    proc = subprocess.run([sys.executable, "-m", "minseq", "lessons", "02", "--fast",
                           "--dir", str(copy), "--out", str(work / "out")], cwd=work, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert list((work / "out" / "02_rnn").glob("*.png"))


# -- length ------------------------------------------------------------------------------------
def test_lesson_03_default_output_fits_a_few_screens_and_detail_keeps_the_rest(tmp_path):
    """Lesson 03 printed about 3,100 words; by default it fits a few screens (at most 1,400
    words and 160 lines; its errata always print both formulas), and --detail prints what was
    kept back, with the same checks run."""
    path = CHECKOUT_LESSONS / "03_lstm.py"
    runs = {}
    for flags in ([], ["--detail"]):
        proc = subprocess.run([sys.executable, str(path), "--out", str(tmp_path)] + flags,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        runs[tuple(flags)] = proc.stdout
    default, detail = runs[()], runs[("--detail",)]
    assert len(default.split()) <= 1400 and len(default.splitlines()) <= 160, \
        f"{len(default.split())} words, {len(default.splitlines())} lines"
    assert "kept back: --detail prints them" in default
    assert len(detail.split()) > 2 * len(default.split())
    assert default.splitlines()[-1].split(", ")[0] == detail.splitlines()[-1].split(", ")[0]
    for kept in ("W_f (3, 8)", "03_lstm_1.py"):
        assert kept in detail and kept not in default
    assert "as printed : matmul(x, W_i)" in default        # an erratum always shows its formula


# -- the data-parallel lesson on real processes -------------------------------------------------
@pytest.mark.mpi
def test_the_data_parallel_lesson_runs_under_mpiexec(mpiexec, tmp_path):
    """Under ``mpiexec -n 2`` lesson 17 runs its ring over MPI and checks it, and the simulated
    ring, against MPI's Allreduce on two processes; only rank 0 prints. Skipped where mpi4py or
    mpiexec is missing (the lesson then simulates every worker, as the test above runs it)."""
    status, out, err = run([sys.executable, str(CHECKOUT_LESSONS / "17_data_parallel.py"),
                            "--fast", "--out", str(tmp_path)], processes=2, mpiexec=mpiexec,
                           timeout=120)
    assert status == 0, out[-4000:] + err[-4000:]
    assert "[PASS] MPI Allreduce over 2 processes equals the full-batch gradient" in out
    assert "[PASS] the ring over MPI (one Sendrecv per step) equals Allreduce" in out
    assert "[PASS] the simulated ring equals Allreduce" in out
    assert out.count("Lesson 17 - Data parallelism by hand") == 1, "a rank other than 0 printed"
    assert ": OK:" in out.splitlines()[-1]
    assert list(tmp_path.glob("*.png"))
