"""Random seeding: the host generator behind parameter initialisation, and the generators of the
active backend for random numbers drawn during computation (dropout masks, sampled negatives).
"""

import numpy

from .switch import xp

# Initial values are drawn on the host from one seedable generator, so a seed gives the same
# weights on NumPy and on CuPy.
_host_rng = numpy.random.default_rng(0)


def manual_seed(seed):
    """Seed the generator that initialises parameters and seeds dropout."""
    global _host_rng
    _host_rng = numpy.random.default_rng(seed)


def host_rng(seed=None):
    """The host generator behind parameter initialisation (numpy.random.Generator), or a new
    one seeded with ``seed``."""
    return _host_rng if seed is None else numpy.random.default_rng(seed)


def device_rng(seed):
    """A generator of the active backend, for random numbers drawn during computation.

    On CuPy it is Philox: cuRAND's default, XORWOW, sets up a large per-thread state with an
    expensive skip-ahead on every construction; Philox's set-up is a counter. The same seed
    draws different numbers on NumPy and on CuPy."""
    if xp.name == "cupy":
        return xp.random.default_rng(xp.random.Philox4x3210(seed))
    return xp.random.default_rng(seed)
