"""Vanilla (Elman) RNN: h_t = act(x_t Wx + h_{t-1} Wh + b); one step (RNNCell), a sequence (RNN).

Catalogue D1 prints h_t = sigma(W_h h_{t-1} + W_x x_t + b_h) with column vectors; minseq keeps
rows of a batch, so the same product reads x_t Wx + h_{t-1} Wh (Wx = W_x^T, Wh = W_h^T).
"""

from ..backend import xp
from .checks import check_same_shape
from .module import Module
from .recurrent import Recurrent, check_step_inputs, recurrent_params, weight_grads

NONLINEARITIES = ("tanh", "relu")


def rnn_activate(a, nonlinearity):
    """In place: the pre-activation a (B, H) becomes h = tanh(a) or max(a, 0)."""
    if nonlinearity == "tanh":
        return xp.tanh(a, out=a)
    return xp.maximum(a, 0, out=a)


def rnn_activate_backward(h, dh, nonlinearity, out):
    """da = dh (.) act'(a), read from h = act(a): tanh' = 1 - h^2, relu' = [h > 0]."""
    if nonlinearity == "tanh":
        xp.multiply(h, h, out=out)
        xp.subtract(1, out, out=out)
        return xp.multiply(out, dh, out=out)
    return xp.multiply(dh, h > 0, out=out)


def _check_nonlinearity(module, nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{module.name()}: nonlinearity must be one of {NONLINEARITIES}, "
                         f"got {nonlinearity!r}")
    module.nonlinearity = nonlinearity


# b stands for PyTorch's bias_ih + bias_hh: the sum of two U(-1/sqrt(H), 1/sqrt(H)) draws
BIASES = {"b": 2}


class RNNCell(Module):
    """One step: h = act(x Wx + h_prev Wh + b), act = tanh or relu.

    Shapes: x (B, D), h_prev (B, H) or None (zeros) -> h (B, H); Wx (D, H), Wh (H, H), b (H).
    PyTorch ``torch.nn.RNNCell``: Wx = weight_ih.T, Wh = weight_hh.T, b = bias_ih + bias_hh.

    Backward(dh): da = dh (.) act'(a); dWx = x^T da, dWh = h_prev^T da, db = sum_batch da;
    returns (dx, dh_prev) = (da Wx^T, da Wh^T).
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        _check_nonlinearity(self, nonlinearity)
        recurrent_params(self, input_size, hidden_size, blocks=1, biases=BIASES)

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        p = self.params
        h = x @ p["Wx"] + h_prev @ p["Wh"] + p["b"]       # the pre-activation a, (B, H)
        rnn_activate(h, self.nonlinearity)
        self._save(x, h_prev, h)
        return h

    def backward(self, dh):
        x, h_prev, h = self._take()
        check_same_shape(self, "dh", dh, h.shape)
        da = rnn_activate_backward(h, dh, self.nonlinearity, out=xp.empty_like(h))
        dx = weight_grads(self, x, h_prev, da, da, "b")
        return dx, da @ self.params["Wh"].T

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class RNN(Recurrent):
    """RNNCell over a sequence: h_t = act(x_t Wx + h_{t-1} Wh + b), t = 1..T.

    forward(x (B, T, D), h0 (B, H) or None, mask (B, T) bool or None) -> hs (B, T, H); the final
    state is ``h_n``. ``mask`` is True at real steps (PyTorch has no mask; it packs sequences).
    Same function as ``torch.nn.RNN(batch_first=True)`` with Wx = weight_ih_l0.T,
    Wh = weight_hh_l0.T, b = bias_ih_l0 + bias_hh_l0. backward(dhs) returns dx; dh0 is kept.
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        _check_nonlinearity(self, nonlinearity)
        super().__init__(input_size, hidden_size, BIASES)

    def forward(self, x, h0=None, mask=None):
        return self._forward(x, (h0,), mask)

    def _step(self, t, A, Z, buf):
        h_prev, h = Z[0, t], Z[0, t + 1]
        xp.matmul(h_prev, self.params["Wh"], out=h)
        h += A[t]                                           # a_t = x_t Wx + b + h_{t-1} Wh
        rnn_activate(h, self.nonlinearity)

    def _step_backward(self, t, dnew, dprev, A, Z, buf):
        da = rnn_activate_backward(Z[0, t + 1], dnew[0], self.nonlinearity, out=A[t])
        xp.matmul(da, buf["WhT"], out=dprev[0])   # dh_{t-1} = da_t Wh^T

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
