"""Parameter initialisers, drawn on the host from minseq's seedable generator, as PyTorch does.

A seed (``minseq.manual_seed``) gives the same initial weights on NumPy and on CuPy.
"""

import math

from .. import backend


def uniform(shape, bound, dtype=None):
    """U(-bound, bound): PyTorch's default for Linear (bound = 1/sqrt(fan_in)) and RNN layers
    (bound = 1/sqrt(hidden_size))."""
    values = backend.host_rng().uniform(-bound, bound, size=shape)
    return backend.asarray(values, dtype=dtype or backend.default_dtype)


def normal(shape, std=1.0, dtype=None):
    """N(0, std^2): PyTorch's default for Embedding."""
    values = backend.host_rng().normal(0.0, std, size=shape)
    return backend.asarray(values, dtype=dtype or backend.default_dtype)


def xavier_uniform(shape, fan_in, fan_out, dtype=None):
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot)."""
    return uniform(shape, math.sqrt(6.0 / (fan_in + fan_out)), dtype)


def zeros(shape, dtype=None):
    return backend.xp.zeros(shape, dtype=dtype or backend.default_dtype)


def ones(shape, dtype=None):
    return backend.xp.ones(shape, dtype=dtype or backend.default_dtype)
