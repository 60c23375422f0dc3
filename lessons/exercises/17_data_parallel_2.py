"""Lesson 17, exercise 2: the ring all-reduce over N simulated workers.

Fill in ``ring_allreduce``, then grade it:  python lessons/17_data_parallel.py --exercise 2
The lesson runs your ring at N = 3, 2, 4 and 5 workers on buffers whose length N does and does
not divide, and checks that every worker ends with the sum of all buffers, that every message
goes from worker k to worker k + 1 and carries one chunk, that each worker sends 2(N - 1) of
them (2(N - 1)/N of the buffer), that its first is its own chunk unchanged and that its last
N - 1 (the all-gather) are complete sums.
"""

from minseq.backend import xp


def ring_allreduce(chunks, send):
    """Every worker's buffer becomes the sum of all of them, by the ring.

    chunks: chunks[k][c] is worker k's copy of chunk c of its buffer, N workers x N chunks
        (1-D arrays of the active backend, ``xp``; chunk c has the same length on every worker).
    send(src, dst, c, values): the only way data moves between workers: worker src sends
        ``values``, its copy of chunk c, to worker dst, and send returns what dst receives (a
        copy). In a ring, dst is always (src + 1) % N.
    Returns the chunks after the all-reduce: result[k][c] = sum over workers j of chunks[j][c].

    Reduce-scatter, steps s = 0 .. N-2: every worker k sends chunk (k - s) % N to the next
    worker, which adds it to its own copy; afterwards worker k holds the complete sum of chunk
    (k + 1) % N. All-gather, steps s = 0 .. N-2: every worker k sends chunk (k + 1 - s) % N,
    and the next worker keeps it in place of its copy. Within a step, every worker sends
    before any worker changes a copy.
    """
    # YOUR CODE HERE: the two phases, N - 1 steps each, one send per worker per step.
    return [[xp.zeros_like(c) for c in worker] for worker in chunks]
