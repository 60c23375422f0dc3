"""Fast twins of GRUCell and GRU: each step in place, over the projections it reads."""

from .. import nn
from ..backend import xp
from ..nn.checks import check_same_shape
from ..nn.gru import GATES
from ..nn.recurrent import check_step_inputs, split_gates
from .accelerate import twin
from .recurrent import FastRecurrent, sigmoid_, sigmoid_backward_, weight_grads


def gru_step_(gates, ah, h_prev, h):
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


def gru_step_backward_(gates, ah, h_prev, dh, dh_prev):
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


@twin(nn.GRUCell)
class GRUCell(nn.GRUCell):
    """``nn.GRUCell`` computed in place over its two projections (``gru_step_``)."""

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        p = self.params
        gates = x @ p["Wx"] + p["bx"]                      # ax, (B, 3H)
        ah = h_prev @ p["Wh"] + p["bh"]                    # (B, 3H)
        h = xp.empty_like(h_prev)
        gru_step_(gates, ah, h_prev, h)
        if self.record_gates:
            self.gates = dict(zip(GATES, (s.copy() for s in split_gates(gates, 3))))
        self.save_for_backward(x, h_prev, gates, ah)
        return h

    def backward(self, dh):
        x, h_prev, gates, ah = self.saved()
        check_same_shape(self, "dh", dh, h_prev.shape)
        dh_prev = xp.empty_like(h_prev)
        dax, dah = gru_step_backward_(gates, ah, h_prev, dh, dh_prev)
        dx = weight_grads(self, x, h_prev, dax, dah, "bx", "bh")
        dh_prev += dah @ self.params["Wh"].T
        return dx, dh_prev


@twin(nn.GRU)
class GRU(FastRecurrent, nn.GRU):
    """``nn.GRU`` with the input projection of every step in one product up front, each step
    in place (``gru_step_``), dWx and dWh as one product each after the loop.

    Measured (``make bench``, forward+backward, float32, one thread): 1.34x the reference's
    speed at (B, T, D, H) = (64, 100, 128, 256), 1.18x at (128, 200, 64, 64), 1.26x at
    (32, 50, 64, 128). The in-place step (sigmoid as 0.5 tanh(a / 2) + 0.5 written over the
    projection, the gradient over the gates) saves one fresh (B, 3H) array per operation; the
    loop's other tricks are measured one by one in ``minseq.fast.recurrent``."""

    x_bias, h_bias = "bx", "bh"

    def _buffers(self, T, B, dtype):
        H = self.hidden_size
        return {"AH": xp.empty((T, B, 3 * H), dtype=dtype),  # h_{t-1} Wh + bh, every step
                "dh": xp.empty((B, H), dtype=dtype)}          # scratch for dah_t Wh^T

    def _step_in_place(self, t, A, Z, buf):
        ah = xp.matmul(Z[0, t], self.params["Wh"], out=buf["AH"][t])
        ah += self.params["bh"]
        gru_step_(A[t], ah, Z[0, t], Z[0, t + 1])

    def _step_backward_in_place(self, t, dnew, dprev, A, Z, buf):
        _, dah = gru_step_backward_(A[t], buf["AH"][t], Z[0, t], dnew[0], dprev[0])
        dprev[0] += xp.matmul(dah, buf["WhT"], out=buf["dh"])
