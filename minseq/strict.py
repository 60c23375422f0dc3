"""The "strict" backend: NumPy wrapped to refuse what CuPy refuses, so CPU runs catch GPU bugs.

CI has no GPU, yet code that works on NumPy can break on CuPy: ``np.asarray(device_array)``,
plotting or printing a device array, ``float(x)`` in the middle of a layer (on CuPy a silent
device-to-host copy that stalls the GPU), or an API CuPy lacks. ``use_backend("strict")`` runs
minseq on NumPy arrays hidden inside ``StrictArray``, which

- refuses implicit conversion to a host array (``__array__``: ``np.asarray``, matplotlib,
  ``np.savez``), as CuPy does;
- refuses, inside a Module's ``forward`` or ``backward`` (the compute path), implicit host
  scalars and text: ``float()``, ``int()``, ``bool()`` / ``if x:``, iteration, ``print`` /
  ``repr``, ``tolist``. On CuPy each is a hidden device-to-host copy that stalls the GPU; a
  layer that really needs a host number says so with ``x.item()``. Outside the compute path
  (tests, the trainer, lessons) they work, as on CuPy;
- exposes through ``xp`` only the NumPy functions CuPy also has (``DENIED`` lists those it lacks)
  and only the Generator methods CuPy's has, from the list in ``minseq.cupy_api`` that
  tests/test_cupy_api.py checks against the real ``cupy`` package;
- refuses, anywhere, what CuPy refuses (``CupyMismatchError``): a NumPy array mixed with device
  arrays in an operator, a ufunc or an ``xp`` function (``xp.asarray`` excepted), assigned into
  one (``a[i] = numpy_array``), ``operator.index(device_array)``, copying or pickling a device
  generator, ``ufunc.at`` on a NumPy array or on a dtype CuPy's ``ufunc.at`` refuses, and a
  Python list or tuple as an operand of an operator or a ufunc (``x + [1, 2]``: CuPy takes
  arrays and scalars only);
- counts host reads (``count_syncs``): boolean-mask indexing, ``unique``, ``nonzero``,
  ``bincount``, ``.item()``, ``float()``, ``get()``... each one a device-to-host sync on CuPy.

Arithmetic, indexing, methods and ``xp`` functions behave exactly as on NumPy, so a layer that
passes its tests on "strict" computes the same numbers and will not trip over these on CuPy.
"""

import numbers
import operator
import threading

import numpy

from .cupy_api import DENIED, GENERATOR_METHODS, HOST_INPUTS, UFUNC_AT_DTYPES, UFUNC_KEYWORDS


class HostConversionError(TypeError):
    """An implicit device-to-host conversion that CuPy would refuse or that would stall a GPU."""


class CupyMismatchError(TypeError):
    """Something NumPy allows and CuPy refuses (a NumPy array among device arrays, a copied
    generator, ``ufunc.at`` on a dtype CuPy cannot scatter)."""


def _mismatch(what, fix):
    raise CupyMismatchError(f"strict backend: {what} (CuPy refuses it); {fix}")


def _refuse_host_arrays(values, where):
    """CuPy takes no NumPy array in ``where``: move it with backend.asarray first."""
    if _holds_host_array(values):
        _mismatch(f"a NumPy array mixed with device arrays in {where}",
                  "move it to the device with backend.asarray first")


def _refuse_sequence_operands(operands, where):
    """CuPy's operators and ufuncs take arrays and scalars: a list or tuple operand is refused."""
    if any(isinstance(v, (list, tuple)) for v in operands):
        _mismatch(f"a Python list or tuple as an operand of {where}",
                  "make it an array first with xp.asarray")


def _refuse_ufunc_keywords(kwargs, where):
    """A CuPy ufunc call takes only the keywords of UFUNC_KEYWORDS."""
    if not UFUNC_KEYWORDS.issuperset(kwargs):
        _mismatch(f"{where} with keywords {sorted(set(kwargs) - UFUNC_KEYWORDS)}",
                  f"a CuPy ufunc takes only {sorted(UFUNC_KEYWORDS)}")


def _holds_host_array(value):
    if isinstance(value, numpy.ndarray):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_host_array(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_host_array(v) for v in value.values())
    return False


# -- the sync counter ---------------------------------------------------------------------------
_counters = []


class SyncCount:
    """The host reads seen while counting, in order: ``reads`` (kinds such as "item", "float",
    "boolean mask", "unique") and ``checks`` (deliberate reads of input checks, see
    ``checked_read``)."""

    def __init__(self):
        self.reads, self.checks = [], 0

    def __repr__(self):
        return f"SyncCount(reads={self.reads}, checks={self.checks})"


class count_syncs:
    """``with count_syncs() as n: ...`` records every host read of a strict array in ``n``."""

    def __enter__(self):
        self.count = SyncCount()
        _counters.append(self.count)
        return self.count

    def __exit__(self, *exc):
        _counters.remove(self.count)


def _record(kind):
    for count in _counters:
        count.reads.append(kind)


def checked_read(a):
    """The host copy of ``a`` for an input check (one deliberate read, counted as a check)."""
    for count in _counters:
        count.checks += 1
    return a._data.copy()


def _is_mask(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, StrictArray) and p.dtype == bool for p in parts)


#: xp functions whose output size depends on the data: CuPy must read it on the host first.
SYNCING = frozenset({"unique", "nonzero", "bincount", "argwhere", "flatnonzero", "extract"})


# per thread: the fast tier's batch shards run forward and backward on threads of their own
_compute = threading.local()


class compute_section:
    """Marks the compute path (Module.forward / backward): implicit host conversions fail."""

    def __enter__(self):
        _compute.depth = getattr(_compute, "depth", 0) + 1

    def __exit__(self, *exc):
        _compute.depth -= 1


def _in_compute(what, fix):
    if getattr(_compute, "depth", 0):
        _refuse(what + " inside a forward or backward", fix)


def _refuse(what, fix):
    raise HostConversionError(
        f"strict backend: {what} of a device array is not allowed (CuPy refuses it or it "
        f"silently copies to the host); {fix}")


def unwrap(value):
    """The NumPy data inside StrictArrays, through lists, tuples and dicts."""
    if isinstance(value, StrictArray):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def wrap(value):
    """NumPy arrays (and tuples of them) back into StrictArrays; scalars stay host scalars only
    where NumPy returns Python ones."""
    if isinstance(value, numpy.ndarray):
        return StrictArray(value)
    if isinstance(value, numpy.generic):
        return StrictArray(numpy.asarray(value))
    if isinstance(value, numpy.random.Generator):
        return _Generator(value)
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


class StrictArray:
    """A NumPy array that behaves like a CuPy array on the host side (see module docstring)."""

    __slots__ = ("_data",)
    __array_priority__ = 1000

    def __init__(self, data):
        self._data = data

    # -- conversions CuPy refuses or that hide a transfer ------------------------------
    def __array__(self, *args, **kwargs):
        _refuse("implicit conversion to a NumPy array (np.asarray, plotting, saving)",
                "call backend.to_numpy(x) explicitly")

    def __float__(self):
        _in_compute("float()", "use x.item() where a host number is really needed")
        _record("float")
        return float(self._data)

    def __int__(self):
        _in_compute("int()", "use x.item() where a host number is really needed")
        _record("int")
        return int(self._data)

    def __index__(self):
        _mismatch("operator.index() of a device array (as a Python index, a range bound, a "
                  "list position)", "use x.item() where a host number is really needed")

    def __bool__(self):
        _in_compute("truth testing (if / and / or / bool())",
                    "reduce explicitly and call .item(), e.g. xp.any(m).item()")
        _record("bool")
        return bool(self._data)

    def __iter__(self):
        _in_compute("iteration", "index it instead")
        return iter(wrap(list(self._data)))

    def __repr__(self):
        _in_compute("printing", "print outside the layer, after backend.to_numpy(x)")
        return "StrictArray(" + repr(self._data)[6:]

    __str__ = __repr__

    def __format__(self, spec):
        _in_compute("formatting", "format x.item() outside the layer")
        return format(self._data, spec)        # NumPy formats a 0-d array as its item

    def tolist(self):
        _in_compute("tolist()", "move it with backend.to_numpy(x) outside the layer")
        _record("tolist")
        return self._data.tolist()

    # -- explicit transfers --------------------------------------------------------------
    def get(self):
        """The host copy, like cupy.ndarray.get()."""
        _record("get")
        return self._data.copy()

    def item(self, *args):
        _record("item")
        return self._data.item(*args)

    # -- NumPy protocol: ufuncs and array functions on strict arrays stay strict ----------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse_host_arrays((inputs, kwargs), f"numpy.{ufunc.__name__}")
        if method == "__call__":            # numpy.add(x, y, ...) hands CuPy the same keywords
            _refuse_ufunc_keywords(kwargs, f"numpy.{ufunc.__name__}()")
        return wrap(getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in DENIED:
            _refuse(f"numpy.{func.__name__}()", DENIED[func.__name__])
        if func.__name__ not in HOST_INPUTS:
            _refuse_host_arrays((args, kwargs), f"numpy.{func.__name__}()")
        return wrap(func(*unwrap(args), **unwrap(kwargs)))

    # -- attributes and methods ---------------------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    nbytes = property(lambda self: self._data.nbytes)
    itemsize = property(lambda self: self._data.itemsize)
    strides = property(lambda self: self._data.strides)
    flags = property(lambda self: self._data.flags)
    T = property(lambda self: StrictArray(self._data.T))
    real = property(lambda self: StrictArray(self._data.real))
    imag = property(lambda self: StrictArray(self._data.imag))

    def __len__(self):
        return len(self._data)

    def __getattr__(self, name):
        if name.startswith("__") or name == "_data":
            raise AttributeError(name)
        method = getattr(self._data, name)
        if not callable(method):
            return wrap(method)

        def call(*args, **kwargs):
            if name in SYNCING:
                _record(name)
            return wrap(method(*unwrap(args), **unwrap(kwargs)))
        return call

    def __getitem__(self, index):
        if _is_mask(index):
            _record("boolean mask")
        return wrap(self._data[unwrap(index)])

    def __setitem__(self, index, value):
        _refuse_host_arrays(value, "an assignment a[index] = value")
        if _is_mask(index):
            _record("boolean mask")
        self._data[unwrap(index)] = unwrap(value)

    def __copy__(self):
        return StrictArray(self._data.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._data.copy())

    def __getstate__(self):
        return self._data

    def __setstate__(self, state):
        self._data = state


def _binary(op):
    def forward(self, other):
        _refuse_host_arrays(other, f"the operator {op.__name__}")
        _refuse_sequence_operands((other,), f"the operator {op.__name__}")
        return wrap(op(self._data, unwrap(other)))

    def reflected(self, other):
        _refuse_host_arrays(other, f"the operator {op.__name__}")
        _refuse_sequence_operands((other,), f"the operator {op.__name__}")
        return wrap(op(unwrap(other), self._data))
    return forward, reflected


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow), ("matmul", operator.matmul),
                   ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor),
                   ("lshift", operator.lshift), ("rshift", operator.rshift)]:
    _fwd, _ref = _binary(_op)
    setattr(StrictArray, f"__{_name}__", _fwd)
    setattr(StrictArray, f"__r{_name}__", _ref)


def _inplace(op):
    def apply(self, other):
        _refuse_host_arrays(other, f"the operator {op.__name__}")
        _refuse_sequence_operands((other,), f"the operator {op.__name__}")
        self._data = op(self._data, unwrap(other))
        return self
    return apply


for _name, _op in [("iadd", operator.iadd), ("isub", operator.isub), ("imul", operator.imul),
                   ("itruediv", operator.itruediv), ("ifloordiv", operator.ifloordiv),
                   ("imod", operator.imod), ("ipow", operator.ipow), ("iand", operator.iand),
                   ("ior", operator.ior), ("ixor", operator.ixor)]:
    setattr(StrictArray, f"__{_name}__", _inplace(_op))

for _name, _op in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                   ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)]:
    setattr(StrictArray, f"__{_name}__", _binary(_op)[0])

for _name, _op in [("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs),
                   ("invert", operator.invert)]:
    setattr(StrictArray, f"__{_name}__", (lambda op: lambda self: wrap(op(self._data)))(_op))

StrictArray.__hash__ = None


class _Callable:
    """A NumPy callable (function, ufunc, generator method) whose arguments are unwrapped and
    whose array results are wrapped; attribute access reaches ufunc methods (``xp.add.at``)."""

    def __init__(self, target, name):
        self._target, self._name = target, name

    def __call__(self, *args, **kwargs):
        name = self._name.rsplit(".", 1)[-1]
        if name not in HOST_INPUTS:
            _refuse_host_arrays((args, kwargs), self._name + "()")
        if name in SYNCING:
            _record(name)
        if isinstance(self._target, numpy.ufunc):
            _refuse_sequence_operands(args, self._name + "()")
            _refuse_ufunc_keywords(kwargs, self._name + "()")
        return wrap(self._target(*unwrap(args), **unwrap(kwargs)))

    def __getattr__(self, attr):
        if attr == "_target":      # copying builds the object bare: no target to ask yet
            raise AttributeError(attr)
        value = getattr(self._target, attr)
        if isinstance(self._target, numpy.ufunc) and attr == "at":
            return _UfuncAt(self._target, f"{self._name}.at")
        return _Callable(value, f"{self._name}.{attr}") if callable(value) else value


class _UfuncAt(_Callable):
    """``ufunc.at(a, indices, values)`` where CuPy has it: on a device array (CuPy's raises
    AttributeError on a NumPy one), only of the dtypes it scatters."""

    def __call__(self, a, *args, **kwargs):
        if isinstance(a, numpy.ndarray):
            _mismatch(f"{self._name} on a NumPy array",
                      "scatter into a device array (backend.asarray), or use NumPy's own "
                      "ufunc in host code")
        allowed = UFUNC_AT_DTYPES.get(self._target.__name__, ())
        if unwrap(a).dtype.name not in allowed:
            _mismatch(f"{self._name} on a {unwrap(a).dtype.name} array",
                      f"CuPy's takes {sorted(allowed) or 'no dtype: it has no such .at'}")
        return wrap(self._target.at(unwrap(a), *unwrap(args), **unwrap(kwargs)))


class _Generator(_Callable):
    """A NumPy Generator limited to CuPy's Generator: its methods only, and never copied or
    pickled (CuPy's holds a lock; a module recreates its generator from a seed instead)."""

    def __init__(self, target):
        super().__init__(target, "Generator")

    def __getattr__(self, attr):
        if not attr.startswith("_") and attr not in GENERATOR_METHODS:
            raise AttributeError(f"strict backend: cupy.random.Generator has no {attr!r} (it "
                                 f"has {', '.join(sorted(GENERATOR_METHODS))})")
        return super().__getattr__(attr)

    def _no_copy(self, *args):
        _mismatch("copying or pickling a device generator",
                  "keep the seed and make a new generator (minseq.nn.random.RandomStream)")

    __copy__ = __deepcopy__ = __reduce__ = __reduce_ex__ = __getstate__ = _no_copy


class _Namespace:
    """``xp`` for the strict backend: NumPy's namespace with arrays kept strict."""

    ndarray = StrictArray

    def __init__(self, module, prefix="xp"):
        self._module, self._prefix = module, prefix

    def __getattr__(self, name):
        if name == "_module":      # copying builds the object bare: no module to ask yet
            raise AttributeError(name)
        if name in DENIED:
            raise AttributeError(f"strict backend: {self._prefix}.{name} is not available on "
                                 f"CuPy: {DENIED[name]}")
        value = getattr(self._module, name)
        if isinstance(value, type) and issubclass(value, (numpy.generic, numbers.Number)):
            return value                              # dtypes: xp.float32, xp.int64
        if isinstance(value, (numpy.dtype, numbers.Number, str)):
            return value
        if name in ("random", "linalg", "fft"):
            return _Namespace(value, f"{self._prefix}.{name}")
        if callable(value):
            return _Callable(value, f"{self._prefix}.{name}")
        return value


module = _Namespace(numpy)
