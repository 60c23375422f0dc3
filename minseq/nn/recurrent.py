"""What RNN, LSTM and GRU share: parameters, input checks and the loop over time.

A recurrent layer runs its cell's step over the sequence, one step per time index t:

    state_t = step(x_t, state_{t-1})        t = 1 .. T       (state: (h,) or (h, c) for LSTM)
    hs[:, t] = h_t

Masks (True = real step, unlike PyTorch's padding masks) with m_t = mask[:, t]:

    state_t = m_t state_t' + (1 - m_t) state_{t-1}      state_t' = step(x_t, state_{t-1})
    hs[:, t] = m_t h_t

so a padded step carries the state through unchanged and outputs zero; the final state is the
state after each sequence's last real step, and a padded batch gives each sequence exactly
what it gets alone.

Backward (backpropagation through time) walks the same loop in reverse. With dstate_t the
gradient reaching state_t from later steps (dL/dstate_T = the gradient of the final state):

    dh_t      = dh_t (from later steps) + m_t dhs[:, t]
    dstate_t' = m_t dstate_t                               what the step itself receives
    dx_t, dstate_{t-1}, dparams_t = step_backward(dstate_t')
    dstate_{t-1} += (1 - m_t) dstate_t                     a padded step passes it back as is
    dparams = sum_t dparams_t
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


def split_gates(gates, n):
    """The n gate blocks of (..., n*H) as n views (..., H), in the order of the columns."""
    H = gates.shape[-1] // n
    return [gates[..., k * H:(k + 1) * H] for k in range(n)]


def check_state(module, name, s, B):
    """An initial state must be (B, H) in the layer's dtype; None means zeros."""
    H, dtype = module.hidden_size, module.params["Wx"].dtype
    if s is None:
        return xp.zeros((B, H), dtype=dtype)
    check_array(module, name, s, dtype=dtype)
    return check_same_shape(module, f"{name} (batch, hidden_size)", s, (B, H))


def check_step_inputs(cell, x, states):
    """A cell's x must be (B, D) in the cell's dtype; each state (B, H) or None (zeros)."""
    check_array(cell, "x (batch, input_size)", x, ndim=2, last_dim=cell.input_size,
                dtype=cell.params["Wx"].dtype)
    return [check_state(cell, name, s, x.shape[0]) for name, s in states.items()]


def check_sequence_inputs(layer, x, initial, mask):
    """x (B, T, D), each initial state (B, H) or None (zeros), mask (B, T) bool or None;
    returns the initial states."""
    check_array(layer, "x (batch, time, input_size)", x, ndim=3, last_dim=layer.input_size,
                dtype=layer.params["Wx"].dtype)
    B, T = x.shape[:2]
    states = [check_state(layer, name + "_0", s, B)
              for name, s in zip(layer.state_names, initial)]
    if mask is not None:
        check_array(layer, "mask", mask, floating=False)
        if mask.dtype != xp.bool_:
            raise TypeError(f"{layer.name()}: mask must be a boolean array (True = real "
                            f"step), got {mask.dtype.name}")
        check_same_shape(layer, "mask (batch, time)", mask, (B, T))
    return states


def check_final_grads(layer, dfinal, B):
    """The gradients of the final states, each (B, H) or None (zeros)."""
    return tuple(xp.zeros((B, layer.hidden_size), dtype=layer.params["Wx"].dtype) if d is None
                 else check_same_shape(layer, f"d{name}_n", d, (B, layer.hidden_size))
                 for name, d in zip(layer.state_names, dfinal))


def write_grads(module, dparams):
    """Overwrite the module's gradients with ``dparams`` {name: array}."""
    for name, d in dparams.items():
        module.grads[name][...] = d


class Recurrent(Module):
    """Base of RNN, LSTM and GRU: the loop over time of the cell's step, batch first.

    A subclass names its states and gates and writes ``_step(x_t, states) -> (states, cache)``
    and ``_step_backward(dstates, cache) -> (dx_t, dstates_prev, dparams)`` on one time step;
    its ``forward`` / ``backward`` call ``_run`` / ``_run_backward`` and shape their results
    as PyTorch does. With ``record_gates`` the gate activations of every step are kept in
    ``gates`` by name, each (B, T, H).
    """

    state_names = ("h",)   # LSTM: ("h", "c")
    gate_names = ()        # the names under which a step's cache holds its gates

    def __init__(self, input_size, hidden_size, blocks, biases, record_gates=False):
        super().__init__()
        recurrent_params(self, input_size, hidden_size, blocks, biases)
        self.record_gates = record_gates
        self.gates = None

    def forward(self, x, h_0=None, mask=None):
        """(hs (B, T, H), h_n (B, H)) of a layer with one state, RNN and GRU (the LSTM, with
        two, writes its own)."""
        hs, (h_n,) = self._run(x, (h_0,), mask)
        return hs, h_n

    def backward(self, dhs, dh_n=None):
        """(dx, dh_0) from dhs and the gradient reaching h_n from outside (None: zero)."""
        dx, (dh_0,) = self._run_backward(dhs, (dh_n,))
        return dx, dh_0

    def _run(self, x, initial, mask):
        """hs (B, T, H) and the tuple of final states, from x (B, T, D) and initial states."""
        states = tuple(check_sequence_inputs(self, x, initial, mask))
        B, T = x.shape[:2]
        if mask is None:
            mask = xp.ones((B, T), dtype=bool)
        hs = xp.empty((B, T, self.hidden_size), dtype=x.dtype)
        caches = []
        for t in range(T):
            m = mask[:, t, None]                                      # (B, 1)
            stepped, cache = self._step(x[:, t], states)
            states = tuple(xp.where(m, new, old) for new, old in zip(stepped, states))
            hs[:, t] = m * states[0]
            caches.append(cache)
        self.gates = None
        if self.record_gates:
            self.gates = {name: xp.stack([getattr(c, name) for c in caches], axis=1)
                          for name in self.gate_names}
        self.save_for_backward(caches, mask)
        return hs, states

    def _run_backward(self, dhs, dfinal):
        """dx (B, T, D) and the tuple of initial-state gradients, from dhs and the gradients of
        the final states (each None or (B, H)); writes the parameter gradients."""
        caches, mask = self.saved()
        B, T = mask.shape
        check_same_shape(self, "dhs", dhs, (B, T, self.hidden_size))
        dstates = check_final_grads(self, dfinal, B)
        dparams = {name: xp.zeros_like(p) for name, p in self.params.items()}
        dx = xp.empty((B, T, self.input_size), dtype=dhs.dtype)
        for t in reversed(range(T)):
            m = mask[:, t, None]
            dstates = (dstates[0] + m * dhs[:, t],) + dstates[1:]
            dx[:, t], dprev, dstep = self._step_backward(tuple(m * d for d in dstates), caches[t])
            dstates = tuple(dp + ~m * d for dp, d in zip(dprev, dstates))
            for name in dparams:
                dparams[name] += dstep[name]
        write_grads(self, dparams)
        return dx, dstates

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"
