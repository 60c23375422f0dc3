"""What a gradient-check case is (``CheckCase``), and the small fixed-seed fixtures the cases
share.

A case builds a module and its inputs on the active backend, ``build() -> (module, inputs,
kwargs)``, and carries what the checker needs to know about it: its tolerance and, where
backward returns gradients for only some float inputs, their names (``grad_inputs``).
"""

from dataclasses import dataclass
from typing import Callable, Optional

from .. import backend
from ..backend import xp

DEFAULT_TOL = 1e-6
#: A case whose loss passes through many normalisations (a whole Transformer block) states a
#: looser tolerance: its difference quotients carry round-off near 1e-10, and structurally tiny
#: gradients (keys of near-uniform attention) cannot be checked to 1e-6 entry by entry. A wrong
#: backward still shows errors near 1.
BLOCK_TOL = 1e-5


@dataclass(frozen=True)
class CheckCase:
    build: Callable
    tol: float = DEFAULT_TOL
    grad_inputs: Optional[tuple] = None


def registrar(table):
    """A decorator ``@case(name, tol=..., grad_inputs=...)`` that adds ``build`` to ``table``."""
    def case(name, tol=DEFAULT_TOL, grad_inputs=None):
        def register(build):
            table[name] = CheckCase(build, tol, grad_inputs)
            return build
        return register
    return case


def randn(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=xp.float64)


def randint(high, *shape, seed=0):
    return backend.asarray(backend.host_rng(seed).integers(0, high, size=shape))


def fixed_weights(module):
    """Weights from fixed seeds, so a case does not depend on which cases ran before it (every
    entry's gradient then stays well above the central differences' round-off)."""
    for k, (name, p) in enumerate(sorted(module.params.items())):
        module.params[name] = 0.5 * randn(*p.shape, seed=20 + k)
    return module
