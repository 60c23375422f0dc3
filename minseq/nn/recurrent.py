"""What RNN, LSTM and GRU share: input checks, the time loop, masking and the weight gradients.

A recurrent layer runs one cell over time. Each of the three cells differs only in its step
(``_step`` / ``_step_backward`` in ``rnn.py``, ``lstm.py``, ``gru.py``); everything around the
step lives here once:

    A_t = x_t Wx + bias           for every t in ONE product up front       (T, B, G)
    state_t = cell(A_t, state_{t-1})    t = 1 .. T, a Python loop over time
    hs[:, t] = h_t                 (zero at padded steps)

The state is ``(h,)`` for RNN and GRU and ``(h, c)`` for LSTM, kept in one time-major buffer
Z (n_states, T+1, B, H) with Z[:, 0] the initial state. Inside the layer, time is the leading
axis, so every step reads and writes contiguous (B, .) blocks.

Masks (True = real step, unlike PyTorch's padding masks): at a padded step the state is carried
through unchanged and the output is zero, so h_n is the state after the last real step and a
padded batch gives each sequence exactly what it gets alone.

Backward (backpropagation through time) walks the loop in reverse; each step writes its
dL/dA_t over the forward cache it no longer needs. The weight gradients are then one product
over all steps: dWx = sum_t x_t^T dA_t, dWh = sum_t h_{t-1}^T dA^h_t, and dx = dA Wx^T.
"""

import math

from ..backend import xp
from . import init
from .checks import check_array, check_same_shape
from .module import Module


def recurrent_params(module, input_size, hidden_size, blocks, biases):
    """Register Wx (D, blocks*H), Wh (H, blocks*H) and each bias (blocks*H,) on ``module``.

    PyTorch draws every weight and bias from U(-1/sqrt(H), 1/sqrt(H)). ``biases`` maps a bias
    name to how many such draws it sums: LSTM's single ``b`` stands for PyTorch's
    bias_ih + bias_hh, so it is the sum of two draws, exactly the same distribution.
    """
    if input_size < 1 or hidden_size < 1:
        raise ValueError(f"{module.name()}: input_size and hidden_size must be positive, "
                         f"got {input_size} and {hidden_size}")
    module.input_size, module.hidden_size = input_size, hidden_size
    G, bound = blocks * hidden_size, 1.0 / math.sqrt(hidden_size)
    module.add_param("Wx", init.uniform((input_size, G), bound))
    module.add_param("Wh", init.uniform((hidden_size, G), bound))
    for name, draws in biases.items():
        b = init.uniform((G,), bound)
        for _ in range(draws - 1):
            b += init.uniform((G,), bound)
        module.add_param(name, b)


def weight_grads(module, x2, h2, dAx, dAh, x_bias, h_bias=None):
    """Write dWx = x^T dAx, dWh = h_prev^T dAh and the bias sums; return dx = dAx Wx^T.

    x2 (N, D), h2 (N, H): the inputs and previous states of N = (steps x batch) rows;
    dAx, dAh (N, G): dL/d(input projection) and dL/d(hidden projection), the same array
    except in the GRU. A cell calls this with one step's rows, a layer with all steps at once.
    """
    g, p = module.grads, module.params
    xp.matmul(x2.T, dAx, out=g["Wx"])
    xp.matmul(h2.T, dAh, out=g["Wh"])
    dAx.sum(axis=0, out=g[x_bias])
    if h_bias is not None:
        dAh.sum(axis=0, out=g[h_bias])
    return dAx @ p["Wx"].T


def split_gates(gates, n):
    """The n gate blocks of (..., n*H) as n views (..., H), in the order of the columns."""
    H = gates.shape[-1] // n
    return [gates[..., k * H:(k + 1) * H] for k in range(n)]


def sigmoid_(a):
    """In place: sigma(a) = 0.5 tanh(a / 2) + 0.5 (exact, never overflows)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def sigmoid_backward_(s, ds):
    """In place: s = sigma(a) becomes dL/da = ds (.) s (.) (1 - s); ds is overwritten too."""
    ds *= s
    xp.subtract(1, s, out=s)
    s *= ds
    return s


def check_state(module, name, s, B):
    """An initial state must be (B, H) in the layer's dtype; None means zeros."""
    H, dtype = module.hidden_size, module.params["Wx"].dtype
    if s is None:
        return xp.zeros((B, H), dtype=dtype)
    check_array(module, name, s, dtype=dtype)
    return check_same_shape(module, f"{name} (batch, hidden_size)", s, (B, H))


class Recurrent(Module):
    """Base of RNN, LSTM and GRU: x (B, T, D) -> hs (B, T, H), batch first.

    After ``forward``: ``h_n`` (B, H) (and ``c_n`` for LSTM), the state after each sequence's
    last real step; with ``record_gates`` the gate activations (B, T, H) by name in ``gates``.
    ``backward(dhs, dh_n=None, dc_n=None)`` returns dx (B, T, D) and keeps ``dh0`` (and ``dc0``).
    dh_n / dc_n are gradients reaching the final state from outside (an encoder's state handed
    to a decoder); hs already carries the h_n of every sequence, so most users pass dhs alone.

    A subclass sets the class attributes below and writes ``_step`` and ``_step_backward``.
    """

    state_names = ("h",)   # LSTM: ("h", "c")
    gate_names = ()        # the G = len(gate_names) * H columns of Wx and Wh, in PyTorch order
    x_bias = "b"           # bias added to the input projection up front
    h_bias = None          # bias added to h_prev Wh inside each step (GRU's bh)

    def __init__(self, input_size, hidden_size, biases, record_gates=False):
        super().__init__()
        recurrent_params(self, input_size, hidden_size, max(1, len(self.gate_names)), biases)
        self.record_gates = record_gates
        self.gates = None
        self.h_n = self.c_n = self.dh0 = self.dc0 = None

    # -- the step, written by each layer ---------------------------------------------------
    def _buffers(self, T, B, dtype):
        """Per-step caches beyond A and Z (the GRU keeps its hidden projection); a dict."""
        return {}

    def _step(self, t, A, Z, buf):
        """Compute Z[:, t+1] from A[t] (= x_t Wx + bias) and Z[:, t]; cache in A[t] / buf."""
        raise NotImplementedError

    def _step_backward(self, t, dnew, dprev, A, Z, buf):
        """From dnew = dL/dZ[:, t+1] (may be overwritten): write dL/dA_t over A[t] (and the
        GRU's hidden-side gradient over buf), and dprev = dL/dZ[:, t] through the cell.
        buf["WhT"] holds Wh^T (G, H) for the product dL/dh_{t-1} = dL/da_t Wh^T."""
        raise NotImplementedError

    # -- the sequence machinery -------------------------------------------------------------
    def _check_inputs(self, x, initial, mask):
        check_array(self, "x (batch, time, input_size)", x, ndim=3, last_dim=self.input_size,
                    dtype=self.params["Wx"].dtype)
        B, T = x.shape[:2]
        states = [check_state(self, name + "0", s, B)
                  for name, s in zip(self.state_names, initial)]
        if mask is not None:
            check_array(self, "mask", mask, floating=False)
            if mask.dtype != xp.bool_:
                raise TypeError(f"{self.name()}: mask must be a boolean array (True = real "
                                f"step), got {mask.dtype.name}")
            check_same_shape(self, "mask (batch, time)", mask, (B, T))
        return states

    def _forward(self, x, initial, mask):
        states = self._check_inputs(x, initial, mask)
        B, T, D = x.shape
        H = self.hidden_size
        dtype = x.dtype
        xs = xp.ascontiguousarray(x.transpose(1, 0, 2))            # (T, B, D) time-major
        G = self.params["Wx"].shape[1]
        A = (xs.reshape(T * B, D) @ self.params["Wx"]).reshape(T, B, G)   # x_t Wx, every t
        A += self.params[self.x_bias]
        Z = xp.empty((len(self.state_names), T + 1, B, H), dtype=dtype)   # states, t = 0..T
        for k, s in enumerate(states):
            Z[k, 0] = s
        buf = self._buffers(T, B, dtype)
        pad = None if mask is None else ~mask.T[:, :, None]       # (T, B, 1) True = padded
        for t in range(T):
            self._step(t, A, Z, buf)
            if pad is not None:
                xp.copyto(Z[:, t + 1], Z[:, t], where=pad[t])      # carry the state through
        self.gates = None
        if self.record_gates and self.gate_names:
            gates = A.transpose(1, 0, 2).copy()                     # (B, T, G)
            self.gates = dict(zip(self.gate_names, split_gates(gates, len(self.gate_names))))
        self.h_n = Z[0, T].copy()
        if len(self.state_names) > 1:
            self.c_n = Z[1, T].copy()
        hs = Z[0, 1:].transpose(1, 0, 2).copy()                     # (B, T, H)
        if mask is not None:
            hs *= mask[:, :, None]                                  # zero output at padding
        self._save(xs, A, Z, buf, pad)
        return hs

    def final_states(self):
        """(h_n,) or (h_n, c_n) of the last forward."""
        return (self.h_n,) if len(self.state_names) == 1 else (self.h_n, self.c_n)

    def state_grads(self):
        """(dh0,) or (dh0, dc0) of the last backward."""
        return (self.dh0,) if len(self.state_names) == 1 else (self.dh0, self.dc0)

    def backward(self, dhs, dh_n=None, dc_n=None):
        xs, A, Z, buf, pad = self._take()
        T, B, D = xs.shape
        H = self.hidden_size
        check_same_shape(self, "dhs", dhs, (B, T, H))
        dnew = xp.zeros((len(self.state_names), B, H), dtype=A.dtype)   # dL/dZ[:, t+1]
        dprev = xp.empty_like(dnew)                                      # dL/dZ[:, t]
        for k, d in enumerate((dh_n, dc_n)[:len(self.state_names)]):
            if d is not None:
                dnew[k] = check_same_shape(self, f"d{self.state_names[k]}_n", d, (B, H))
        real = None if pad is None else (~pad).astype(A.dtype)           # (T, B, 1)
        # Wh^T as its own contiguous array: the product da_t Wh^T of every step runs faster
        buf["WhT"] = xp.ascontiguousarray(self.params["Wh"].T)          # (G, H)
        for t in reversed(range(T)):
            if real is None:
                dnew[0] += dhs[:, t]
            else:
                dnew[0] += dhs[:, t] * real[t]      # a padded output is the constant 0
                carried = dnew * pad[t]             # a padded step passes dL/dstate back as is
                dnew *= real[t]
            self._step_backward(t, dnew, dprev, A, Z, buf)
            if real is not None:
                dprev += carried
            dnew, dprev = dprev, dnew
        self.dh0 = dnew[0].copy()
        self.dc0 = dnew[1].copy() if len(self.state_names) > 1 else None
        G = A.shape[-1]
        dAx = A.reshape(T * B, G)                                   # A now holds dL/dA
        # the GRU's hidden projections AH now hold their own gradients; elsewhere dAh = dAx
        dAh = buf["AH"].reshape(T * B, G) if "AH" in buf else dAx
        dx = weight_grads(self, xs.reshape(T * B, D), Z[0, :-1].reshape(T * B, H),
                          dAx, dAh, self.x_bias, self.h_bias)
        return dx.reshape(T, B, D).transpose(1, 0, 2)               # (B, T, D)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


def check_step_inputs(cell, x, states):
    """A cell's x must be (B, D) in the cell's dtype; each state (B, H) or None (zeros)."""
    check_array(cell, "x (batch, input_size)", x, ndim=2, last_dim=cell.input_size,
                dtype=cell.params["Wx"].dtype)
    return [check_state(cell, name, s, x.shape[0]) for name, s in states.items()]
