"""A setting shared by the tests of minseq.fast (every twin on batch shards) and of
minseq.parallel."""

import contextlib

from minseq import threads
from minseq.parallel import shards


@contextlib.contextmanager
def shard_threads(n, min_scores=0):
    """The threads setting as the fast tier's batch shards read it, without touching BLAS, and
    their size threshold (0: the small layers of the tests are sharded too)."""
    saved = list(threads._setting), shards.MIN_SCORES
    threads._setting[:] = [n]
    shards.MIN_SCORES = min_scores
    try:
        yield
    finally:
        threads._setting[:], shards.MIN_SCORES = saved
