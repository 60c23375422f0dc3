"""The fast loop over time shared by the twins of RNN, LSTM and GRU.

The reference (``minseq.nn.recurrent``) runs its cell's step on x_t, one product per step, and
allocates fresh arrays for every intermediate. The fast loop keeps the same function and moves
work out of the loop:

    A_t = x_t Wx + bias           for every t in ONE product up front       (T, B, G)
    state_t = cell(A_t, state_{t-1})    t = 1 .. T, in place in preallocated buffers
    hs[:, t] = h_t                 (zero at padded steps)

The state is ``(h,)`` for RNN and GRU and ``(h, c)`` for LSTM, kept in one time-major buffer
Z (n_states, T+1, B, H) with Z[:, 0] the initial state. Inside the layer, time is the leading
axis, so every step reads and writes contiguous (B, .) blocks.

Backward walks the loop in reverse; each step writes its dL/dA_t over the forward cache it no
longer needs. The weight gradients are then one product over all steps: dWx = sum_t x_t^T dA_t,
dWh = sum_t h_{t-1}^T dA^h_t, and dx = dA Wx^T.

Each trick's measured gain on the LSTM, forward+backward, float32, one thread, interleaved
(lesson 15 takes them one at a time; at (B, T, D, H) = (64, 100, 128, 256), then (32, 50, 64, 128)):

- one input projection for all steps, A = X Wx + b:         1.08x, 1.11x
- dWh = H_prev^T dA as one product after the loop:           1.01x, 1.09x
- in-place step work in reused time-major buffers (out=):    1.25x, 1.44x
"""

from ..backend import xp
from ..nn.checks import check_same_shape
from ..nn.recurrent import check_final_grads, check_sequence_inputs, split_gates


def weight_grads(module, x2, h2, dAx, dAh, x_bias, h_bias=None):
    """Write dWx = x^T dAx, dWh = h_prev^T dAh and the bias sums; return dx = dAx Wx^T.

    x2 (N, D), h2 (N, H): the inputs and previous states of N = (steps x batch) rows;
    dAx, dAh (N, G): dL/d(input projection) and dL/d(hidden projection), the same array
    except in the GRU. A cell calls this with one step's rows, a layer with all steps at once.
    """
    g, p = module.grads, module.params
    xp.matmul(x2.T, dAx, out=g["Wx"])
    xp.matmul(h2.T, dAh, out=g["Wh"])
    # bias sums as 1^T dA, a matrix-vector product: 1.6x the speed of NumPy's column sums
    # ((25600, 192) float32: 0.67 against 1.09 ms)
    ones = xp.ones(dAx.shape[0], dtype=dAx.dtype)
    xp.matmul(ones, dAx, out=g[x_bias])
    if h_bias is not None:
        xp.matmul(ones, dAh, out=g[h_bias])
    return dAx @ p["Wx"].T


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


class FastRecurrent:
    """Mixin placed before a reference layer (``class LSTM(FastRecurrent, nn.LSTM)``): replaces
    its ``_run`` / ``_run_backward`` by the time-major, in-place loop. The twin writes
    ``_step_in_place`` and ``_step_backward_in_place`` and sets ``x_bias`` / ``h_bias``."""

    x_bias = "b"           # bias added to the input projection up front
    h_bias = None          # bias added to h_prev Wh inside each step (GRU's bh)

    def _buffers(self, T, B, dtype):
        """Per-step caches beyond A and Z (the GRU keeps its hidden projection); a dict."""
        return {}

    def _step_in_place(self, t, A, Z, buf):
        """Compute Z[:, t+1] from A[t] (= x_t Wx + bias) and Z[:, t]; cache in A[t] / buf."""
        raise NotImplementedError

    def _step_backward_in_place(self, t, dnew, dprev, A, Z, buf):
        """From dnew = dL/dZ[:, t+1] (may be overwritten): write dL/dA_t over A[t] (and the
        GRU's hidden-side gradient over buf), and dprev = dL/dZ[:, t] through the cell.
        buf["WhT"] holds Wh^T (G, H) for the product dL/dh_{t-1} = dL/da_t Wh^T."""
        raise NotImplementedError

    def _run(self, x, initial, mask):
        states = check_sequence_inputs(self, x, initial, mask)
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
            self._step_in_place(t, A, Z, buf)
            if pad is not None:
                xp.copyto(Z[:, t + 1], Z[:, t], where=pad[t])      # carry the state through
        self.gates = None
        if self.record_gates and self.gate_names:
            gates = A.transpose(1, 0, 2).copy()                     # (B, T, G)
            self.gates = dict(zip(self.gate_names, split_gates(gates, len(self.gate_names))))
        finals = tuple(Z[k, T].copy() for k in range(len(self.state_names)))
        hs = Z[0, 1:].transpose(1, 0, 2).copy()                     # (B, T, H)
        if mask is not None:
            hs *= mask[:, :, None]                                  # zero output at padding
        self.save_for_backward(xs, A, Z, buf, pad)
        return hs, finals

    def _run_backward(self, dhs, dfinal):
        xs, A, Z, buf, pad = self.saved()
        T, B, D = xs.shape
        H = self.hidden_size
        check_same_shape(self, "dhs", dhs, (B, T, H))
        dnew = xp.stack(check_final_grads(self, dfinal, B))        # dL/dZ[:, t+1]
        dprev = xp.empty_like(dnew)                                 # dL/dZ[:, t]
        real = None if pad is None else (~pad).astype(A.dtype)      # (T, B, 1)
        # Wh^T as its own contiguous array: the product da_t Wh^T of every step runs faster
        buf["WhT"] = xp.ascontiguousarray(self.params["Wh"].T)     # (G, H)
        for t in reversed(range(T)):
            if real is None:
                dnew[0] += dhs[:, t]
            else:
                dnew[0] += dhs[:, t] * real[t]      # a padded output is the constant 0
                carried = dnew * pad[t]             # a padded step passes dL/dstate back as is
                dnew *= real[t]
            self._step_backward_in_place(t, dnew, dprev, A, Z, buf)
            if real is not None:
                dprev += carried
            dnew, dprev = dprev, dnew
        G = A.shape[-1]
        dAx = A.reshape(T * B, G)                                   # A now holds dL/dA
        # the GRU's hidden projections AH now hold their own gradients; elsewhere dAh = dAx
        dAh = buf["AH"].reshape(T * B, G) if "AH" in buf else dAx
        dx = weight_grads(self, xs.reshape(T * B, D), Z[0, :-1].reshape(T * B, H),
                          dAx, dAh, self.x_bias, self.h_bias)
        dinitial = tuple(dnew[k] for k in range(len(self.state_names)))
        return dx.reshape(T, B, D).transpose(1, 0, 2), dinitial     # (B, T, D)
