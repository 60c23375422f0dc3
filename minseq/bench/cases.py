"""The benchmark cases: every layer at every size, built with the same weights on both sides.

A ``BenchCase`` builds a minseq layer (float32, fixed seed, on the active backend) and knows the
number of floating-point operations its matrix products do in one forward. ``minseq_side`` and
``torch_side`` turn it into two ``Side`` objects on the same inputs:

    side.forward()   y = layer(x), caching what backward needs (as in training)
    side.step()      forward and backward with a fixed upstream gradient dy -> (y, dx)

``agreement`` compares the two sides' (y, dx) before anything is timed.

Matrix-product FLOPs (2 m n k per product of (m, k) by (k, n)); forward+backward does three
times the forward's (dW = x^T dy and dx = dy W^T cost one forward product each).
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy

from .. import backend, nn
from .torch_modules import torch_counterpart

SEED = 0


@dataclass
class BenchCase:
    layer: str                 # "LSTM"
    size: tuple                # (B, T, D, H)
    dims: str                  # what the numbers in size mean: "B, T, D, H"
    flops: float               # matrix-product FLOPs of one forward
    build: Callable            # () -> minseq module, float32
    x_shape: tuple
    call_torch: Callable = field(default=lambda module, x: module(x))

    @property
    def label(self):
        return "(" + ", ".join(str(s) for s in self.size) + ")"

    @property
    def name(self):
        return f"{self.layer} {self.label}"


@dataclass
class Side:
    forward: Callable
    step: Callable


def _host(shape, seed, dtype=numpy.float32):
    return numpy.random.default_rng(seed).standard_normal(shape, dtype=numpy.float32).astype(
        dtype, copy=False)


def build_module(case):
    """The case's minseq module (the reference tier) with weights from a fixed seed, on the
    active backend."""
    backend.manual_seed(SEED)
    return case.build().to_backend()


def _first(out):
    """The main array of a result: hs of a recurrent layer's (hs, state), dx of (dx, dh0)."""
    return out[0] if isinstance(out, tuple) else out


def minseq_side(case, module, dtype=numpy.float32):
    """The case's fixed x and dy (float32 draws, held as ``dtype``) through ``module``, whose
    parameters must be ``dtype`` too."""
    x = backend.asarray(_host(case.x_shape, 1, dtype))
    dy = backend.asarray(_host(_output_shape(case), 2, dtype))

    def step():
        y = _first(module(x))
        return y, _first(module.backward(dy))
    return Side(lambda: module(x), step)


def torch_side(case, torch, module, device="cpu", dtype=numpy.float32):
    counterpart = torch_counterpart(torch, module, device)
    counterpart = counterpart.to(getattr(torch, numpy.dtype(dtype).name))
    x = torch.from_numpy(_host(case.x_shape, 1, dtype)).to(device).requires_grad_()
    dy = torch.from_numpy(_host(_output_shape(case), 2, dtype)).to(device)

    def step():
        counterpart.zero_grad(set_to_none=True)
        x.grad = None
        y = case.call_torch(counterpart, x)
        y.backward(dy)
        return y, x.grad
    return Side(lambda: case.call_torch(counterpart, x), step)


def _output_shape(case):
    *lead, _ = case.x_shape
    out = {"MLP": case.size[-1], "RNN": case.size[-1], "LSTM": case.size[-1],
           "GRU": case.size[-1]}.get(case.layer, case.x_shape[-1])
    return (*lead, out)


class AgreementError(AssertionError):
    """The two sides of a case compute different numbers: its timings would mean nothing."""


def to_host(a):
    """A NumPy copy of a minseq (NumPy / CuPy) or PyTorch array."""
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return backend.to_numpy(a)


#: Two correct float32 computations of one case may differ by their rounding, and no more.
#: A dot product of length k rounds by at most k u (u = 2^-24, the float32 unit roundoff; the
#: worst case, whatever the summation order: blocked on the CPU, split-K on a GPU). The deepest
#: chain, the encoder layer at (16, 512, 256, 8), sums k = 256 (projections, LayerNorm), 32
#: (scores), 512 (P V) and 1024 (feed-forward) through forward and backward: about 5,700 u =
#: 3.4e-4 end to end. 1e-3 stands above that bound, so only a real difference crosses it. Measured
#: (benchmarks/precision.py, the README's Method): each side's float32 lies within 3e-7 of the
#: float64 reference there, the fast tier no further than the reference tier.
AGREEMENT_TOLERANCE = 1e-3


def agreement(ours, theirs, tol=AGREEMENT_TOLERANCE, name="case"):
    """Largest relative difference max|a - b| / max|b| over the pairs of arrays (y, dx);
    AgreementError when it exceeds ``tol`` (float32 over 200 recurrent steps stays ~1e-5)."""
    worst = 0.0
    for what, a, b in zip(("output", "input gradient"), ours, theirs):
        a, b = to_host(a), to_host(b)
        if a.shape != b.shape:
            raise AgreementError(f"{name}: {what} shapes differ: {a.shape} vs {b.shape}")
        err = float(numpy.abs(a - b).max() / max(float(numpy.abs(b).max()), 1e-6))
        if not err <= tol:  # NaN fails too
            raise AgreementError(f"{name}: {what} differs from PyTorch's by {err:.2e} "
                                 f"(relative, tolerance {tol:.0e})")
        worst = max(worst, err)
    return worst


# -- the cases ----------------------------------------------------------------------------

def mlp_case(B, d_in, d_hidden, d_out):
    return BenchCase("MLP", (B, d_in, d_hidden, d_out), "batch, in, hidden, out",
                     2 * B * (d_in * d_hidden + d_hidden * d_out),
                     lambda: nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(),
                                           nn.Linear(d_hidden, d_out)), (B, d_in))


RECURRENT = {"RNN": (nn.RNN, 1), "LSTM": (nn.LSTM, 4), "GRU": (nn.GRU, 3)}


def recurrent_case(kind, B, T, D, H):
    cls, blocks = RECURRENT[kind]
    return BenchCase(kind, (B, T, D, H), "B, T, D, H", 2 * T * B * (D + H) * blocks * H,
                     lambda: cls(D, H), (B, T, D), lambda module, x: module(x)[0])


def attention_flops(B, T, d):
    """Q, K, V and output projections, then Q K^T and P V over all heads."""
    return 4 * 2 * B * T * d * d + 2 * 2 * B * T * T * d


def multihead_case(B, T, d, heads):
    return BenchCase("MultiHeadAttention", (B, T, d, heads), "B, T, d_model, heads",
                     attention_flops(B, T, d), lambda: nn.MultiHeadAttention(d, heads), (B, T, d),
                     lambda module, x: module(x, x, x, need_weights=False)[0])


def encoder_case(B, T, d, heads):
    d_ff = 4 * d   # dropout 0: the same function on both sides, so outputs can be compared
    return BenchCase("TransformerEncoderLayer", (B, T, d, heads),
                     "B, T, d_model, heads (d_ff = 4 d)",
                     attention_flops(B, T, d) + 2 * 2 * B * T * d * d_ff,
                     lambda: nn.TransformerEncoderLayer(d, heads, d_ff=d_ff, dropout=0.0),
                     (B, T, d))


RECURRENT_SIZES = [(32, 50, 64, 128), (64, 100, 128, 256), (128, 200, 64, 64)]
ATTENTION_SIZES = [(32, 50, 64, 2), (64, 200, 128, 4), (16, 512, 256, 8)]
MLP_SIZES = [(256, 512, 1024, 10), (1024, 512, 1024, 10), (4096, 512, 1024, 10)]
QUICK_RECURRENT, QUICK_ATTENTION, QUICK_MLP = [(4, 5, 3, 6)], [(2, 6, 8, 2)], [(8, 6, 12, 3)]


def layer_cases(quick=False):
    """Every layer at every size of the issue (``quick``: one tiny size each, for tests)."""
    rec, att, mlp = ((QUICK_RECURRENT, QUICK_ATTENTION, QUICK_MLP) if quick else
                     (RECURRENT_SIZES, ATTENTION_SIZES, MLP_SIZES))
    cases = [mlp_case(*s) for s in mlp]
    for kind in RECURRENT:
        cases += [recurrent_case(kind, *s) for s in rec]
    cases += [multihead_case(*s) for s in att]
    cases += [encoder_case(*s) for s in att]
    return cases
