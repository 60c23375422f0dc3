"""minseq.bench.sessions: a command run whole, and killed whole when it overstays."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from minseq.bench.sessions import run_in_session


def test_a_command_gives_its_exit_status_and_both_outputs():
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    assert run_in_session([sys.executable, "-c", code], timeout=120) == (3, "out\n", "err\n")


def test_the_keywords_go_to_the_process(tmp_path):
    code = "import os; print(os.getcwd(), os.environ['SESSION_TEST'])"
    _, out, _ = run_in_session([sys.executable, "-c", code], timeout=120, cwd=tmp_path,
                               env={"SESSION_TEST": "seen"})
    assert out.split() == [str(tmp_path), "seen"]


def test_past_its_timeout_the_whole_session_is_killed(tmp_path):
    """What the command started dies with it: a child of its own, here a second sleep, as
    mpiexec's processes are. The shell writes that child's pid first, in a few milliseconds;
    the timeout is ten seconds."""
    pid_file = tmp_path / "child.pid"
    command = ["sh", "-c", f"sleep 600 & echo $! > {pid_file}; wait"]
    with pytest.raises(subprocess.TimeoutExpired):
        run_in_session(command, timeout=10)
    stat = Path(f"/proc/{int(pid_file.read_text())}/stat")
    deadline = time.monotonic() + 60          # SIGKILL is sent; the exit takes a moment

    def running():                            # a zombie, waiting for init to reap it, is done
        try:
            return stat.read_text().split(") ")[1][0] != "Z"
        except FileNotFoundError:
            return False
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running()
