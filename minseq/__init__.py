"""minseq: a from-scratch deep-learning framework for sequence models of user behaviour.

Every layer has a hand-written forward and backward and runs on NumPy or CuPy behind one switch:

    import minseq
    minseq.use_backend("cupy")   # or set MINSEQ_BACKEND=cupy
"""

from . import nn, optim
from .backend import get_backend, manual_seed, to_numpy, use_backend

__version__ = "0.1.0"
__all__ = ["nn", "optim", "use_backend", "get_backend", "manual_seed", "to_numpy", "__version__"]
