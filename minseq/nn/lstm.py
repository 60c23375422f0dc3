"""LSTM: gates i, f, g, o from one fused product; one step (LSTMCell) and a sequence (LSTM).

    forward                                   backward, from dh = dL/dh and dc_next = dL/dc
    a = x Wx + h_prev Wh + b   (B, 4H)        dc = dc_next + dh (.) o (.) (1 - tanh_c^2)
    i = sigma(a_i)                            do = dh (.) tanh_c
    f = sigma(a_f)                            di = dc (.) g
    g = tanh(a_g)                             df = dc (.) c_prev
    o = sigma(a_o)                            dg = dc (.) i
    c = f (.) c_prev + i (.) g                dc_prev = dc (.) f
    tanh_c = tanh(c)                          da_i = di (.) i (.) (1 - i), da_f, da_o alike
    h = o (.) tanh_c                          da_g = dg (.) (1 - g^2)
                                              dWx = x^T da, dWh = h_prev^T da, db = sum_batch da
                                              dx = da Wx^T, dh_prev = da Wh^T

The blocks of a are in PyTorch's order i, f, g, o; (.) is the elementwise product. This is the
standard LSTM of the catalogue (D3 in separate-matrix form, D5 and D8 concatenated):
W_i [h, x] = h W_hi + x W_xi, and the four W_* stacked side by side give Wh and Wx.
"""

from collections import namedtuple

from ..backend import xp
from .checks import check_same_shape
from .functional import sigmoid
from .module import Module
from .recurrent import Recurrent, check_step_inputs, recurrent_params, split_gates, write_grads

GATES = ("i", "f", "g", "o")
# b stands for PyTorch's bias_ih + bias_hh: the sum of two U(-1/sqrt(H), 1/sqrt(H)) draws
BIASES = {"b": 2}

LSTMCache = namedtuple("LSTMCache", "x h_prev c_prev i f g o tanh_c")


def lstm_step(params, x, h_prev, c_prev):
    """One step: (h, c, cache) from x (B, D), h_prev and c_prev (B, H)."""
    a = x @ params["Wx"] + h_prev @ params["Wh"] + params["b"]
    a_i, a_f, a_g, a_o = split_gates(a, 4)
    i = sigmoid(a_i)
    f = sigmoid(a_f)
    g = xp.tanh(a_g)
    o = sigmoid(a_o)
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    h = o * tanh_c
    return h, c, LSTMCache(x, h_prev, c_prev, i, f, g, o, tanh_c)


def lstm_step_backward(params, dh, dc_next, cache):
    """From dh = dL/dh and dc_next = dL/dc (from later steps):
    (dx, dh_prev, dc_prev, {"Wx": dWx, "Wh": dWh, "b": db})."""
    x, h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc = dc_next + dh * o * (1 - tanh_c ** 2)
    do = dh * tanh_c
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da_i = di * i * (1 - i)
    da_f = df * f * (1 - f)
    da_g = dg * (1 - g ** 2)
    da_o = do * o * (1 - o)
    da = xp.concatenate([da_i, da_f, da_g, da_o], axis=-1)
    dparams = {"Wx": x.T @ da, "Wh": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ params["Wx"].T, da @ params["Wh"].T, dc_prev, dparams


class LSTMCell(Module):
    """One LSTM step: (x (B, D), h_prev (B, H), c_prev (B, H)) -> (h, c), each (B, H).

    Params Wx (D, 4H), Wh (H, 4H), b (4H), blocks i, f, g, o. PyTorch ``torch.nn.LSTMCell``:
    Wx = weight_ih.T, Wh = weight_hh.T, b = bias_ih + bias_hh. h_prev / c_prev None = zeros.
    With ``record_gates`` the step's gates are kept in ``gates`` ({"i": (B, H), ...}).
    backward(dh, dc=None) -> (dx, dh_prev, dc_prev), by ``lstm_step_backward``.
    """

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__()
        recurrent_params(self, input_size, hidden_size, blocks=4, biases=BIASES)
        self.record_gates, self.gates = record_gates, None

    def forward(self, x, h_prev=None, c_prev=None):
        h_prev, c_prev = check_step_inputs(self, x, {"h_prev": h_prev, "c_prev": c_prev})
        h, c, cache = lstm_step(self.params, x, h_prev, c_prev)
        if self.record_gates:
            self.gates = {name: getattr(cache, name) for name in GATES}
        self.save_for_backward(cache)
        return h, c

    def backward(self, dh, dc=None):
        (cache,) = self.saved()
        check_same_shape(self, "dh", dh, cache.c_prev.shape)
        dc_next = xp.zeros_like(dh) if dc is None else check_same_shape(
            self, "dc", dc, cache.c_prev.shape)
        dx, dh_prev, dc_prev, dparams = lstm_step_backward(self.params, dh, dc_next, cache)
        write_grads(self, dparams)
        return dx, dh_prev, dc_prev

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class LSTM(Recurrent):
    """LSTMCell over a sequence, batch first.

    forward(x (B, T, D), h_0=None, c_0=None, mask=None) -> (hs (B, T, H), (h_n, c_n)), the final
    states (B, H) at each sequence's last real step; ``mask`` (B, T) is True at real steps
    (PyTorch packs sequences instead). backward(dhs, dstate=None) -> (dx, dh_0, dc_0), dstate
    = (dh_n, dc_n) (either may be None) or None. Same function as
    ``torch.nn.LSTM(batch_first=True)`` with Wx = weight_ih_l0.T, Wh = weight_hh_l0.T,
    b = bias_ih_l0 + bias_hh_l0. With ``record_gates`` the gates of every step are kept:
    ``gates["f"]`` (B, T, H).
    """

    state_names = ("h", "c")
    gate_names = GATES

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__(input_size, hidden_size, 4, BIASES, record_gates)

    def forward(self, x, h_0=None, c_0=None, mask=None):
        hs, (h_n, c_n) = self._run(x, (h_0, c_0), mask)
        return hs, (h_n, c_n)

    def backward(self, dhs, dstate=None):
        dx, (dh_0, dc_0) = self._run_backward(dhs, dstate or (None, None))
        return dx, dh_0, dc_0

    def _step(self, x_t, states):
        h, c, cache = lstm_step(self.params, x_t, *states)
        return (h, c), cache

    def _step_backward(self, dstates, cache):
        dx_t, dh_prev, dc_prev, dparams = lstm_step_backward(self.params, *dstates, cache)
        return dx_t, (dh_prev, dc_prev), dparams
