"""The one backend switch: which array library minseq computes with.

Compute code (layers, losses, optimisers, models) never imports numpy; it writes ``xp.tanh(x)``
with ``from minseq.backend import xp``. ``xp`` is a thin proxy that forwards every attribute to
the active array module, so ``use_backend`` takes effect everywhere at once, also in modules
imported before the switch.

    >>> import minseq
    >>> minseq.use_backend("numpy")        # the default
    >>> minseq.use_backend("cupy")         # needs CuPy and a CUDA device

The environment variable ``MINSEQ_BACKEND`` chooses the backend when none was chosen in code.

Arrays move between host and device only through the helpers here: ``to_numpy`` (to the host,
for printing, plotting, metrics and saving) and ``asarray`` (to the active backend).
"""

import contextlib
import math
import os

import numpy

BACKENDS = ("numpy", "cupy", "strict")
default_dtype = numpy.float32


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


class _ArrayModule:
    """Forwards attribute access to the active array module (numpy or cupy).

    The first use applies ``MINSEQ_BACKEND`` (so a bad value fails where arrays are first made,
    with one clear message, and never at ``import minseq``)."""

    def __init__(self):
        self._module = None
        self._name = None

    def _resolve(self):
        if self._module is None:
            use_backend(os.environ.get("MINSEQ_BACKEND", "").strip().lower() or "numpy")
        return self._module

    @property
    def name(self):
        self._resolve()
        return self._name

    def __getattr__(self, attr):
        # Called only for names not cached yet: the first lookup of xp.tanh stores it on the
        # proxy, so the next costs a plain attribute read (0.03 us, not 0.7 us: a recurrent
        # layer makes tens of thousands of such lookups per pass). use_backend clears the cache.
        value = getattr(self._resolve(), attr)
        setattr(self, attr, value)
        return value

    def _switch(self, module, name):
        for attr in [a for a in vars(self) if a not in ("_module", "_name")]:
            delattr(self, attr)
        self._module, self._name = module, name

    def __repr__(self):
        return f"<minseq array module: {self.name}>"


xp = _ArrayModule()


def _import_cupy():
    """Import CuPy and prove a CUDA device answers; one clear error otherwise."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(
            "minseq: backend 'cupy' asked for, but CuPy is not installed "
            f"({exc}; install the 'gpu' or 'gpu-cuda13' extra)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises several driver/runtime error types here
        raise BackendError(
            "minseq: backend 'cupy' asked for, but no CUDA device is usable "
            f"(CuPy is installed; the CUDA runtime said: {exc})") from None
    if count < 1:
        raise BackendError(
            "minseq: backend 'cupy' asked for, but no CUDA device was found "
            "(CuPy is installed; the CUDA runtime reports 0 devices)")
    return cupy


def use_backend(name):
    """Make ``name`` the array library of every compute path: "numpy", "cupy", or "strict"
    (NumPy that refuses what CuPy refuses, to catch GPU mistakes on a CPU: see minseq.strict)."""
    if name not in BACKENDS:
        raise BackendError(f"minseq: unknown backend {name!r}; expected one of {BACKENDS}")
    if name == "cupy":
        module = _import_cupy()
    elif name == "strict":
        from . import strict
        module = strict.module
    else:
        module = numpy
    xp._switch(module, name)


def compute_section():
    """Context of a forward or backward pass: under "strict", implicit host conversions fail."""
    if xp._name == "strict":
        from .strict import compute_section as section
        return section()
    return contextlib.nullcontext()


def get_backend():
    """Name of the active backend: "numpy" or "cupy"."""
    return xp.name


def cupy_available():
    """(True, "") when CuPy and a CUDA device are usable, else (False, reason)."""
    try:
        _import_cupy()
    except BackendError as exc:
        return False, str(exc)
    return True, ""


def available_backends():
    """The backends that work on this machine: numpy, strict, and cupy where it works."""
    return ["numpy", "strict"] + (["cupy"] if cupy_available()[0] else [])


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


_inputs_checked = False


@contextlib.contextmanager
def inputs_checked():
    """Inside: the data was checked on an earlier pass over it, so the input checks that must
    read device data (ids in range, a real event in every row) are skipped; the checks of
    shapes, dtypes and backends still run. The Trainer enters it from its second epoch on (the
    same rows again), which leaves one host read per training step: the loss."""
    global _inputs_checked
    previous, _inputs_checked = _inputs_checked, True
    try:
        yield
    finally:
        _inputs_checked = previous


def checks_read_data():
    """False inside ``inputs_checked``: data-reading input checks may be skipped."""
    return not _inputs_checked


def read_for_check(a):
    """A host copy of the small array ``a`` for an input check: one deliberate device-to-host
    read (counted apart from hidden syncs by the strict backend's ``count_syncs``)."""
    if xp._name == "strict":
        from .strict import checked_read
        return checked_read(a)
    return to_numpy(a)


def erf(x):
    """The error function, elementwise, on the active backend (NumPy has none of its own)."""
    if xp.name == "cupy":
        import cupyx.scipy.special
        return cupyx.scipy.special.erf(x)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        return _math_erf(x).astype(x.dtype, copy=False)
    return scipy_erf(x)


_math_erf = numpy.frompyfunc(math.erf, 1, 1)
