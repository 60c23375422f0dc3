"""Vanilla (Elman) RNN: h_t = act(x_t Wx + h_{t-1} Wh + b); one step (RNNCell), a sequence (RNN).

Catalogue D1 prints h_t = sigma(W_h h_{t-1} + W_x x_t + b_h) with column vectors; minseq keeps
rows of a batch, so the same product reads x_t Wx + h_{t-1} Wh (Wx = W_x^T, Wh = W_h^T).

    forward                                   backward, from dh = dL/dh
    a = x Wx + h_prev Wh + b                  da = dh (.) act'(a)
    h = act(a)                                tanh' = 1 - h^2,  relu' = [a > 0]
                                              dWx = x^T da, dWh = h_prev^T da, db = sum_batch da
                                              dx = da Wx^T, dh_prev = da Wh^T
"""

from collections import namedtuple

from ..backend import xp
from .checks import check_same_shape
from .module import Module
from .recurrent import Recurrent, check_step_inputs, recurrent_params, write_grads

NONLINEARITIES = ("tanh", "relu")
# b stands for PyTorch's bias_ih + bias_hh: the sum of two U(-1/sqrt(H), 1/sqrt(H)) draws
BIASES = {"b": 2}

RNNCache = namedtuple("RNNCache", "x h_prev a h")


def rnn_step(params, x, h_prev, nonlinearity):
    """One step: h = act(x Wx + h_prev Wh + b); returns (h, cache)."""
    a = x @ params["Wx"] + h_prev @ params["Wh"] + params["b"]
    h = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
    return h, RNNCache(x, h_prev, a, h)


def rnn_step_backward(params, dh, cache, nonlinearity):
    """From dh = dL/dh: (dx, dh_prev, {"Wx": dWx, "Wh": dWh, "b": db})."""
    x, h_prev, a, h = cache
    da = dh * (1 - h ** 2) if nonlinearity == "tanh" else dh * (a > 0)
    dparams = {"Wx": x.T @ da, "Wh": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ params["Wx"].T, da @ params["Wh"].T, dparams


def _check_nonlinearity(module, nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{module.name()}: nonlinearity must be one of {NONLINEARITIES}, "
                         f"got {nonlinearity!r}")
    module.nonlinearity = nonlinearity


class RNNCell(Module):
    """One step: h = act(x Wx + h_prev Wh + b), act = tanh or relu.

    Shapes: x (B, D), h_prev (B, H) or None (zeros) -> h (B, H); Wx (D, H), Wh (H, H), b (H).
    PyTorch ``torch.nn.RNNCell``: Wx = weight_ih.T, Wh = weight_hh.T, b = bias_ih + bias_hh.
    backward(dh) -> (dx, dh_prev), by ``rnn_step_backward``.
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        _check_nonlinearity(self, nonlinearity)
        recurrent_params(self, input_size, hidden_size, blocks=1, biases=BIASES)

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        h, cache = rnn_step(self.params, x, h_prev, self.nonlinearity)
        self.save_for_backward(cache)
        return h

    def backward(self, dh):
        (cache,) = self.saved()
        check_same_shape(self, "dh", dh, cache.h.shape)
        dx, dh_prev, dparams = rnn_step_backward(self.params, dh, cache, self.nonlinearity)
        write_grads(self, dparams)
        return dx, dh_prev

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class RNN(Recurrent):
    """RNNCell over a sequence: h_t = act(x_t Wx + h_{t-1} Wh + b), t = 1..T.

    forward(x (B, T, D), h_0 (B, H) or None, mask (B, T) bool or None) -> (hs (B, T, H), h_n
    (B, H)), h_n the state after each sequence's last real step. ``mask`` is True at real steps
    (PyTorch has no mask; it packs sequences). backward(dhs, dh_n=None) -> (dx, dh_0).
    Same function as ``torch.nn.RNN(batch_first=True)`` with Wx = weight_ih_l0.T,
    Wh = weight_hh_l0.T, b = bias_ih_l0 + bias_hh_l0.
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        _check_nonlinearity(self, nonlinearity)
        super().__init__(input_size, hidden_size, 1, BIASES)

    def _step(self, x_t, states):
        h, cache = rnn_step(self.params, x_t, states[0], self.nonlinearity)
        return (h,), cache

    def _step_backward(self, dstates, cache):
        dx_t, dh_prev, dparams = rnn_step_backward(self.params, dstates[0], cache,
                                                   self.nonlinearity)
        return dx_t, (dh_prev,), dparams

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
