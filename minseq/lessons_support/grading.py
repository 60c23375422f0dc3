"""Grade an exercise with the library's answer out of reach.

An exercise asks the student to write code that minseq already has (``lstm_step_backward``,
``roc_auc``, ...). A solution that simply calls it would pass every check, so while the
student's function runs, the code object of each reference function (``Exercise.reference``)
is swapped for one that raises ``ReferenceUsed``: every alias reaches it, whether imported as
``from minseq.nn.lstm import lstm_step_backward as _library`` at load time, called through a
layer class, or looked up later. The grader's own calls of the same functions, outside the
student's function, run the real code.
"""

import contextlib
import functools
import importlib


class ReferenceUsed(RuntimeError):
    """The student's function called the library code the exercise asks it to write."""


def resolve(dotted):
    """The function named ``package.module.function`` or ``package.module.Class.method``
    (for a method that ``Module`` wraps, the function it wraps)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        while getattr(obj, "__wrapped__", None) is not None:    # a layer's checked method:
            obj = obj.__wrapped__                               # its own code is inside
        code = getattr(obj, "__code__", None)
        if code is None or code.co_freevars:
            raise TypeError(f"{dotted}: not a plain function (a reference must be one)")
        return obj
    raise ImportError(f"no module for the reference {dotted}")


def _refusing_code(dotted, function_name):
    """A code object that raises ReferenceUsed naming ``dotted``, run with any arguments."""
    message = (f"{function_name} calls {dotted}, the library code this exercise asks you to "
               "write")
    source = (f"def refused(*args, **kwargs):\n"
              f"    raise __import__({__name__!r}, fromlist=['ReferenceUsed'])"
              f".ReferenceUsed({message!r})\n")
    namespace = {}
    exec(source, namespace)                                    # noqa: S102, fixed text
    return namespace["refused"].__code__


@contextlib.contextmanager
def refused(references, function_name):
    """While inside: each of ``references`` ({dotted name: function}) raises ReferenceUsed."""
    saved = {name: f.__code__ for name, f in references.items()}
    try:
        for name, f in references.items():
            f.__code__ = _refusing_code(name, function_name)
        yield
    finally:
        for name, f in references.items():
            f.__code__ = saved[name]


def guarded(function, references):
    """``function`` with ``references`` refused for the length of each call."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        with refused(references, function.__name__):
            return function(*args, **kwargs)
    return call


def run_grader(L, exercise, function):
    """Run ``exercise.grade(L, function)`` with its reference code refused while ``function``
    runs; ``L.compare`` heads its columns "yours" and "reference". A function that raises fails
    the check it was running, with the error's one line."""
    references = {name: resolve(name) for name in exercise.reference}
    columns, L.columns = L.columns, ("yours", "reference")
    try:
        exercise.grade(L, guarded(function, references))
    except ReferenceUsed as exc:
        L.check(f"{exercise.function} is your own code", False, str(exc))
    except Exception as exc:                   # the student's code raised: that check fails
        L.check(f"{exercise.function} runs", False, f"{type(exc).__name__}: {exc}")
    finally:
        L.columns = columns
