"""Input checks that turn a bad argument into an error naming the layer and what it expected."""

from .. import backend
from ..backend import xp

FLOAT_DTYPES = ("float32", "float64")


def check_array(layer, name, a, ndim=None, min_ndim=None, last_dim=None, dtype=None,
                floating=True):
    """Raise a clear TypeError / ValueError unless ``a`` is an array fit for ``layer``.

    layer: the module (or its name) for the message; name: the argument's name.
    ndim / min_ndim: exact or least rank; last_dim: required size of the last axis;
    dtype: the dtype it must have (the layer's parameter dtype); floating: float32/float64 only.
    """
    who = layer if isinstance(layer, str) else layer.name()
    if not isinstance(a, xp.ndarray):
        raise TypeError(f"{who}: {name} must be a {xp.name} array (the active backend), "
                        f"got {type(a).__module__}.{type(a).__name__}")
    if floating and a.dtype.name not in FLOAT_DTYPES:
        raise TypeError(f"{who}: {name} must be float32 or float64, got {a.dtype.name}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{who}: {name} has dtype {a.dtype.name} but the layer computes in "
                        f"{xp.dtype(dtype).name}; convert one to match (module.astype(...))")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{who}: {name} must have {ndim} dimensions, got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{who}: {name} must have at least {min_ndim} dimensions, "
                         f"got shape {a.shape}")
    if last_dim is not None and (a.ndim == 0 or a.shape[-1] != last_dim):
        raise ValueError(f"{who}: {name} must have last dimension {last_dim}, "
                         f"got shape {a.shape}")
    return a


def check_same_shape(layer, name, a, shape):
    """Raise unless ``a`` is an array of the active backend of shape ``shape`` (gradients must
    match their forward)."""
    who = layer if isinstance(layer, str) else layer.name()
    if not isinstance(a, xp.ndarray):
        raise TypeError(f"{who}: {name} must be a {xp.name} array (the active backend), "
                        f"got {type(a).__module__}.{type(a).__name__}")
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{who}: {name} must have shape {tuple(shape)}, got {tuple(a.shape)}")
    return a


def check_range(layer, what, ids, high, closed=False):
    """Raise IndexError unless every entry of the integer array ``ids`` lies in [0, high), or in
    [0, high] with ``closed``: an id out of range would wrap (-1) or fail deep inside an
    indexing with no name. One deliberate host read for the min and the max together (none
    inside ``backend.inputs_checked``)."""
    if ids.size and backend.checks_read_data():
        low, top = backend.read_for_check(xp.stack([ids.min(), ids.max()])).tolist()
        if low < 0 or top > high or (top == high and not closed):
            who = layer if isinstance(layer, str) else layer.name()
            raise IndexError(f"{who}: {what} must lie in [0, {high}{']' if closed else ')'}, "
                             f"got values in [{low}, {top}]")
    return ids
