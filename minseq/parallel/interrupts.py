"""Ctrl-C while several processes share work: held to the next sum, so that all stop together.

``mpiexec`` hands Ctrl-C to every process, but each meets it wherever it stands. A process that
stopped there would leave the others waiting in their next sum (an all-reduce) for ever: a
process inside MPI's C code runs no Python, so it never sees its own Ctrl-C. So while a
``holding_ctrl_c(comm)`` block runs on more than one process, Ctrl-C only raises a flag
(``ctrl_c_seen``); the block's sums carry it (``stop_if_interrupted``, or a slot of their own
buffer, as DataParallel's step does), and every process raises KeyboardInterrupt after the same
sum. A block ends with one more such sum, so no process leaves it with a Ctrl-C the others have
not heard of; after it, Ctrl-C is KeyboardInterrupt again, at once (the handler before the
block is put back however the block ends). A second Ctrl-C in one process stops it at once.

Blocks nest: the outermost one holds Ctrl-C, and every one of them ends with its sum. In one
process (or off the main thread, where no handler can be set) a block holds nothing, nor in a
process that ignores SIGINT (one started in the background): it goes on ignoring it.
"""

import contextlib
import signal
import threading

from ..backend import xp
from .comm import for_arrays

_held = []      # while a block holds Ctrl-C: [whether this process has seen one]


def _hold(signum, frame):
    """Ctrl-C in a block: raise the flag the next sum carries; a second one stops at once."""
    if _held[0]:
        raise KeyboardInterrupt
    _held[0] = True


def ctrl_c_seen():
    """Whether this process holds a Ctrl-C that no sum has carried yet."""
    return bool(_held and _held[0])


def stop_after(seen):
    """Raise KeyboardInterrupt when ``seen`` (a carried flag: some process saw Ctrl-C); the
    Ctrl-C is then spent."""
    if seen:
        if _held:
            _held[0] = False
        raise KeyboardInterrupt


def stop_if_interrupted(comm):
    """One sum of the flags of ``comm``'s processes: every one raises KeyboardInterrupt when
    any has seen Ctrl-C."""
    flag = xp.asarray([float(ctrl_c_seen())])
    stop_after(float(for_arrays(comm).allreduce(flag)[0]))


@contextlib.contextmanager
def holding_ctrl_c(comm):
    """Hold Ctrl-C while the processes of ``comm`` run the block (see the module docstring)."""
    if comm.size == 1:
        yield
        return
    outermost = (not _held and threading.current_thread() is threading.main_thread()
                 and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN)
    if outermost:
        previous = signal.signal(signal.SIGINT, _hold)
        _held.append(False)
    try:
        yield
        stop_if_interrupted(comm)
    finally:
        if outermost:
            _held.clear()
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None
                          else previous)
