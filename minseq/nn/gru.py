"""GRU (PyTorch's formula, catalogue D9): one step (GRUCell) and a sequence (GRU).

    ax = x Wx + bx,  ah = h_prev Wh + bh            (B, 3H) each, blocks r, z, n
    r = sigma(ax_r + ah_r),  z = sigma(ax_z + ah_z)
    n = tanh(ax_n + r (.) ah_n)                      the reset gate scales h_prev W_hn + b_hn
    h = (1 - z) (.) n + z (.) h_prev

Because r multiplies the hidden part of n only, the GRU keeps two biases (bx, bh) and the two
projections ax, ah apart; their gradients differ only in the n block (dah_n = dax_n (.) r).
"""

from ..backend import xp
from .checks import check_same_shape
from .module import Module
from .recurrent import (Recurrent, check_step_inputs, recurrent_params, sigmoid_,
                        sigmoid_backward_, split_gates, weight_grads)

GATES = ("r", "z", "n")
BIASES = {"bx": 1, "bh": 1}      # PyTorch's bias_ih and bias_hh, one draw each


def gru_step(gates, ah, h_prev, h):
    """One step, in place: ``gates`` holds ax on entry and [r, z, n] on return; writes h."""
    H = h.shape[-1]
    rz = gates[..., :2 * H]
    rz += ah[..., :2 * H]
    sigmoid_(rz)
    r, z, n = split_gates(gates, 3)
    n += r * ah[..., 2 * H:]
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)          # h = n + z (.) (h_prev - n) = (1 - z) n + z h_prev
    h *= z
    h += n


def gru_step_backward(gates, ah, h_prev, dh, dh_prev):
    """Backward through one step from dh = dL/dh (B, H), in place:

    dn = dh (1 - z),  dz = dh (h_prev - n),  dax_n = dn (1 - n^2),  dr = dax_n (.) ah_n,
    dax_r = dr r(1 - r),  dax_z = dz z(1 - z),  dah = [dax_r, dax_z, dax_n (.) r].
    ``gates`` becomes dax, ``ah`` becomes dah (both (B, 3H)); ``dh_prev`` gets the direct
    path dh (.) z, to which the caller adds dah Wh^T.
    """
    H = dh.shape[-1]
    r, z, n = split_gates(gates, 3)
    dah_r, dah_z, ah_n = split_gates(ah, 3)
    dn, dz = dh * (1 - z), dh * (h_prev - n)
    xp.multiply(dh, z, out=dh_prev)
    xp.multiply(n, n, out=n)               # dax_n = dn (.) (1 - n^2)
    xp.subtract(1, n, out=n)
    n *= dn
    dr = n * ah_n
    xp.multiply(n, r, out=ah_n)            # dah_n = dax_n (.) r, read before r is overwritten
    sigmoid_backward_(r, dr)
    sigmoid_backward_(z, dz)
    ah[..., :2 * H] = gates[..., :2 * H]   # r and z see ax + ah alike
    return gates, ah


class GRUCell(Module):
    """One GRU step: (x (B, D), h_prev (B, H) or None) -> h (B, H).

    Params Wx (D, 3H), Wh (H, 3H), bx (3H), bh (3H), blocks r, z, n. PyTorch ``torch.nn.GRUCell``:
    Wx = weight_ih.T, Wh = weight_hh.T, bx = bias_ih, bh = bias_hh. With ``record_gates`` the
    step's gates are kept in ``gates`` ({"r": (B, H), ...}).

    backward(dh) -> (dx, dh_prev): dax, dah from ``gru_step_backward``; dWx = x^T dax,
    dWh = h_prev^T dah, dbx, dbh their batch sums; dx = dax Wx^T, dh_prev = dh z + dah Wh^T.
    """

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__()
        recurrent_params(self, input_size, hidden_size, blocks=3, biases=BIASES)
        self.record_gates, self.gates = record_gates, None

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        p = self.params
        gates = x @ p["Wx"] + p["bx"]                      # ax, (B, 3H)
        ah = h_prev @ p["Wh"] + p["bh"]                    # (B, 3H)
        h = xp.empty_like(h_prev)
        gru_step(gates, ah, h_prev, h)
        if self.record_gates:
            self.gates = dict(zip(GATES, (s.copy() for s in split_gates(gates, 3))))
        self._save(x, h_prev, gates, ah)
        return h

    def backward(self, dh):
        x, h_prev, gates, ah = self._take()
        check_same_shape(self, "dh", dh, h_prev.shape)
        dh_prev = xp.empty_like(h_prev)
        dax, dah = gru_step_backward(gates, ah, h_prev, dh, dh_prev)
        dx = weight_grads(self, x, h_prev, dax, dah, "bx", "bh")
        dh_prev += dah @ self.params["Wh"].T
        return dx, dh_prev

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class GRU(Recurrent):
    """GRUCell over a sequence: forward(x (B, T, D), h0=None, mask=None) -> hs (B, T, H).

    Final state ``h_n`` (B, H) at each sequence's last real step; ``mask`` (B, T) is True at
    real steps (PyTorch packs sequences instead). Same function as
    ``torch.nn.GRU(batch_first=True)`` with Wx = weight_ih_l0.T, Wh = weight_hh_l0.T,
    bx = bias_ih_l0, bh = bias_hh_l0. backward(dhs, dh_n=None) returns dx and keeps dh0.
    With ``record_gates`` the gates of every step are kept: ``gates["z"]`` (B, T, H).
    """

    gate_names = GATES
    x_bias, h_bias = "bx", "bh"

    def __init__(self, input_size, hidden_size, record_gates=False):
        super().__init__(input_size, hidden_size, BIASES, record_gates)

    def forward(self, x, h0=None, mask=None):
        return self._forward(x, (h0,), mask)

    def _buffers(self, T, B, dtype):
        H = self.hidden_size
        return {"AH": xp.empty((T, B, 3 * H), dtype=dtype),  # h_{t-1} Wh + bh, every step
                "dh": xp.empty((B, H), dtype=dtype)}          # scratch for dah_t Wh^T

    def _step(self, t, A, Z, buf):
        ah = xp.matmul(Z[0, t], self.params["Wh"], out=buf["AH"][t])
        ah += self.params["bh"]
        gru_step(A[t], ah, Z[0, t], Z[0, t + 1])

    def _step_backward(self, t, dnew, dprev, A, Z, buf):
        _, dah = gru_step_backward(A[t], buf["AH"][t], Z[0, t], dnew[0], dprev[0])
        dprev[0] += xp.matmul(dah, buf["WhT"], out=buf["dh"])
