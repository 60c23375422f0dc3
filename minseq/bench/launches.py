"""How many array operations a forward runs: on a GPU, the kernel launches it pays.

On CuPy every elementwise pass, reduction and product is one kernel launch (about 5-10 us of
fixed cost each), so a layer's launch count, not its FLOPs, sets its time at small sizes, and a
layer that cuts its work into many blocks pays each block's launches. The strict backend runs
every operation through its wrappers (``minseq.strict``), so counting the calls of those
wrappers counts the operations a forward would launch on CuPy:

    minseq.use_backend("strict")
    with count_launches() as ops:
        layer(x)
    sum(ops.values())          # e.g. 9 for the fast attention, at any size

Counted: ``xp`` functions, operators (``a + b``, ``a -= b``, ``a @ b``, ``-a``), array methods
(``a.sum()``, ``a.astype()``) and assignments into an array (``a[i] = b``). Not counted: what
launches no kernel (views such as indexing, ``reshape`` and ``swapaxes``, and uninitialised
allocations, ``empty``). Host-side code (it reads the strict backend's internals).
"""

import collections
import contextlib
import sys

from .. import backend, strict

#: xp functions and array methods that launch no kernel: views and uninitialised memory
NO_KERNEL = frozenset({"empty", "empty_like", "broadcast_to", "reshape", "swapaxes",
                       "transpose", "expand_dims", "squeeze", "view", "split", "ravel"})


def _method_code():
    """The code of the closure StrictArray.__getattr__ returns for a method call."""
    return next(c for c in strict.StrictArray.__getattr__.__code__.co_consts
                if getattr(c, "co_name", None) == "call")


def _operations():
    """code object -> how to name the operation one call of it runs, from its frame."""
    A = strict.StrictArray
    by_self_name = lambda frame: frame.f_locals["self"]._name.removeprefix("xp.")  # noqa: E731
    named = {strict._Callable.__call__.__code__: by_self_name,
             strict._UfuncAt.__call__.__code__: by_self_name,
             _method_code(): lambda frame: "." + frame.f_locals["name"],
             A.__setitem__.__code__: lambda frame: "[]="}
    for op in ("__add__", "__radd__", "__iadd__", "__neg__", "__lt__"):
        named.setdefault(getattr(A, op).__code__, lambda frame, op=op: "operator")
    return named


@contextlib.contextmanager
def count_launches():
    """Context: a Counter of the array operations run inside it in this thread, by name
    (``matmul``, ``.sum``, ``operator``...), views and ``empty`` left out. Strict backend only:
    its wrappers are what is counted."""
    if backend.get_backend() != "strict":
        raise RuntimeError("count_launches counts the strict backend's operations; "
                           f"the active backend is {backend.get_backend()!r}")
    ops, named = collections.Counter(), _operations()
    depth = [0]       # count only the outermost wrapper call (one wrapper may call another)

    def profile(frame, event, arg):
        name_of = named.get(frame.f_code)
        if name_of is None:
            return
        if event == "call":
            if depth[0] == 0:
                name = name_of(frame)
                if name.lstrip(".") not in NO_KERNEL:
                    ops[name] += 1
            depth[0] += 1
        elif event == "return":
            depth[0] -= 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield ops
    finally:
        sys.setprofile(previous)
