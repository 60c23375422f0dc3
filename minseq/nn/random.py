"""A module's random stream: recreated from its seed, never copied.

Dropout masks and sampled negatives are drawn during computation, on the active backend. The
generator behind them is state a module cannot carry around: CuPy's holds a lock (so
``copy.deepcopy`` fails) and lives on one device, and a NumPy one left behind by
``to_backend`` would hand NumPy masks to CuPy arrays. So a module keeps only its ``seed`` and a
``RandomStream``, which makes the generator on first use, on the backend active then, and which
a copy, ``to_backend`` and ``reset_rng`` recreate from the seed.

NumPy's and CuPy's generators differ: the same seed gives different masks on the two backends
(only the distribution is the same).
"""

from .. import backend


class RandomStream:
    """The generator of one seed, made lazily on the active backend (``generator``)."""

    def __init__(self, seed):
        self.seed = seed
        self._generator = None

    @property
    def generator(self):
        if self._generator is None:
            self._generator = backend.device_rng(self.seed)
        return self._generator

    def __deepcopy__(self, memo):
        return RandomStream(self.seed)       # a copy starts afresh from the seed

    def __repr__(self):
        return f"RandomStream(seed={self.seed})"
