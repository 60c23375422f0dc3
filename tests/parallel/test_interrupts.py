"""Ctrl-C while processes share work (minseq.parallel.interrupts), in this process: held to the
next sum inside a block (the Trainer's fit, shared_rows), and KeyboardInterrupt at once again
as soon as the block ends, however it ends. test_distributed.py sends Ctrl-C to mpiexec."""

import signal

import numpy as np
import pytest

from minseq import optim
from minseq.backend import xp
from minseq.models import LSTMClassifier
from minseq.parallel.comm import SingleProcess
from minseq.parallel.interrupts import holding_ctrl_c
from minseq.parallel.processes import shared_rows
from minseq.train import Trainer, TrainingInterrupted


class Mirror(SingleProcess):
    """Rank 0 of 2 whose other process holds the same buffers: a sum doubles them (so a flag
    raised here is carried, as one of rank 1 would be)."""

    rank, size = 0, 2

    def __init__(self):
        self.sums = 0

    def allreduce(self, buffer):
        self.sums += 1
        buffer *= 2
        return buffer


def ctrl_c():
    """Ctrl-C, as a terminal sends it, to this process."""
    signal.raise_signal(signal.SIGINT)


def batches(rows=6):
    x = np.random.default_rng(0).integers(1, 4, size=(rows, 5))
    y = np.random.default_rng(1).integers(0, 3, size=rows)
    return [(xp.asarray(x), xp.asarray(y), xp.ones((rows, 5), dtype=bool))] * 2


def trainer():
    net = LSTMClassifier(3, 3, d_model=4, embed_dim=4)
    return Trainer(net, optim.Adam(net), progress=False, comm=Mirror())


@pytest.fixture
def handler():
    """Python's own SIGINT handler (KeyboardInterrupt), whatever this process inherited (one
    started in the background ignores SIGINT); the test must leave it in place."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield signal.default_int_handler
    now = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, inherited)
    assert now is signal.default_int_handler, "the test left another SIGINT handler in place"


def test_fit_holds_ctrl_c_while_it_runs_and_not_after_it(handler):
    seen = []
    trainer().fit(batches(), 2, validate=lambda m: seen.append(signal.getsignal(
        signal.SIGINT)) or {"score": 1.0})
    assert len(seen) == 2 and all(h is not handler for h in seen)
    assert signal.getsignal(signal.SIGINT) is handler
    with pytest.raises(KeyboardInterrupt):              # after fit: at once, not held
        ctrl_c()


def test_ctrl_c_in_fit_stops_every_process_after_the_next_step(handler):
    """Ctrl-C in epoch 1's validation: epoch 1 finishes, epoch 2's first step carries it."""
    steps = []
    t = trainer()
    backprop = t.backprop
    t.backprop = lambda model, batch: steps.append(1) or backprop(model, batch)
    with pytest.raises(TrainingInterrupted) as caught:
        t.fit(batches(), 5, validate=lambda m: ctrl_c() or {"score": 1.0})
    assert caught.value.epoch == 2 and caught.value.history["epoch"] == [1]
    assert len(steps) == 3
    assert signal.getsignal(signal.SIGINT) is handler


def test_ctrl_c_after_the_last_step_stops_at_the_end_of_fit(handler):
    """No step is left to carry it: the sum that ends the block does, and the last epoch is
    whole in the history."""
    with pytest.raises(TrainingInterrupted) as caught:
        trainer().fit(batches(), 2, validate=lambda m: {"score": 1.0},
                      on_epoch=lambda h: ctrl_c() if len(h["epoch"]) == 2 else None)
    assert caught.value.epoch == 2 and caught.value.history["epoch"] == [1, 2]
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.mark.parametrize("ending", ["early stop", "failure"])
def test_fit_puts_the_handler_back_however_it_ends(handler, ending):
    t = trainer()
    if ending == "early stop":
        history = t.fit(batches(), 10, validate=lambda m: {"score": 1.0}, monitor="score",
                        patience=1)
        assert history["epoch"] == [1, 2]
    else:
        def broken(model):
            raise RuntimeError("validation failed")
        with pytest.raises(RuntimeError, match="validation failed"):
            t.fit(batches(), 2, validate=broken)
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_second_ctrl_c_in_a_block_stops_at_once(handler):
    with pytest.raises(KeyboardInterrupt):
        with holding_ctrl_c(Mirror()):
            ctrl_c()
            ctrl_c()
            pytest.fail("the second Ctrl-C did not stop the block")
    assert signal.getsignal(signal.SIGINT) is handler


def test_shared_rows_stop_after_their_sum_and_a_nested_block_keeps_the_outer_s_handler(handler):
    """Ctrl-C while this process computes its first batch: its other batches are computed,
    the sum carries the flag, and KeyboardInterrupt follows; a block inside another ends with
    its sum but leaves the handler to the outer one."""
    comm, computed = Mirror(), []

    def compute(lo, hi):
        computed.append(lo)
        if lo == 0:
            ctrl_c()
        return xp.ones((hi - lo, 2))

    with pytest.raises(KeyboardInterrupt):
        shared_rows(comm, 20, 4, compute, (2,), xp.float64)
    assert computed == [0, 8, 16] and comm.sums == 2        # the rows, then the flags
    assert signal.getsignal(signal.SIGINT) is handler
    with holding_ctrl_c(comm):
        outer = signal.getsignal(signal.SIGINT)
        assert outer is not handler
        rows = shared_rows(comm, 20, 4, lambda lo, hi: xp.ones((hi - lo, 2)), (2,), xp.float64)
        assert signal.getsignal(signal.SIGINT) is outer and rows.shape == (20, 2)
    assert signal.getsignal(signal.SIGINT) is handler


def test_one_process_holds_nothing(handler):
    with holding_ctrl_c(SingleProcess()):
        assert signal.getsignal(signal.SIGINT) is handler


def test_a_process_that_ignores_ctrl_c_goes_on_ignoring_it_in_a_block():
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with holding_ctrl_c(Mirror()):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            ctrl_c()                                    # ignored: no flag, no stop
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, inherited)
