"""Fast twins of LSTMCell and LSTM: the gates and their gradients in place."""

from .. import nn
from ..backend import xp
from ..nn.checks import check_same_shape
from ..nn.lstm import GATES
from ..nn.recurrent import check_step_inputs, split_gates
from .accelerate import twin
from .recurrent import FastRecurrent, weight_grads


def sigmoid_in_place(a):
    """a <- sigma(a) = 0.5 tanh(a / 2) + 0.5 (exact, never overflows), written over a."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def lstm_gates(a):
    """In place: a (B, 4H) pre-activations -> the gates [i, f, g, o] = [sigma, sigma, tanh,
    sigma](a). (One tanh over all four blocks, act(a) = scale tanh(scale a) + shift, measured
    1.00x at (64, 100, 128, 256): removed.)"""
    H = a.shape[-1] // 4
    sigmoid_in_place(a[..., :2 * H])                    # i and f, side by side
    g = a[..., 2 * H:3 * H]
    xp.tanh(g, out=g)
    sigmoid_in_place(a[..., 3 * H:])                    # o
    return a


def lstm_state(gates, c_prev, c, tanh_c, h):
    """Write c = f (.) c_prev + i (.) g, tanh(c) (kept for backward) and h = o (.) tanh(c)."""
    i, f, g, o = split_gates(gates, 4)
    xp.multiply(f, c_prev, out=c)
    c += i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)


def lstm_state_backward(gates, c_prev, tanh_c, dh, dc, dc_prev, dgates):
    """Backward through one step, from dh = dL/dh_t and dc = dL/dc_t from later steps.

    dc_t    = dc + dh (.) o (.) (1 - tanh^2 c_t)      (dc is overwritten with this total)
    dc_prev = dc_t (.) f                              (written into ``dc_prev``)
    dL/d[i, f, g, o] = [dc_t g, dc_t c_prev, dc_t i, dh tanh(c_t)]     (into ``dgates``)
    dL/da = dL/d[i, f, g, o] (.) [i (1 - i), f (1 - f), 1 - g^2, o (1 - o)]
    Each gate is read for the last time here, so dL/da (B, 4H) overwrites ``gates``; returned.
    """
    i, f, g, o = split_gates(gates, 4)
    dc += dh * o * (1 - tanh_c * tanh_c)
    xp.multiply(dc, f, out=dc_prev)
    di, df, dg, do = split_gates(dgates, 4)
    xp.multiply(dc, g, out=di)
    xp.multiply(dc, c_prev, out=df)
    xp.multiply(dc, i, out=dg)
    xp.multiply(dh, tanh_c, out=do)
    for s in (i, f, o):                 # sigma' = s (1 - s), in place
        xp.multiply(s, 1 - s, out=s)
    xp.multiply(g, g, out=g)            # tanh' = 1 - g^2, in place
    xp.subtract(1, g, out=g)
    gates *= dgates
    return gates


@twin(nn.LSTMCell)
class LSTMCell(nn.LSTMCell):
    """``nn.LSTMCell`` with the gates and their gradients in place."""

    def forward(self, x, h_prev=None, c_prev=None):
        h_prev, c_prev = check_step_inputs(self, x, {"h_prev": h_prev, "c_prev": c_prev})
        p = self.params
        a = x @ p["Wx"] + h_prev @ p["Wh"] + p["b"]                      # (B, 4H)
        gates = lstm_gates(a)
        if self.record_gates:
            self.gates = dict(zip(GATES, (s.copy() for s in split_gates(gates, 4))))
        c, tanh_c, h = (xp.empty_like(c_prev) for _ in range(3))
        lstm_state(gates, c_prev, c, tanh_c, h)
        self.save_for_backward(x, h_prev, c_prev, gates, tanh_c)
        return h, c

    def backward(self, dh, dc=None):
        x, h_prev, c_prev, gates, tanh_c = self.saved()
        check_same_shape(self, "dh", dh, h_prev.shape)
        dc = xp.zeros_like(c_prev) if dc is None else check_same_shape(
            self, "dc", dc, c_prev.shape).copy()          # copied: it is overwritten below
        dc_prev = xp.empty_like(c_prev)
        da = lstm_state_backward(gates, c_prev, tanh_c, dh, dc, dc_prev, xp.empty_like(gates))
        dx = weight_grads(self, x, h_prev, da, da, "b")
        return dx, da @ self.params["Wh"].T, dc_prev


@twin(nn.LSTM)
class LSTM(FastRecurrent, nn.LSTM):
    """``nn.LSTM`` with the input projection of every step in one product up front, the gates
    and their gradients in place and dWx, dWh as one product after the loop.

    Measured (``make bench``, forward+backward, float32, one thread): 1.33x the reference's
    speed at (B, T, D, H) = (64, 100, 128, 256), 1.22x at (128, 200, 64, 64), 1.58x at
    (32, 50, 64, 128); the same time as the LSTM before the split into two tiers. Trick by
    trick: ``minseq.fast.recurrent``'s docstring and lesson 15.
    """

    def _buffers(self, T, B, dtype):
        H = self.hidden_size
        return {"tanh_c": xp.empty((T, B, H), dtype=dtype),
                "ah": xp.empty((B, 4 * H), dtype=dtype),     # scratch for h_{t-1} Wh
                "dgates": xp.empty((B, 4 * H), dtype=dtype)}  # scratch for dL/d[i, f, g, o]

    def _step_in_place(self, t, A, Z, buf):
        a = A[t]                                            # x_t Wx + b, (B, 4H)
        a += xp.matmul(Z[0, t], self.params["Wh"], out=buf["ah"])
        lstm_gates(a)                                       # a now holds the gates
        lstm_state(a, Z[1, t], Z[1, t + 1], buf["tanh_c"][t], Z[0, t + 1])

    def _step_backward_in_place(self, t, dnew, dprev, A, Z, buf):
        da = lstm_state_backward(A[t], Z[1, t], buf["tanh_c"][t], dnew[0], dnew[1], dprev[1],
                                 buf["dgates"])
        xp.matmul(da, buf["WhT"], out=dprev[0])    # dh_{t-1} = da_t Wh^T
