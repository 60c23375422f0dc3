"""Helpers shared by the next-item model tests: tiny histories and a loss gradient check."""

import numpy as np

from minseq import backend
from minseq.gradcheck import numerical_gradient, relative_error
from minseq.gradcheck.checker import frozen_entries

# Two left-padded histories over items 1..5 and their next items; item 3 appears both as an
# input and as a target, so the shared table's gradient has both uses in one entry.
SEQ = [[0, 0, 3, 1, 2], [4, 2, 2, 1, 3]]
TARGETS = [[0, 3, 1, 2, 4], [2, 2, 1, 3, 5]]


def ids(rows):
    return backend.asarray(np.array(rows, dtype=np.int64))


def check_loss_gradient(model, batch, tol=1e-6):
    """Every parameter gradient written by ``backward_loss`` against central differences of
    ``loss(batch)`` (float64, dropout streams restarted before each evaluation). Returns the
    worst relative error per parameter; fails above ``tol``."""
    m = model.copy().astype(backend.xp.float64)

    def loss():
        for sub in m.modules():
            sub.reset_rng()
        return float(m.loss(batch))

    loss()
    m.backward_loss()
    grads = {k: g.copy() for k, g in m.named_grads()}
    frozen = frozen_entries(m)
    errors = {}
    for name, p in m.named_parameters():
        n = numerical_gradient(loss, p)
        if name in frozen:
            n[frozen[name]] = 0
        errors[name] = relative_error(grads[name], n)
    bad = {k: v for k, v in errors.items() if v > tol}
    assert not bad, f"backward_loss disagrees with the numerical gradient: {bad}"
    return errors
