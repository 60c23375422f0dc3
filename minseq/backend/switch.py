"""The backend switch: which array library minseq computes with, and ``xp``, its proxy.

``xp`` forwards every attribute to the active array module, so ``use_backend`` takes effect
everywhere at once, also in modules imported before the switch. The environment variable
``MINSEQ_BACKEND`` chooses the backend when none was chosen in code. On CuPy, each of the
processes a launcher started takes its own GPU (``rank % device_count``).
"""

import contextlib
import os

import numpy

from ..launcher import launched_rank, launched_size

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
        if attr in ("_module", "_name"):   # an instance made without __init__ has no state
            raise AttributeError(attr)
        value = getattr(self._resolve(), attr)
        setattr(self, attr, value)
        return value

    def __copy__(self):
        return self             # one switch: a copy of xp is xp, as an import of numpy is numpy

    def __deepcopy__(self, memo):
        return self

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


def _take_this_process_s_gpu(cupy):
    """Under a launcher that started several processes (``mpiexec -n N``), process r computes
    on GPU r % count: made current here, before the process makes any array, so that its
    parameters, its buffers and its NCCL sums (minseq.parallel.comm) all live on that GPU."""
    if launched_size() > 1:
        cupy.cuda.Device(launched_rank() % cupy.cuda.runtime.getDeviceCount()).use()


def use_backend(name):
    """Make ``name`` the array library of every compute path: "numpy", "cupy", or "strict"
    (NumPy that refuses what CuPy refuses, to catch GPU mistakes on a CPU: see minseq.strict)."""
    if name not in BACKENDS:
        raise BackendError(f"minseq: unknown backend {name!r}; expected one of {BACKENDS}")
    if name == "cupy":
        module = _import_cupy()
        _take_this_process_s_gpu(module)
    elif name == "strict":
        from .. import strict
        module = strict.module
    else:
        module = numpy
    xp._switch(module, name)


def compute_section():
    """Context of a forward or backward pass: under "strict", implicit host conversions fail."""
    if xp._name == "strict":
        from ..strict import compute_section as section
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
