"""Commands run whole: a benchmark's or a test's child in a POSIX session of its own, so that a
timeout ends it with everything it started (``mpiexec`` and its processes included), and no
process is left behind to load the machine of the next measurement."""

import os
import signal
import subprocess


def run_in_session(command, timeout, **popen):
    """Run ``command`` (a list; ``popen``: Popen's keywords, such as ``env`` and ``cwd``) in a
    session of its own, its output captured as text: (exit status, stdout, stderr). Past
    ``timeout`` seconds the whole session is killed and ``subprocess.TimeoutExpired`` raised."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out, err
