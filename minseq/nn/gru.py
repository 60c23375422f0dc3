"""GRU (PyTorch's formula, catalogue D9): one step (GRUCell) and a sequence (GRU).

    forward                                   backward, from dh = dL/dh
    ax = x Wx + bx       (B, 3H), blocks r, z, n    dn = dh (.) (1 - z)
    ah = h_prev Wh + bh  (B, 3H)                    dz = dh (.) (h_prev - n)
    r = sigma(ax_r + ah_r)                          da_n = dn (.) (1 - n^2)
    z = sigma(ax_z + ah_z)                          dr = da_n (.) ah_n
    n = tanh(ax_n + r (.) ah_n)                     da_r = dr (.) r (.) (1 - r)
    h = (1 - z) (.) n + z (.) h_prev                da_z = dz (.) z (.) (1 - z)
                                                    dax = [da_r, da_z, da_n]
                                                    dah = [da_r, da_z, da_n (.) r]
                      dWx = x^T dax, dWh = h_prev^T dah, dbx, dbh = their batch sums
                      dx = dax Wx^T, dh_prev = dh (.) z + dah Wh^T

Because r multiplies the hidden part of n only, the GRU keeps two biases (bx, bh) and the two
projections ax, ah apart; their gradients differ only in the n block.
"""

from collections import namedtuple

from ..backend import xp
from .checks import check_same_shape
from .functional import sigmoid
from .module import Module
from .recurrent import Recurrent, check_step_inputs, recurrent_params, split_gates, write_grads

GATES = ("r", "z", "n")
BIASES = {"bx": 1, "bh": 1}      # PyTorch's bias_ih and bias_hh, one draw each

GRUCache = namedtuple("GRUCache", "x h_prev ah_n r z n")


def gru_step(params, x, h_prev):
    """One step: (h, cache) from x (B, D) and h_prev (B, H)."""
    ax = x @ params["Wx"] + params["bx"]
    ah = h_prev @ params["Wh"] + params["bh"]
    ax_r, ax_z, ax_n = split_gates(ax, 3)
    ah_r, ah_z, ah_n = split_gates(ah, 3)
    r = sigmoid(ax_r + ah_r)
    z = sigmoid(ax_z + ah_z)
    n = xp.tanh(ax_n + r * ah_n)
    h = (1 - z) * n + z * h_prev
    return h, GRUCache(x, h_prev, ah_n, r, z, n)


def gru_step_backward(params, dh, cache):
    """From dh = dL/dh: (dx, dh_prev, {"Wx": dWx, "Wh": dWh, "bx": dbx, "bh": dbh})."""
    x, h_prev, ah_n, r, z, n = cache
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    da_n = dn * (1 - n ** 2)
    dr = da_n * ah_n
    da_r = dr * r * (1 - r)
    da_z = dz * z * (1 - z)
    dax = xp.concatenate([da_r, da_z, da_n], axis=-1)
    dah = xp.concatenate([da_r, da_z, da_n * r], axis=-1)
    dparams = {"Wx": x.T @ dax, "Wh": h_prev.T @ dah,
               "bx": dax.sum(axis=0), "bh": dah.sum(axis=0)}
    return dax @ params["Wx"].T, dh * z + dah @ params["Wh"].T, dparams


class GRUCell(Module):
    """One GRU step: (x (B, D), h_prev (B, H) or None) -> h (B, H).

    Params Wx (D, 3H), Wh (H, 3H), bx (3H), bh (3H), blocks r, z, n. PyTorch ``torch.nn.GRUCell``:
    Wx = weight_ih.T, Wh = weight_hh.T, bx = bias_ih, bh = bias_hh. With ``record_gates`` the
    step's gates are kept in ``gates`` ({"r": (B, H), ...}). backward(dh) -> (dx, dh_prev), by
    ``gru_step_backward``.
    """

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__()
        recurrent_params(self, input_size, hidden_size, blocks=3, biases=BIASES)
        self.record_gates, self.gates = record_gates, None

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        h, cache = gru_step(self.params, x, h_prev)
        if self.record_gates:
            self.gates = {name: getattr(cache, name) for name in GATES}
        self.save_for_backward(cache)
        return h

    def backward(self, dh):
        (cache,) = self.saved()
        check_same_shape(self, "dh", dh, cache.h_prev.shape)
        dx, dh_prev, dparams = gru_step_backward(self.params, dh, cache)
        write_grads(self, dparams)
        return dx, dh_prev

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class GRU(Recurrent):
    """GRUCell over a sequence, batch first.

    forward(x (B, T, D), h_0=None, mask=None) -> (hs (B, T, H), h_n (B, H)), h_n the state at
    each sequence's last real step; ``mask`` (B, T) is True at real steps (PyTorch packs
    sequences instead). backward(dhs, dh_n=None) -> (dx, dh_0). Same function as
    ``torch.nn.GRU(batch_first=True)`` with Wx = weight_ih_l0.T, Wh = weight_hh_l0.T,
    bx = bias_ih_l0, bh = bias_hh_l0. With ``record_gates`` the gates of every step are kept:
    ``gates["z"]`` (B, T, H).
    """

    gate_names = GATES

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__(input_size, hidden_size, 3, BIASES, record_gates)

    def _step(self, x_t, states):
        h, cache = gru_step(self.params, x_t, states[0])
        return (h,), cache

    def _step_backward(self, dstates, cache):
        dx_t, dh_prev, dparams = gru_step_backward(self.params, dstates[0], cache)
        return dx_t, (dh_prev,), dparams
