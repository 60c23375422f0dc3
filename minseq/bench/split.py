"""How much of a layer's time is matrix products: the GEMM / rest split.

A layer's forward+backward time is its matrix products (GEMM: the BLAS library's work) plus the
rest: elementwise passes, reductions, copies and Python bookkeeping, the part a NumPy program
can still shrink. ``gemm_seconds`` replays the fast tier's products of one forward+backward
alone, each at its own shape on contiguous float32 operands, on the same kernel and threads as
the run, and sums their times; the rest is the layer's time minus that.

    products(case)      [(count, shape_a, shape_b)]: a @ b, ``count`` times per forward+backward
    gemm_seconds(case)  their summed time, in seconds

The lists are written from the fast layers' code (``minseq.fast``): a recurrent layer multiplies
its inputs once for every step, its state once per step, and its weight gradients once after
the loop; attention multiplies all heads as stacked products (the fast tier does the same in
cache-sized blocks). Their FLOPs equal three times the case's forward FLOPs, which the tests
check.
"""

import numpy

from .timing import time_call

GATE_BLOCKS = {"RNN": 1, "LSTM": 4, "GRU": 3}


def backward_of(count, a, b):
    """The two products of a @ b's backward: dA = dC B^T and dB = A^T dC (stacked if a is)."""
    *lead, m, k = a
    n = b[-1]
    return [(count, (*lead, m, n), (*lead, n, k)), (count, (*lead, k, m), (*lead, m, n))]


def _with_backward(forward):
    out = list(forward)
    for count, a, b in forward:
        out += backward_of(count, a, b)
    return out


def _attention(B, T, d, h):
    """Q, K, V and output projections of (B T, d) rows, then S = Q K^T and P V per head."""
    dk = d // h
    return [(4, (B * T, d), (d, d)), (1, (B * h, T, dk), (B * h, dk, T)),
            (1, (B * h, T, T), (B * h, T, dk))]


def products(case):
    """[(count, shape_a, shape_b)] of one forward+backward of ``case``'s fast layer."""
    size = case.size
    if case.layer in GATE_BLOCKS:
        B, T, D, H = size
        G = GATE_BLOCKS[case.layer] * H
        return [(1, (T * B, D), (D, G)), (T, (B, H), (H, G)),           # forward
                (T, (B, G), (G, H)),                                    # dh_{t-1} = da_t Wh^T
                (1, (D, T * B), (T * B, G)), (1, (H, T * B), (T * B, G)),  # dWx, dWh
                (1, (T * B, G), (G, D))]                                # dx = dA Wx^T
    if case.layer == "MLP":
        B, D, hidden, O = size
        return _with_backward([(1, (B, D), (D, hidden)), (1, (B, hidden), (hidden, O))])
    if case.layer == "MultiHeadAttention":
        return _with_backward(_attention(*size))
    if case.layer == "TransformerEncoderLayer":
        B, T, d, h = size
        return _with_backward(_attention(*size) + [(1, (B * T, d), (d, 4 * d)),
                                                   (1, (B * T, 4 * d), (4 * d, d))])
    raise ValueError(f"no product list for layer {case.layer!r}")


def flops(prods):
    """2 m k n per product (times the stack and the count)."""
    return sum(2 * count * numpy.prod(a) * b[-1] for count, a, b in prods)


def gemm_seconds(case, repeats=3):
    """The products of one forward+backward of ``case``, each timed alone (best of
    ``repeats`` samples, result written into a reused array), summed, in seconds."""
    rng = numpy.random.default_rng(0)
    total = 0.0
    for count, a, b in products(case):
        x, y = (rng.standard_normal(s, dtype=numpy.float32) for s in (a, b))
        out = numpy.empty((*a[:-1], b[-1]), dtype=numpy.float32)
        total += count * time_call(lambda: numpy.matmul(x, y, out=out), repeats=repeats,
                                   warmup=1).min
    return total
