"""Dropout: inverted scaling, seeded masks, identity in eval mode, matching backward."""

import numpy as np
import pytest

from minseq import backend, nn
from minseq.gradcheck import check_module


def test_inverted_scaling_keeps_the_mean(xp):
    x = xp.ones((200, 500), dtype=xp.float32)
    y = backend.to_numpy(nn.Dropout(0.25, seed=3)(x))
    kept = y != 0
    # bounds of 7 and 11 standard deviations over 100,000 draws: they hold for any generator
    # (CuPy's masks differ from NumPy's for the same seed), not for a wrong keep rate
    assert np.allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01
    assert abs(y.mean() - 1.0) < 0.02


def test_eval_mode_is_identity(xp):
    layer = nn.Dropout(0.9).eval()
    x = xp.arange(6, dtype=xp.float32)
    assert (layer(x) == x).all()
    assert (layer.backward(x) == x).all()


def test_same_seed_same_mask(xp):
    x = xp.ones((4, 8), dtype=xp.float32)
    a, b = nn.Dropout(0.5, seed=11)(x), nn.Dropout(0.5, seed=11)(x)
    assert (a == b).all()


def test_backward_uses_the_forward_mask(xp):
    layer = nn.Dropout(0.5, seed=2)
    y = layer(xp.ones((3, 7), dtype=xp.float32))
    assert (layer.backward(xp.ones((3, 7), dtype=xp.float32)) == y).all()


def test_gradient(xp):
    check_module(nn.Dropout(0.4, seed=5), xp.linspace(-1, 1, 12).reshape(3, 4))


def test_bad_probability(xp):
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\)"):
        nn.Dropout(1.0)
