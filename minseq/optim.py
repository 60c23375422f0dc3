"""Optimisers that update a Module's parameters in place from its gradients.

Each optimiser takes the Module whose parameters it trains and reads ``named_parameters()`` and
``named_grads()`` at every step, so it keeps working after ``astype`` or ``load_state_dict``.
Its per-parameter state (momentum, Adam moments) is keyed by the same dotted names, and
``state_dict()`` returns it as host arrays for checkpoints.
"""

import math

from . import backend
from .backend import xp
from .nn.module import Module


def _check(owner, name, value, ok, what):
    """Raise a ValueError naming the optimiser unless ``ok`` and ``value`` is finite."""
    finite = all(math.isfinite(v) for v in (value if isinstance(value, tuple) else (value,)))
    if not (ok and finite):
        raise ValueError(f"{type(owner).__name__}: {name} must be {what}, got {value}")


class Optimizer:
    def __init__(self, params, lr):
        if not isinstance(params, Module):
            raise TypeError(f"{type(self).__name__}: params must be the Module to train, "
                            f"got {type(params).__name__}")
        _check(self, "lr", lr, lr > 0, "positive")
        self.module, self.lr = params, lr
        self.state = {}
        self.steps = 0

    def pairs(self):
        """(name, parameter, gradient) for every parameter of the module."""
        grads = dict(self.module.named_grads())
        for name, p in self.module.named_parameters():
            yield name, p, grads[name]

    def zero_grad(self):
        self.module.zero_grad()

    def step(self):
        self.steps += 1
        for name, p, g in self.pairs():
            self._update(name, p, g)

    def _buffer(self, name, key, like):
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = xp.zeros_like(like)
        return slot[key]

    def state_dict(self):
        out = {"steps": self.steps}
        for name, slot in self.state.items():
            for key, value in slot.items():
                out[f"{name}/{key}"] = backend.to_numpy(value).copy()
        return out

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        self.state = {}
        for full, value in state.items():
            if full == "steps":
                continue
            name, key = full.rsplit("/", 1)
            self.state.setdefault(name, {})[key] = backend.asarray(value)


class SGD(Optimizer):
    """theta <- theta - lr * v, with v = momentum * v + (g + weight_decay * theta)
    (v = g + weight_decay * theta when momentum is 0). Catalogue A5: the L2 penalty
    lambda/2 ||theta||^2 adds lambda * theta to the gradient. Same update as ``torch.optim.SGD``."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        _check(self, "momentum", momentum, momentum >= 0, "non-negative")
        _check(self, "weight_decay", weight_decay, weight_decay >= 0, "non-negative")
        self.momentum, self.weight_decay = momentum, weight_decay

    def _update(self, name, p, g):
        d = g + p * p.dtype.type(self.weight_decay) if self.weight_decay else g
        if self.momentum:
            v = self._buffer(name, "momentum", p)
            if self.steps == 1:
                v[...] = d
            else:
                v *= p.dtype.type(self.momentum)
                v += d
            d = v
        p -= p.dtype.type(self.lr) * d


class Adam(Optimizer):
    """Adam (Kingma and Ba), as ``torch.optim.Adam``:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    ``weight_decay`` adds lambda * theta to g (L2, coupled); use AdamW for decoupled decay."""

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        _check(self, "betas", tuple(betas), all(0 <= b < 1 for b in betas),
               "two numbers in [0, 1)")
        _check(self, "eps", eps, eps >= 0, "non-negative")
        _check(self, "weight_decay", weight_decay, weight_decay >= 0, "non-negative")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def _update(self, name, p, g):
        b1, b2 = self.betas
        f = p.dtype.type
        if self.weight_decay and self.decoupled:
            p *= f(1.0 - self.lr * self.weight_decay)
        elif self.weight_decay:
            g = g + p * f(self.weight_decay)
        m = self._buffer(name, "m", p)
        v = self._buffer(name, "v", p)
        m *= f(b1)
        m += f(1.0 - b1) * g
        v *= f(b2)
        v += f(1.0 - b2) * g * g
        step_size = self.lr / (1.0 - b1 ** self.steps)
        denom = xp.sqrt(v / f(1.0 - b2 ** self.steps))
        denom += f(self.eps)
        p -= f(step_size) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:
    theta <- theta (1 - lr * lambda) before the Adam step. Default weight_decay 0.01."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


def l1_penalty(module, lam):
    """Add the L1 penalty lambda * sum|theta| to a module: returns the penalty's value and adds
    its gradient lambda * sign(theta) to every parameter's gradient (catalogue A5).
    Call after ``backward`` and before the optimiser step. The value is a 0-d float64 array,
    summed on the device (no host read per parameter)."""
    total = xp.zeros((), dtype=xp.float64)
    grads = dict(module.named_grads())
    for name, p in module.named_parameters():
        total += xp.abs(p).sum(dtype=xp.float64)
        grads[name] += p.dtype.type(lam) * xp.sign(p)
    return lam * total


def clip_grad_norm(params, max_norm):
    """Scale every gradient of the module by max_norm / ||g|| when the global L2 norm
    ||g|| = sqrt(sum of every squared gradient entry) exceeds max_norm; return ||g||
    (before clipping) as a 0-d float64 array, as ``torch.nn.utils.clip_grad_norm_`` returns a
    tensor. A NaN or infinite norm is returned with the gradients left as they are (PyTorch
    would scale finite ones to 0 and turn inf into NaN), for the caller to stop or skip the step.
    The norm never leaves the device: every gradient is multiplied by max_norm / (||g|| + 1e-6)
    where ||g|| is finite and above max_norm, else by 1 (no host read, no branch on the value)."""
    if not (max_norm > 0 and math.isfinite(max_norm)):
        raise ValueError(f"clip_grad_norm: max_norm must be positive and finite, got {max_norm}")
    grads = [g for _, g in params.named_grads()]
    total = xp.zeros((), dtype=xp.float64)
    for g in grads:
        total += (g.astype(xp.float64) ** 2).sum()
    total = xp.sqrt(total)
    clip = xp.isfinite(total) & (total > max_norm)
    scale = xp.where(clip, max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale.astype(g.dtype)
    return total
