"""The command line as a user runs it, for the tests of minseq's commands: ``minseq(...)`` runs
``python -m minseq`` in a subprocess, ``interrupted(...)`` sends it Ctrl-C once it says it is
ready (``interrupted_in_test_evaluation``: once training is over), and ``taobao_file`` writes a
small Taobao UserBehavior log to train on."""

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from paths import ROOT


def minseq(*args, cwd, env=None):
    """Run ``python -m minseq ARGS`` in ``cwd``: (exit status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", **(env or {}))
    done = subprocess.run([sys.executable, "-m", "minseq", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def interrupted(*args, cwd, ready, program=None, env=None):
    """Run ``python -m minseq ARGS`` in ``cwd`` (or ``program`` ARGS, ``program`` a list: a
    script, or mpiexec starting one, which hands Ctrl-C to every process; ``env``: its
    environment, default minseq from this tree and nothing else), send Ctrl-C (SIGINT)
    once a line on stderr starts with ``ready`` (a signal the run gives, never a sleep): (exit
    status, the stderr lines up to the ready one, the rest of stderr). A run still going 120 s
    after it started is killed, with every process it started (the exit status is then
    negative)."""
    program = program or [sys.executable, "-m", "minseq"]
    proc = subprocess.Popen([*map(str, program), *map(str, args)], cwd=cwd,
                            env=env or {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
                                        "PATH": ""},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_as_at_a_terminal, start_new_session=True)
    # a run that hangs (before its ready line, or after Ctrl-C) is killed: the test fails
    watchdog = threading.Timer(120, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith(ready):
                break
        else:                   # the run ended (or was killed) before its ready line showed
            pytest.fail(f"no line starting {ready!r} before the run ended (exit status "
                        f"{proc.wait()}); its stderr:\n{''.join(lines)[-3000:]}")
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, lines, rest


#: ``python FILE ARGS`` runs ``minseq ARGS``, the next-item test evaluation (the last work of
#: ``minseq train``, after training) said on stderr and then done again and again: Ctrl-C sent
#: once the line shows meets the run there, and nowhere else
EVALUATING = """
import sys
from minseq.cli import main
from minseq.parallel.comm import leads
from minseq.tasks import next_item

evaluate = next_item.evaluate_protocol


def again_and_again(*args, **kwargs):
    if leads():
        print("test evaluation", file=sys.stderr, flush=True)
    while True:
        evaluate(*args, **kwargs)


next_item.evaluate_protocol = again_and_again
sys.exit(main(sys.argv[1:]))
"""


def interrupted_in_test_evaluation(folder, launcher=(), env=None):
    """Train a small SASRec for one epoch into ``folder``/run, started by ``launcher`` (e.g.
    mpiexec -n 2) in the environment ``env`` (see ``interrupted``), and send Ctrl-C while its
    test evaluation runs: (exit status, stderr after the ready line, the run folder)."""
    script = folder / "evaluating.py"
    script.write_text(EVALUATING)
    status, _, rest = interrupted(
        "train", "--model", "sasrec", "--users", "60", "--items", "20", "--epochs", "1",
        "--d-model", "8", "--maxlen", "6", "--dropout", "0", "--out", "run", cwd=folder,
        ready="test evaluation", program=[*launcher, sys.executable, script], env=env)
    return status, rest, folder / "run"


def _sigint_as_at_a_terminal():
    """In the child: Ctrl-C's default action, whatever the test run inherited. A shell script
    that starts `make test &` hands its background job SIGINT ignored; Python then installs no
    KeyboardInterrupt handler, and the command would train all its epochs and exit 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def taobao_file(path, users=60, items=40, seed=0):
    """A Taobao UserBehavior CSV: each user walks the items in steps of one, with views, carts
    and purchases, a timestamp per event."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        start = rng.integers(items)
        for t in range(rng.integers(4, 12)):
            kind = rng.choice(["pv", "pv", "cart", "buy"])
            rows.append(f"{1000 + user},{500 + (start + t) % items},{7 + t % 3},{kind},"
                        f"{1511544000 + 60 * t}")
    path.write_text("\n".join(rows) + "\n")
    return path
