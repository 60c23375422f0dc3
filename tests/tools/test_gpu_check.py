"""The GPU check (tools/gpu_check.py, make gpu-check): its dry run on the CPU runs every stage and
writes the summary, a failing or overrunning stage fails the check, and make's GPU targets use a
CuPy already installed instead of installing a second one."""

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from paths import ROOT

SCRIPT = ROOT / "tools" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_check(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_the_dry_run_runs_every_stage_and_writes_the_summary(tmp_path):
    done = run_check("--dry-run", "--out", str(tmp_path), "--shards", "2",
                     "--tests", "tests/nn/test_positional.py", "tests/nn/test_activations.py",
                     "--cases", "Linear", "Embedding", "--lessons", "11", "--layers", "LSTM")
    assert done.returncode == 0, done.stdout + done.stderr
    run = tmp_path / "run-1"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["finished"] and summary["passed"] and summary["dry_run"]
    stages = {s["stage"]: s for s in summary["stages"]}
    assert list(stages) == ["preflight", "tests", "gradcheck", "lessons", "bench"]
    assert all(s["result"] == "passed" for s in stages.values())
    assert [p["part"] for p in stages["tests"]["parts"]] == ["1", "2"]   # two shards
    assert [p["part"] for p in stages["gradcheck"]["parts"]] == ["1", "2"]
    for stage in stages.values():
        for part in stage["parts"]:
            assert (run / part["log"]).is_file()
    # both shards collect the same tests and run every other backend test of them
    counts = [re.match(r"(\d+) passed, (\d+) deselected", p["last_line"]).groups()
              for p in stages["tests"]["parts"]]
    (ran1, left1), (ran2, left2) = [(int(a), int(b)) for a, b in counts]
    assert ran1 >= 1 and abs(ran1 - ran2) <= 1 and ran1 + left1 == ran2 + left2
    assert stages["preflight"]["parts"][0]["last_line"] == "preflight: all passed"
    assert "backend strict" in (run / "gradcheck-1.log").read_text()
    assert (run / "bench" / "results.json").is_file()
    table = (run / "summary.md").read_text()
    assert "All stages passed." in table and table.count("| passed |") == 7


def test_a_failing_stage_fails_the_check(tmp_path):
    failing = tmp_path / "test_broken.py"      # a backend-parametrised test that fails
    failing.write_text("import pytest\n\n\n@pytest.fixture(params=['strict'])\n"
                       "def xp(request):\n    return request.param\n\n\n"
                       "def test_wrong(xp):\n    assert 1 + 1 == 3\n")
    done = run_check("--dry-run", "--out", str(tmp_path / "out"), "--stages", "tests",
                     "--shards", "1", "--tests", str(failing))
    assert done.returncode == 1
    summary = json.loads((tmp_path / "out" / "run-1" / "summary.json").read_text())
    assert not summary["passed"] and summary["stages"][0]["result"] == "FAILED"
    assert summary["stages"][0]["parts"][0]["last_line"].startswith("1 failed")
    assert "Failed: tests." in (tmp_path / "out" / "run-1" / "summary.md").read_text()


def test_a_stage_over_its_limit_fails_the_check(tmp_path):
    # 10 ms: not even Python's start-up fits, so the stage always overruns
    done = run_check("--dry-run", "--out", str(tmp_path), "--stages", "gradcheck",
                     "--cases", "Linear", "--limit", "gradcheck=0.01")
    assert done.returncode == 1
    summary = json.loads((tmp_path / "run-1" / "summary.json").read_text())
    assert summary["stages"][0]["result"] == "timed out"
    assert "TIMED OUT" in done.stdout


def test_a_part_that_ignores_sigint_is_killed_after_the_grace(gpu_check, tmp_path):
    part = gpu_check.Part("stubborn", [sys.executable, "-c", (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)")])
    [outcome] = gpu_check.run_parts("stage", [part], limit=0.3, folder=tmp_path, grace=0.3)
    assert outcome.timed_out and not outcome.passed and outcome.returncode != 0
    assert outcome.seconds < 30


def test_parts_run_side_by_side_each_with_its_own_result(gpu_check, tmp_path):
    parts = [gpu_check.Part("ok", [sys.executable, "-c", "print('fine')"]),
             gpu_check.Part("bad", [sys.executable, "-c", "raise SystemExit(3)"])]
    ok, bad = gpu_check.run_parts("stage", parts, limit=60, folder=tmp_path)
    assert ok.passed and ok.last_line == "fine" and not ok.timed_out
    assert not bad.passed and bad.returncode == 3 and not bad.timed_out
    assert (tmp_path / "stage-bad.log").read_text().startswith("$ ")


@pytest.mark.parametrize("args, message", [
    (["--stages", "tests", "warp"], "unknown stage(s) ['warp']"),
    (["--limit", "tests"], "--limit takes STAGE=SECONDS"),
    (["--limit", "tests=-1"], "--limit takes STAGE=SECONDS"),
    (["--shards", "0"], "--shards must be at least 1"),
    (["--tests", "tests/test_nothing_here.py"], "no such test file"),
    (["--cases", "NoSuchLayer"], "unknown gradient-check case(s) ['NoSuchLayer']"),
    (["--lessons", "99"], "no lesson numbered ['99']"),
    (["--layers", "Conv2d"], "unknown benchmark layer(s) ['Conv2d']"),
])
def test_a_bad_setting_is_one_line_before_any_stage(tmp_path, args, message):
    done = run_check("--dry-run", "--out", str(tmp_path), *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not any(tmp_path.iterdir())


def _fake_python(tmp_path, imports_cupy):
    """A stand-in for $(PYTHON): make -n only asks it whether ``import cupy`` works."""
    path = tmp_path / "python3"
    path.write_text(f"#!/bin/sh\nexit {0 if imports_cupy else 1}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("target", ["gpu-check", "test-gpu"])
def test_make_installs_nothing_where_the_gpu_package_imports(tmp_path, target):
    python = _fake_python(tmp_path, imports_cupy=True)
    done = subprocess.run(["make", "-n", target, f"PYTHON={python}"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "pip install" not in done.stdout and ".venv" not in done.stdout
    assert f"PYTHONPATH={ROOT} {python}" in done.stdout


def test_make_installs_the_gpu_extra_where_none_imports(tmp_path):
    python = _fake_python(tmp_path, imports_cupy=False)
    done = subprocess.run(["make", "-n", "-B", "gpu-check", f"PYTHON={python}",
                           "GPU_EXTRA=gpu-cuda13"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "pip install --quiet -e '.[test,gpu-cuda13]'" in done.stdout
    assert ".venv/bin/python tools/gpu_check.py" in done.stdout


def test_make_test_gpu_runs_the_distributed_tests_apart_over_nccl(tmp_path):
    """The suite on CuPy leaves out the tests marked mpi (2 processes on 1 GPU would fail in
    NCCL); tools/nccl_tests.py runs them next, with the mpi extra installed beside the gpu one."""
    python = _fake_python(tmp_path, imports_cupy=False)
    done = subprocess.run(["make", "-n", "-B", "test-gpu", f"PYTHON={python}"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "pip install --quiet -e '.[test,mpi]'" in done.stdout
    suite = next(i for i, line in enumerate(lines) if " -m pytest -q" in line)
    assert lines[suite].endswith('-m pytest -q -m "not mpi"')
    assert lines[suite + 1] == ".venv/bin/python tools/nccl_tests.py"
