"""A lesson in a Jupyter kernel: the same script, run cell by cell.

Each lesson is a jupytext percent-format script (``# %%`` cells). Run as a script it exits with
its verdict; in a kernel the last cell raises ``LessonFailed`` when a check failed (so executing
the notebook fails), its figures show inline as well as being saved, and each exercise is a
cell to fill in, graded by the lesson's own grader with a one-line result.
"""

import contextlib
import io
import sys

from .grading import run_grader


class LessonFailed(AssertionError):
    """A lesson run in a notebook failed one of its checks."""


def in_kernel():
    """True inside an IPython shell (a notebook's kernel), False for a script."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def conclude(code):
    """End the lesson with its exit code: a script exits with it; in a kernel a non-zero code
    raises LessonFailed (a failing cell) and 0 lets the notebook go on to the exercises."""
    if not in_kernel():
        raise SystemExit(code)
    if code:
        raise LessonFailed(f"the lesson ended with code {code}: see the FAIL lines above")


def show_figure(fig):
    """Show ``fig`` in the notebook's output when running in a kernel (saving closes it)."""
    if in_kernel():
        from IPython.display import display
        display(fig)


def grade_in_notebook(L, exercises, k, function):
    """Grade ``function`` as exercise k of ``exercises`` with the lesson's own grader, its
    check lines kept back: one line with the verdict, then the lines of the checks that failed.
    Returns True when every check passed."""
    ex = exercises[k - 1]
    kept = L.passed, L.failed
    L.passed, L.failed = [], []
    lines = io.StringIO()
    try:
        with contextlib.redirect_stdout(lines):
            run_grader(L, ex, function)
        passed, failed = L.passed, L.failed
    finally:
        L.passed, L.failed = kept
    n = len(passed) + len(failed)
    verdict = "PASS" if n and not failed else "FAIL"
    print(f"{L.name} exercise {k} ({ex.function}): {verdict}: {len(passed)}/{n} checks passed")
    for line in lines.getvalue().splitlines():
        if "[FAIL]" in line:
            print(line)
    return verdict == "PASS"
