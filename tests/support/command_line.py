"""The command line as a user runs it, for the tests of minseq's commands: ``minseq(...)`` runs
``python -m minseq`` in a subprocess, ``interrupted(...)`` sends it Ctrl-C once it says it is
ready, and ``taobao_file`` writes a small Taobao UserBehavior log to train on."""

import os
import signal
import subprocess
import sys

import numpy as np

from paths import ROOT


def minseq(*args, cwd, env=None):
    """Run ``python -m minseq ARGS`` in ``cwd``: (exit status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", **(env or {}))
    done = subprocess.run([sys.executable, "-m", "minseq", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def interrupted(*args, cwd, ready):
    """Run ``python -m minseq ARGS`` in ``cwd``, send Ctrl-C (SIGINT) once a line on stderr
    starts with ``ready`` (a signal the run gives, never a sleep): (exit status, the stderr
    lines up to the ready one, the rest of stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "minseq", *map(str, args)], cwd=cwd,
                            env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": ""},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_as_at_a_terminal)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith(ready):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return proc.returncode, lines, rest


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
