"""Scratch buffers and cache-sized blocks: the memory helpers the fast twins share.

A fast twin keeps its large intermediates in buffers reused from call to call (``reuse``): a
fresh array of that size costs more in page faults than the arithmetic done on it. And on the
CPU it walks its work block by block, each block small enough to stay in a core's cache through
every pass over it (``block_bytes``). On a GPU every array call is a kernel launch, and the
device's caches are not a core's: the work is one block there, so that a layer pays the same
few launches at any size.
"""

from .. import backend
from ..backend import xp

#: bytes of work per block, by backend; None: the whole array is one block. On NumPy, 1 MB stays
#: in a core's 2 MB L2 cache through all the passes (attention forward+backward 1.19x at
#: (64, 200, 128, 4), 1.43x at (16, 512, 256, 8); LayerNorm 1.07x: their docstrings). On CuPy,
#: blocks of 1 MB made MultiHeadAttention at (16, 512, 256, 8) 128 blocks of about 9 kernels,
#: some 1,150 launches a forward where 9 do. "strict" stands in for CuPy, as everywhere.
BLOCK_BYTES = {"numpy": 1 << 20, "cupy": None, "strict": None}


def block_bytes():
    """The block size of the active backend (``BLOCK_BYTES``): bytes, or None for one block."""
    return BLOCK_BYTES[backend.get_backend()]


def reuse(buffer, shape, dtype):
    """``buffer`` if it is an array of the active backend with this shape and dtype, else a new
    uninitialised one: the caller overwrites every entry."""
    if isinstance(buffer, xp.ndarray) and buffer.shape == tuple(shape) and buffer.dtype == dtype:
        return buffer
    return xp.empty(shape, dtype=dtype)
