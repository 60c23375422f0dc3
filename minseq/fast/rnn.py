"""Fast twins of RNNCell and RNN: in-place activations, the loop of ``fast.recurrent``."""

from .. import nn
from ..backend import xp
from ..nn.checks import check_same_shape
from ..nn.recurrent import check_step_inputs
from .accelerate import twin
from .recurrent import FastRecurrent, weight_grads


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


@twin(nn.RNNCell)
class RNNCell(nn.RNNCell):
    """``nn.RNNCell``, activating in place over the pre-activation and writing its gradients
    straight into ``grads``."""

    def forward(self, x, h_prev=None):
        (h_prev,) = check_step_inputs(self, x, {"h_prev": h_prev})
        p = self.params
        h = x @ p["Wx"] + h_prev @ p["Wh"] + p["b"]       # the pre-activation a, (B, H)
        rnn_activate(h, self.nonlinearity)
        self.save_for_backward(x, h_prev, h)
        return h

    def backward(self, dh):
        x, h_prev, h = self.saved()
        check_same_shape(self, "dh", dh, h.shape)
        da = rnn_activate_backward(h, dh, self.nonlinearity, out=xp.empty_like(h))
        dx = weight_grads(self, x, h_prev, da, da, "b")
        return dx, da @ self.params["Wh"].T


@twin(nn.RNN)
class RNN(FastRecurrent, nn.RNN):
    """``nn.RNN`` with the input projection of every step in one product up front, each step
    in place in the time-major state buffer, dWx and dWh as one product after the loop.

    Measured (``make bench``, forward+backward, float32, one thread): 1.66x the reference's
    speed at (B, T, D, H) = (64, 100, 128, 256), 1.90x at (128, 200, 64, 64), 1.96x at
    (32, 50, 64, 128); the tricks one by one: ``minseq.fast.recurrent`` and lesson 15."""

    def _step_in_place(self, t, A, Z, buf):
        h_prev, h = Z[0, t], Z[0, t + 1]
        xp.matmul(h_prev, self.params["Wh"], out=h)
        h += A[t]                                           # a_t = x_t Wx + b + h_{t-1} Wh
        rnn_activate(h, self.nonlinearity)

    def _step_backward_in_place(self, t, dnew, dprev, A, Z, buf):
        da = rnn_activate_backward(Z[0, t + 1], dnew[0], self.nonlinearity, out=A[t])
        xp.matmul(da, buf["WhT"], out=dprev[0])   # dh_{t-1} = da_t Wh^T
