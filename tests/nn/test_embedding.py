"""Embedding: row lookup, repeated indices add up, padding row has no gradient."""

import numpy as np
import pytest

from minseq import backend, nn
from minseq.gradcheck import check_module


def test_lookup_is_row_selection(xp):
    emb = nn.Embedding(5, 3)
    idx = xp.asarray([[4, 0], [2, 2]])
    W = backend.to_numpy(emb.params["W"])
    assert np.array_equal(backend.to_numpy(emb(idx)), W[[[4, 0], [2, 2]]])


def test_repeated_indices_accumulate(xp):
    emb = nn.Embedding(4, 2)
    idx = xp.asarray([1, 1, 1, 3])
    emb(idx)
    emb.backward(xp.ones((4, 2), dtype=xp.float32))
    dW = backend.to_numpy(emb.grads["W"])
    assert dW[1].tolist() == [3.0, 3.0] and dW[3].tolist() == [1.0, 1.0]
    assert dW[0].tolist() == [0.0, 0.0]


def test_padding_row_is_zero_and_gets_no_gradient(xp):
    emb = nn.Embedding(4, 2, padding_idx=0)
    assert (emb.params["W"][0] == 0).all()
    emb(xp.asarray([0, 0, 2]))
    emb.backward(xp.ones((3, 2), dtype=xp.float32))
    assert (emb.grads["W"][0] == 0).all()


def test_gradient_check(xp):
    check_module(nn.Embedding(6, 3, padding_idx=0), xp.asarray([[1, 2, 2, 0], [5, 0, 1, 1]]))


def test_out_of_range_index_is_a_clear_error(xp):
    with pytest.raises(IndexError, match=r"Embedding: indices must lie in \[0, 4\)"):
        nn.Embedding(4, 2)(xp.asarray([1, 4]))


def test_float_indices_are_a_clear_error(xp):
    with pytest.raises(TypeError, match="Embedding: idx must be an integer array"):
        nn.Embedding(4, 2)(xp.asarray([1.0, 2.0]))


def test_initialised_standard_normal(xp):
    W = backend.to_numpy(nn.Embedding(2000, 8).params["W"])
    assert abs(W.mean()) < 0.05 and abs(W.std() - 1) < 0.05
