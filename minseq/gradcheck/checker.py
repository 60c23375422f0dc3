"""Gradient checking: hand-written backward passes against central differences.

``check_module(module, *inputs)`` works on float64 copies of the module and inputs. The scalar
loss is L = sum(R (.) module(*inputs)) with a fixed random weighting R, so every output element
matters and dL/dout = R is the upstream gradient handed to ``backward``. Each parameter and each
float input is perturbed entry by entry, n = (L(theta + eps) - L(theta - eps)) / (2 eps), and
compared with the analytic gradient a by the relative error

    |a - n| / max(|a|, |n|, tiny),
    tiny = max(1e-7, 1e-3 * max_entries |n|, noise / tol),   noise = u * sum|R (.) out| / eps

with u the float64 unit round-off. ``noise`` is the round-off the difference quotient carries
(L is a sum of terms of total size sum|R (.) out|, each evaluation rounds it, and the quotient
divides by eps), so a gradient entry smaller than noise / tol cannot be resolved to ``tol``
relatively; the floor compares such entries, and entries that are exactly zero, absolutely to
the noise. A wrong backward still shows errors near 1. The worst error per tensor is returned;
an error above ``tol`` raises GradientCheckError naming the tensor.

Inputs are named as the forward names them (``x``, ``h_0``, ``c_0``, ``pred`` ...). Entries
that are constant by design (an Embedding's padding row, MultiHeadAttention's key bias, see
``frozen_entries``) have gradient 0, and so must the analytic one.
"""

import inspect

from .. import backend, nn
from ..backend import xp


class GradientCheckError(AssertionError):
    """A backward pass disagrees with the numerical gradient."""


def numerical_gradient(f, x, eps=1e-5):
    """dF/dx by central differences for a scalar function f of the array x (changed in place
    and restored). Lessons use it to check a gradient derived by hand."""
    grad = xp.zeros_like(x, dtype=xp.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i].item()
        flat[i] = old + eps
        up = float(f())
        flat[i] = old - eps
        down = float(f())
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, n, tiny=1e-7, scale=1e-3):
    """max over entries of |a - n| / max(|a|, |n|, tiny, scale * max|n|); 0 for empty tensors."""
    if a.size == 0:
        return 0.0
    tiny = max(tiny, scale * float(xp.abs(n).max()))
    denom = xp.maximum(xp.maximum(xp.abs(a), xp.abs(n)), tiny)
    return float((xp.abs(a - n) / denom).max())


def frozen_entries(module):
    """{dotted parameter name: index of its entries held constant by design}: an Embedding's
    padding row (never learned), and MultiHeadAttention's key bias bk, which adds q_t . bk to
    every score of query t, a shift the softmax ignores (its gradient is exactly 0)."""
    frozen = {}
    for prefix, sub in module.named_modules():
        if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
            frozen[prefix + "W"] = sub.padding_idx
        if isinstance(sub, nn.MultiHeadAttention) and "bk" in sub.params:
            frozen[prefix + "bk"] = slice(None)
    return frozen


def input_names(module, n):
    """The names of ``module.forward``'s first ``n`` positional parameters (``input<i>`` past
    a ``*inputs``)."""
    names = []
    for p in inspect.signature(module.forward).parameters.values():
        if p.kind == p.VAR_POSITIONAL or len(names) == n:
            break
        names.append(p.name)
    return names + [f"input{i}" for i in range(len(names), n)]


def _as_float64(value):
    if isinstance(value, xp.ndarray) and value.dtype.kind == "f":
        return value.astype(xp.float64)
    return value


def _grads_tuple(returned):
    return returned if isinstance(returned, tuple) else (returned,)


def flatten(out):
    """The arrays of a (possibly nested) tuple of outputs, in order: ``(hs, (h_n, c_n))`` gives
    [hs, h_n, c_n]."""
    if isinstance(out, tuple):
        return [leaf for part in out for leaf in flatten(part)]
    return [out]


def unflatten(leaves, like):
    """``leaves`` (a list, consumed from the front) arranged as the nested tuple ``like``."""
    if isinstance(like, tuple):
        return tuple(unflatten(leaves, part) for part in like)
    return leaves.pop(0)


def upstream(module, out, seed=0):
    """Random upstream gradients R shaped like ``out`` and the call ``backward(*R)`` (or
    ``backward(R)`` for a single output) hands them to ``module``; returns (R leaves, grads)."""
    rng = backend.host_rng(seed)
    R = [backend.asarray(rng.standard_normal(o.shape), dtype=o.dtype) for o in flatten(out)]
    structured = unflatten(list(R), out)
    returned = module.backward(*structured) if isinstance(out, tuple) else module.backward(structured)
    return R, _grads_tuple(returned)


def check_module(module, *inputs, tol=1e-6, eps=1e-5, tiny=1e-7, seed=0, raise_on_fail=True,
                 grad_inputs=None, **kwargs):
    """Check every parameter and float input gradient of ``module`` at ``inputs``.

    kwargs (masks and the like) pass to forward unchanged. The module is not modified: the check
    runs on a float64 deep copy, with dropout streams restarted before every forward so each
    evaluation sees the same masks. Returns {tensor name: worst relative error}; inputs are
    named as forward names them and parameters by their dotted names. ``grad_inputs``: the
    names of the inputs ``backward`` returns gradients for, in order (default: every float
    input; a loss returns none for its target, GraphConv none for its adjacency).

    A forward that returns several arrays (a recurrent layer's ``hs, h_n``, nested tuples
    allowed) is weighted array by array, L = sum_k sum(R_k (.) out_k), and ``backward`` gets
    the R_k in the same structure: ``backward(dhs, dh_n)``, ``backward(dhs, (dh_n, dc_n))``.
    """
    m = module.copy().astype(xp.float64)
    xs = [_as_float64(x) for x in inputs]
    kw = {k: _as_float64(v) for k, v in kwargs.items()}

    def run():
        for sub in m.modules():
            sub.reset_rng()
        return m.forward(*xs, **kw)

    out = run()
    R, returned = upstream(m, out, seed)

    def weighted(outputs):
        return sum((r * o).sum() for r, o in zip(R, flatten(outputs)))

    noise = float(xp.finfo(xp.float64).eps) * sum(
        float(xp.abs(r * o).sum()) for r, o in zip(R, flatten(out))) / eps
    tiny = max(tiny, noise / tol)

    def loss():
        return float(weighted(run()))
    names = input_names(m, len(xs))
    if grad_inputs is None:
        grad_inputs = [n for n, x in zip(names, xs)
                       if isinstance(x, xp.ndarray) and x.dtype.kind == "f"]
    if len(returned) < len(grad_inputs):
        raise GradientCheckError(f"{m.name()}.backward returned {len(returned)} gradient(s) "
                                 f"for {len(grad_inputs)} float input(s)")
    analytic = dict(zip(grad_inputs, returned))
    numeric_of = {n: xs[names.index(n)] for n in grad_inputs}
    grads = dict(m.named_grads())
    frozen = frozen_entries(m)
    for name, p in m.named_parameters():
        analytic[name] = grads[name].copy()
        numeric_of[name] = p

    errors = {}
    for name, tensor in numeric_of.items():
        a = analytic[name]
        if a is None or tuple(a.shape) != tuple(tensor.shape):
            raise GradientCheckError(f"{m.name()}: gradient for {name} has shape "
                                     f"{None if a is None else a.shape}, expected {tensor.shape}")
        n = numerical_gradient(loss, tensor, eps)
        if frozen.get(name) is not None:
            n[frozen[name]] = 0
        errors[name] = relative_error(a, n, tiny)
    bad = {k: v for k, v in errors.items() if v > tol}
    if bad and raise_on_fail:
        detail = ", ".join(f"{k}: {v:.2e}" for k, v in bad.items())
        raise GradientCheckError(f"{m.name()}: backward disagrees with the numerical gradient "
                                 f"(tol {tol:.0e}) for {detail}")
    return errors
