"""Arrays between host and device: ``to_numpy`` (to the host, for printing, plotting, metrics
and saving), ``asarray`` (to the active backend), and ``synchronize`` (before reading a timer).
"""

import numpy

from .switch import xp


def is_device_array(a):
    """True for an array of the active backend (a cupy.ndarray under CuPy)."""
    return isinstance(a, xp.ndarray)


def _is_foreign_device_array(a):
    """A CuPy or strict array: it has the ``get()`` transfer and is not a NumPy array."""
    return not isinstance(a, numpy.ndarray) and hasattr(a, "shape") and callable(
        getattr(a, "get", None))


def to_numpy(a):
    """A host (NumPy) copy or view of ``a``; scalars and NumPy arrays pass through."""
    if _is_foreign_device_array(a):
        return a.get()
    return numpy.asarray(a)


def asarray(a, dtype=None):
    """``a`` as an array of the active backend (copied to the device under CuPy)."""
    if isinstance(a, xp.ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    if _is_foreign_device_array(a):
        a = a.get()
    return xp.asarray(a, dtype=dtype)


def synchronize():
    """Wait for queued device work (a no-op on NumPy); call before reading a timer."""
    if xp.name == "cupy":
        xp.cuda.get_current_stream().synchronize()
