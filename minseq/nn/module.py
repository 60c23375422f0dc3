"""The Module contract every layer, loss and model follows.

A Module owns two dicts keyed by the names its formula uses: ``params`` (the arrays it learns)
and ``grads`` (same keys, same shapes). ``forward(*inputs)`` computes the output and caches
exactly what ``backward`` needs with ``save_for_backward(...)``; ``backward(grad_out)`` takes
it back with ``saved()``, returns the gradient of the loss with respect to each input (a tuple
when there are several) and writes the parameter gradients.

Gradient contract: each ``backward`` *overwrites* ``grads`` (in place, ``grads[k][...] = dk``,
so an optimiser holding the arrays sees the new values). Gradients are never accumulated across
calls; a module whose parameters serve twice in one forward (a shared embedding) sums both uses
itself before writing. A backward needs its own forward: calling it first, or twice, is an error.
"""

import copy
import functools

from .. import backend
from ..backend import xp
from .random import RandomStream


def _compute_path(method):
    """Run ``method`` as part of the compute path (see backend.compute_section)."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with backend.compute_section():
            return method(self, *args, **kwargs)
    return run


class Module:
    """Base class: parameters, gradients, sub-modules, modes and (de)serialisation."""

    def __init_subclass__(cls, **kwargs):
        # Every forward and backward is the compute path: under the "strict" backend an implicit
        # host conversion there (float(x), if x:, print(x)) fails as a hidden GPU stall.
        super().__init_subclass__(**kwargs)
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                setattr(cls, name, _compute_path(cls.__dict__[name]))

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True
        self._cache = None

    # -- the two passes -------------------------------------------------------------------
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

    def save_for_backward(self, *tensors):
        """Cache what backward reads; one cache per forward."""
        self._cache = tensors

    def saved(self):
        """Hand the cache to backward once: a second backward, or one with no forward, fails."""
        if self._cache is None:
            raise RuntimeError(
                f"{self.name()}: backward called without a forward before it "
                "(each backward needs its own forward)")
        cache, self._cache = self._cache, None
        return cache

    # -- parameters ---------------------------------------------------------------------
    def add_param(self, name, value):
        """Register a learnable array and its zero gradient under the formula's ``name``."""
        self.params[name] = value
        self.grads[name] = xp.zeros_like(value)

    def children(self):
        """Sub-modules in attribute order (also inside lists of modules), with their names."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_modules(self, prefix=""):
        """(dotted prefix, module) for this module ("") and every sub-module, depth first."""
        yield prefix, self
        for name, child in self.children():
            yield from child.named_modules(prefix + name + ".")

    def modules(self):
        """This module and every sub-module, depth first."""
        return (m for _, m in self.named_modules())

    def named_parameters(self):
        """(dotted name, array) for every parameter, sub-modules included (``norm1.gamma``)."""
        for prefix, m in self.named_modules():
            for name, value in m.params.items():
                yield prefix + name, value

    def named_grads(self):
        """(dotted name, gradient array), in the order of ``named_parameters``."""
        for prefix, m in self.named_modules():
            for name, value in m.grads.items():
                yield prefix + name, value

    def num_parameters(self):
        return sum(int(p.size) for _, p in self.named_parameters())

    def zero_grad(self):
        for m in self.modules():
            for g in m.grads.values():
                g[...] = 0

    # -- modes and dtypes ---------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)

    def astype(self, dtype):
        """Convert every parameter and gradient to ``dtype`` (float64 for gradient checks)."""
        for m in self.modules():
            for k in m.params:
                m.params[k] = m.params[k].astype(dtype)
                m.grads[k] = m.grads[k].astype(dtype)
            m._cache = None
        return self

    def to_backend(self):
        """Move every parameter to the active backend (after ``use_backend``); random streams
        restart from their seeds there (a generator cannot move between backends)."""
        for m in self.modules():
            for k in m.params:
                m.params[k] = backend.asarray(m.params[k])
                m.grads[k] = backend.asarray(m.grads[k])
            m._cache = None
            m.reset_rng()
        return self

    def reset_rng(self):
        """Restart this module's random stream (``self._rng``, if it draws) from ``self.seed``:
        a new, still empty RandomStream, so a restart makes no generator (gradcheck restarts
        before every evaluation)."""
        if getattr(self, "_rng", None) is not None:
            self._rng = RandomStream(self.seed)

    # -- state ----------------------------------------------------------------------------
    def state_dict(self):
        """Host (NumPy) copies of every parameter, keyed by dotted name."""
        return {name: backend.to_numpy(p).copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy ``state`` into the parameters; every name and shape must match exactly."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise KeyError(f"{self.name()}.load_state_dict: missing {missing}, "
                           f"unexpected {unexpected}")
        for name, p in own.items():
            value = state[name]
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"{self.name()}.load_state_dict: tensor {name!r} has shape "
                                 f"{tuple(value.shape)}, expected {tuple(p.shape)}")
        for name, p in own.items():
            p[...] = backend.asarray(state[name], dtype=p.dtype)
        return self

    def copy(self):
        """A deep copy; random streams in it restart from their seeds (see nn.random)."""
        return copy.deepcopy(self)

    def name(self):
        return type(self).__name__

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{self.name()}({self.extra_repr()}"]
        for name, child in self.children():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return lines[0] + (")" if len(lines) == 1 else "\n" + "\n".join(lines[1:]) + "\n)")


class Sequential(Module):
    """Modules applied in order: ``y = m_n(... m_2(m_1(x)))``; backward runs them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)
