"""Lesson 14, exercise 1: one honest timing sample of a function that may run on a GPU.

Fill in ``seconds_per_call``, then grade it:  python lessons/14_cpu_vs_gpu.py --exercise 1
The lesson times a pretend GPU with your function (a 2 ms kernel whose launch returns after
5 microseconds, queued behind earlier work), then puts it inside minseq.bench.time_call and
times a sleep and the lesson's LSTM step on the real clock.
"""

import time


def seconds_per_call(fn, number, sync):
    """Seconds per call of ``fn()``, averaged over ``number`` back-to-back calls.

    fn: the function to time (it may only queue work on a device and return at once);
    number: how many calls the sample takes (a 1 ms function timed once would measure the
    clock more than itself); sync: a function that waits until the device has finished
    everything queued so far (``backend.synchronize``; does nothing on a CPU).

    Read the clock with ``time.perf_counter()`` (seconds, as a float). Returns a float.
    """
    # YOUR CODE HERE: wait for the device, read the clock, call fn number times, wait for
    # the device again, read the clock; the difference divided by number.
    return 0.0
