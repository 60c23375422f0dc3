"""What minseq may use of CuPy, written down once: the strict backend enforces it on a CPU and
tests/test_cupy_api.py proves it against the installed ``cupy`` package (CuPy 14).

CuPy's wheel (``cupy-cuda12x``) installs and imports without a GPU, so its names, signatures
and Generator methods are checked in CI; what only a device shows (kernels, numerics, speed)
needs ``make test-gpu``.
"""

#: NumPy names CuPy does not provide (or removed); reaching them through xp is an error.
DENIED = {
    "scatter_add": "CuPy removed scatter_add: use xp.add.at(target, index, values)",
    "frompyfunc": "CuPy has no frompyfunc (it would run Python per element on the host)",
    "vectorize": "xp.vectorize runs Python per element; CuPy's version compiles only a subset",
    "asmatrix": "CuPy has no matrix class",
    "matrix": "CuPy has no matrix class",
    "object_": "CuPy has no object arrays",
    "savez": "save host arrays: backend.to_numpy first, then numpy.savez",
    "save": "save host arrays: backend.to_numpy first, then numpy.save",
    "loadtxt": "read files on the host with numpy, then backend.asarray",
    "genfromtxt": "read files on the host with numpy, then backend.asarray",
}

#: The public methods of ``cupy.random.Generator``. NumPy's Generator has more (normal,
#: permutation, choice, shuffle, ...): on CuPy they are missing.
GENERATOR_METHODS = frozenset({
    "beta", "binomial", "chisquare", "dirichlet", "exponential", "f", "gamma", "geometric",
    "hypergeometric", "integers", "logseries", "poisson", "power", "random", "standard_exponential",
    "standard_gamma", "standard_normal", "uniform",
})

#: ``ufunc.at`` on CuPy: the ufuncs minseq may scatter with and the dtypes of the target array
#: each takes (CuPy casts the values to the target's dtype and refuses the rest with TypeError).
#: int64 is left out: CuPy 14.2 scatters it, but the gpu extra admits CuPy 12 and 13, which
#: refuse it.
UFUNC_AT_DTYPES = {
    "add": frozenset({"int32", "float16", "float32", "float64", "uint32", "uint64"}),
    "subtract": frozenset({"int32", "uint32"}),
    "maximum": frozenset({"int32", "float32", "float64", "uint32", "uint64"}),
    "minimum": frozenset({"int32", "float32", "float64", "uint32", "uint64"}),
}

#: The keywords a CuPy ufunc call takes (``ufunc.__call__``); NumPy's ``where=`` is not one.
UFUNC_KEYWORDS = frozenset({"out", "dtype", "casting"})

#: xp functions that take host data (lists, NumPy arrays) by design: they make device arrays.
#: Every other xp function, operator and ufunc refuses a NumPy array mixed with device arrays.
HOST_INPUTS = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray"})
