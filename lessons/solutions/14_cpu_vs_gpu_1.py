"""Lesson 14, exercise 1, worked solution: one honest timing sample.

Grade it:  python lessons/14_cpu_vs_gpu.py --exercise 1 --solution
"""

import time


def seconds_per_call(fn, number, sync):
    """Seconds per call of fn(), over number calls, with the device idle at both clock reads."""
    sync()                        # earlier queued work must not land in this sample
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    sync()                        # the calls may only have been queued: wait until they ran
    return (time.perf_counter() - t0) / number
