"""Timers that survive a noisy machine: warm-up, repeated samples, median / min / max.

    >>> from minseq.bench import time_call, compare
    >>> t = time_call(lambda: layer(x), repeats=7, warmup=1)       # one function alone
    >>> t.median, t.min, t.max                                     # seconds per call
    >>> both = compare({"minseq": f, "torch": g}, repeats=7)      # interleaved, one run
    >>> both["minseq"].median / both["torch"].median              # the ratio to report

``compare`` takes the samples of every function in turn (f, pause, g, pause, f, ...), so a
machine that slows down for a minute slows both sides alike and their ratio stays honest. The
short pause lets the BLAS worker threads of one library stop spinning before the other starts
(on this project's machine they spin for about 0.1 s and would halve the next side's speed).

Device work is asynchronous: pass ``sync`` (e.g. ``minseq.backend.synchronize``, or
``torch.cuda.synchronize``) and every sample waits for the device before the clock is read.
"""

import statistics
import time
from dataclasses import asdict, dataclass


@dataclass
class Timing:
    """Seconds per call: median, min, max over ``samples``; ``number`` calls per sample."""
    median: float
    min: float
    max: float
    samples: list
    number: int = 1

    @classmethod
    def of(cls, samples, number=1):
        return cls(statistics.median(samples), min(samples), max(samples), list(samples), number)

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        return f"{self.median * 1e3:.2f} ms (min {self.min * 1e3:.2f}, max {self.max * 1e3:.2f})"


def _no_sync():
    pass


def _sample(fn, number, sync):
    """Seconds per call of ``fn`` averaged over ``number`` back-to-back calls."""
    sync()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    sync()
    return (time.perf_counter() - t0) / number


def calls_per_sample(seconds_per_call, min_sample=0.02, most=50):
    """How many calls make one sample last at least ``min_sample`` seconds: a 1 ms function
    timed once per sample would measure the timer and the scheduler more than itself."""
    if seconds_per_call <= 0:
        return most
    return max(1, min(most, int(min_sample / seconds_per_call + 0.999)))


def time_call(fn, repeats=5, warmup=1, sync=None, number=None):
    """Time ``fn()``: ``warmup`` untimed calls (at least one: it also sizes the samples), then
    ``repeats`` samples -> Timing.

    ``number`` calls per sample (default: enough for about 20 ms per sample);
    ``sync`` waits for queued device work before each clock reading."""
    return compare({"f": fn}, repeats, warmup, gap=0.0, sync=sync, number=number)["f"]


def compare(fns, repeats=5, warmup=1, gap=0.3, sync=None, number=None):
    """Time several functions interleaved in one run: {name: fn} -> {name: Timing}.

    Each round takes one sample of every function in order, sleeping ``gap`` seconds between
    samples. ``sync`` is one callable for all, or {name: callable} per function."""
    syncs = sync if isinstance(sync, dict) else {name: sync for name in fns}
    syncs = {name: syncs.get(name) or _no_sync for name in fns}
    numbers = {}
    for name, fn in fns.items():
        first = _sample(fn, 1, syncs[name])           # the first call is a warm-up too
        for _ in range(warmup - 1):
            first = min(first, _sample(fn, 1, syncs[name]))
        numbers[name] = number or calls_per_sample(first)
        time.sleep(gap)
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(_sample(fn, numbers[name], syncs[name]))
            time.sleep(gap)
    return {name: Timing.of(s, numbers[name]) for name, s in samples.items()}
