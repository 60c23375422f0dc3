"""Data parallel: one model per process, each process its rows of every batch, one sum of the
gradients per step.

Every process reads the same data and draws the same shuffled batches (the same seed); process r
of N takes rows lo_r .. hi_r of each batch (``shards.row_bounds``: the first ones one row more
when N does not divide the batch). A model's loss is a mean over ``n`` terms (rows, or real
positions of a sequence model: ``loss_terms``), so the loss of the whole batch is

    L = sum_r (n_r / n) L_r            n = n_1 + ... + n_N, L_r = the mean over r's n_r terms
    dL/dW = sum_r (n_r / n) dL_r/dW

Each process computes its L_r and dL_r/dW, scales both by n_r / n (every process counts n from
the whole batch it holds, with no message), packs every gradient and the scaled loss into one
flat buffer, and one all-reduce sums the buffers: every process then holds the gradient of the
whole batch, so clipping sees the global norm and every optimiser takes the same step.

The parameters start equal: process 0's are broadcast (``DataParallel``). A failure in one
process's share (a bad row) travels in the same all-reduce, as a flag in that process's slot:
every process stops after it, the failed one with its own error and the others with
``ProcessFailed`` naming it and its message, so none waits for a sum that never comes.

Scoring (``shared_rows``): the batches of an evaluation are dealt out whole, batch k to process
k mod N, each computed exactly as one process computes it; the rows go into a buffer of zeros
of the whole output, and an all-reduce (x + 0 = x, exactly) gives every process every row, so
metrics equal a single process's exactly.

Ctrl-C: a process stopped where it stands would leave the others waiting in a sum forever. So
while the processes share work (a ``holding_ctrl_c`` block of minseq.parallel.interrupts: the
Trainer's fit, the pipelines of minseq.tasks, ``shared_rows``), Ctrl-C (which ``mpiexec`` hands
to every process) only raises a flag; the flag travels in the next all-reduce, a step's in its
own slot, and every process raises KeyboardInterrupt after the same step (the Trainer's
TrainingInterrupted: the best checkpoint stays as saved).

Randomness (dropout masks, sampled negatives) differs between processes: ``seed_processes``
gives the random streams of process r > 0 seeds drawn from (seed, r); process 0 keeps the
model's. Runs on N processes then match one process in distribution, not draw for draw.
"""

import math

from .. import backend
from ..backend import xp
from .comm import for_arrays
from .interrupts import ctrl_c_seen, holding_ctrl_c, stop_after
from .shards import row_bounds, split

MESSAGE_BYTES = 1024


class ProcessFailed(RuntimeError):
    """Another process of the run failed; the message is its own, with its number."""


def loss_terms(model, batch):
    """How many terms ``model.loss(batch)`` is a mean of: the model's ``loss_terms(batch)``,
    else the batch's rows."""
    count = getattr(model, "loss_terms", None)
    return int(count(batch)) if count is not None else len(batch[0])


def flat_size(arrays):
    return sum(int(a.size) for a in arrays)


def pack(arrays, buffer, scale=1.0):
    """Write ``arrays`` (times ``scale``) one after another into the flat ``buffer``."""
    at = 0
    for a in arrays:
        buffer[at:at + a.size] = a.reshape(-1)
        if scale != 1.0:
            buffer[at:at + a.size] *= scale
        at += a.size
    return at


def unpack(buffer, arrays):
    """Copy the flat ``buffer`` back into ``arrays``, in place, in ``pack``'s order."""
    at = 0
    for a in arrays:
        a[...] = buffer[at:at + a.size].reshape(a.shape)
        at += a.size


def broadcast_parameters(model, comm, root=0):
    """Make every process's parameters ``root``'s (one broadcast of one flat buffer)."""
    params = [p for _, p in model.named_parameters()]
    if comm.size == 1 or not params:
        return
    buffer = xp.empty(flat_size(params), dtype=params[0].dtype)
    pack(params, buffer)
    unpack(comm.broadcast(buffer, root), params)


def seed_processes(model, comm):
    """Give every random stream of ``model`` on process r > 0 a seed drawn from (its seed, r)."""
    if comm.rank == 0:
        return
    for m in model.modules():
        if getattr(m, "_rng", None) is not None:
            m.seed = int(backend.host_rng([m.seed, comm.rank]).integers(2**31))
            m.reset_rng()


class DataParallel:
    """The training step of one process of ``comm``: ``backprop(model, batch) -> loss`` of the
    whole batch, with every gradient of ``model`` that of the whole batch (the Trainer's hook).
    Made once per model: broadcasts process 0's parameters and seeds the random streams. A step
    carries the Ctrl-C its ``holding_ctrl_c`` block holds (the Trainer's fit)."""

    def __init__(self, model, comm):
        self.comm = comm = for_arrays(comm)
        seed_processes(model, comm)
        broadcast_parameters(model, comm)

    def backprop(self, model, batch):
        comm = self.comm
        grads = [g for _, g in model.named_grads()]
        rows = len(batch[0])
        lo, hi = row_bounds(rows, comm.size)[comm.rank]
        share = split(batch, lo, hi, rows)
        weight = (loss_terms(model, share) if hi > lo else 0) / max(loss_terms(model, batch), 1)
        loss, failure = 0.0, None
        try:
            if hi > lo:
                loss = float(model.loss(share))
                if math.isfinite(loss):
                    model.backward_loss()
            if hi == lo or not math.isfinite(loss):
                model.zero_grad()
        except Exception as exc:    # a bad row of this share: every process hears it below
            failure = exc
        # [every gradient (n) | the loss | processes interrupted | one failure flag a process]
        n = flat_size(grads)
        buffer = xp.zeros(n + 2 + comm.size, dtype=grads[0].dtype)
        if failure is None:
            pack(grads, buffer, weight)
            buffer[n] = loss * weight
        else:
            buffer[n + 2 + comm.rank] = 1
        buffer[n + 1] = ctrl_c_seen()
        comm.allreduce(buffer)
        tail = backend.to_numpy(buffer[n:])         # the loss and the flags: one read
        failed = tail[2:].nonzero()[0]
        if len(failed):
            self._stop(failure, int(failed[0]))
        stop_after(tail[1])
        unpack(buffer[:n], grads)
        return float(tail[0])

    def _stop(self, failure, first):
        """Raise on every process after a failure: process ``first``'s message is broadcast."""
        message = xp.zeros(MESSAGE_BYTES, dtype=xp.uint8)
        if self.comm.rank == first:
            text = str(failure).encode()[:MESSAGE_BYTES]
            message[:len(text)] = backend.asarray(list(text), dtype=xp.uint8)
        self.comm.broadcast(message, first)
        if failure is not None and self.comm.rank == first:
            raise failure
        text = bytes(backend.to_numpy(message).tolist()).rstrip(b"\0").decode(errors="replace")
        raise ProcessFailed(f"process {first} of {self.comm.size}: {text}")


def shared_rows(comm, n, batch_size, compute, tail=(), dtype=None):
    """The rows 0 .. n of ``compute(lo, hi) -> rows lo .. hi`` (shape (hi - lo, *tail)), with
    batch k computed by process k mod N and every row on every process (see the module
    docstring), Ctrl-C held until all are summed; one process concatenates them in order."""
    starts = range(0, n, batch_size)
    comm = for_arrays(comm)
    if comm.size == 1:
        parts = [compute(lo, min(lo + batch_size, n)) for lo in starts]
        return xp.concatenate(parts) if parts else xp.zeros((0, *tail), dtype=dtype)
    whole = xp.zeros((n, *tail), dtype=xp.float64)
    with holding_ctrl_c(comm):
        for k, lo in enumerate(starts):
            if k % comm.size == comm.rank:
                hi = min(lo + batch_size, n)
                whole[lo:hi] = compute(lo, hi)
        comm.allreduce(whole.reshape(-1))
    return whole.astype(dtype)
