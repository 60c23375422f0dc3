"""Lesson 17, exercise 2, worked solution: the ring all-reduce over N simulated workers.

Grade it:  python lessons/17_data_parallel.py --exercise 2 --solution
"""


def ring_allreduce(chunks, send):
    """Reduce-scatter then all-gather, N - 1 steps each, every message through ``send``."""
    N = len(chunks)
    held = [[c.copy() for c in worker] for worker in chunks]
    for phase in ("reduce-scatter", "all-gather"):
        for s in range(N - 1):
            # every worker sends first: each message is read before any copy changes
            received = []
            for k in range(N):
                c = (k - s) % N if phase == "reduce-scatter" else (k + 1 - s) % N
                received.append((c, send(k, (k + 1) % N, c, held[k][c])))
            for k, (c, values) in enumerate(received):
                dst = (k + 1) % N
                held[dst][c] = held[dst][c] + values if phase == "reduce-scatter" else values
    return held
