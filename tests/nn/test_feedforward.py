"""The position-wise feed-forward network."""

import numpy as np
import pytest

from minseq import backend, nn
from minseq.gradcheck import check_module


def test_forward_equals_its_formula(xp, rng):
    ff = nn.FeedForward(4, 6, dropout=0.0).astype(xp.float64)
    x = rng.normal(size=(2, 3, 4))
    p = {k: backend.to_numpy(v) for k, v in ff.named_parameters()}
    expected = np.maximum(x @ p["linear1.W"] + p["linear1.b"], 0) @ p["linear2.W"] + p["linear2.b"]
    assert np.allclose(backend.to_numpy(ff(backend.asarray(x))), expected, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_gradients_with_seeded_dropout(xp, rng, activation):
    ff = nn.FeedForward(4, 6, activation=activation, dropout=0.3)
    x = rng.normal(size=(2, 3, 4))
    check_module(ff, backend.asarray(x + 0.1 * np.sign(x)))


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        nn.FeedForward(4, 6, activation="tanh")
