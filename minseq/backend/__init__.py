"""The backend: which array library minseq computes with, and what goes with it.

Compute code (layers, losses, optimisers, models) never imports numpy; it writes ``xp.tanh(x)``
with ``from minseq.backend import xp``, and reaches everything else here through one name,
``from minseq import backend``:

    >>> import minseq
    >>> minseq.use_backend("numpy")        # the default
    >>> minseq.use_backend("cupy")         # needs CuPy and a CUDA device

One module per job, gathered here so that ``backend.to_numpy(x)`` reads the same everywhere:

- ``switch``: the backend switch (``use_backend``, ``get_backend``, ``xp``, ``MINSEQ_BACKEND``,
  ``compute_section``);
- ``transfer``: arrays between host and device (``to_numpy``, ``asarray``, ``synchronize``);
- ``seeding``: random seeding (``manual_seed``, ``host_rng``, ``device_rng``);
- ``input_checks``: turning the data-reading input checks on and off (``inputs_checked``,
  ``checks_read_data``, ``read_for_check``);
- ``special``: special functions NumPy lacks (``erf``), from where each backend keeps them.
"""

from .input_checks import checks_read_data, inputs_checked, read_for_check
from .seeding import device_rng, host_rng, manual_seed
from .special import erf
from .switch import (BACKENDS, BackendError, available_backends, compute_section,
                     cupy_available, default_dtype, get_backend, use_backend, xp)
from .transfer import asarray, is_device_array, synchronize, to_numpy

__all__ = ["BACKENDS", "BackendError", "available_backends", "compute_section",
           "cupy_available", "default_dtype", "get_backend", "use_backend", "xp",
           "asarray", "is_device_array", "synchronize", "to_numpy",
           "device_rng", "host_rng", "manual_seed",
           "checks_read_data", "inputs_checked", "read_for_check", "erf"]
