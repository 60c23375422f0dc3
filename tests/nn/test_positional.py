"""Positional encodings: the sinusoid table of E7 and a learned table."""

import math

import numpy as np
import pytest

from minseq import backend, nn
from minseq.gradcheck import check_module


def test_sinusoid_table_by_its_formula(xp):
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    x = xp.zeros((1, 7, 6), dtype=xp.float32)
    y = backend.to_numpy(pe(x))[0]
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert y[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert y[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    assert y.dtype == np.float32


def test_odd_width_and_too_long_input(xp):
    pe = nn.SinusoidalPositionalEncoding(5, max_len=4)
    assert pe.pe.shape == (4, 5)
    with pytest.raises(ValueError, match="exceeds max_len 4"):
        pe(xp.zeros((1, 5, 5), dtype=xp.float32))


def test_gradients(xp, rng):
    x = backend.asarray(rng.normal(size=(2, 3, 4)))
    check_module(nn.SinusoidalPositionalEncoding(4, max_len=8), x)
    errors = check_module(nn.LearnedPositionalEmbedding(8, 4), x)
    assert set(errors) == {"x", "W"}


def test_learned_table_adds_row_t_and_only_used_rows_get_gradient(xp, rng):
    emb = nn.LearnedPositionalEmbedding(6, 3)
    x = xp.zeros((2, 4, 3), dtype=xp.float32)
    assert xp.array_equal(emb(x)[1], emb.params["W"][:4])
    emb.backward(xp.ones((2, 4, 3), dtype=xp.float32))
    assert (emb.grads["W"][:4] == 2).all() and (emb.grads["W"][4:] == 0).all()
