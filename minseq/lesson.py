"""The frame every lesson script shares: flags, steps, printed numbers, checks and figures.

A lesson is a plain script in a checkout's ``lessons/`` folder that runs from any directory
(the folder is not installed with the package: ``minseq.lesson_runner`` finds and runs them):

    L = Lesson(__file__, "Dense layers and backpropagation", ids=["A1", "A2"],
               goals=["compute a dense layer by index and by matrix", ...])
    with L.step("A1: one dense layer", formula="y = ReLU(W x + b)"):
        L.show("y", y)
        L.check_close("index form equals matrix form", y_index, y_matrix)
    L.erratum("A4", literal="...", standard="...", demo="...")
    L.savefig(fig, "loss_curve")
    return L.finish(summary=[...], exercises=[...])

Flags every lesson accepts: ``--step`` (pause after each step), ``--backend numpy|cupy``,
``--fast`` (smallest settings, for the test suite), ``--full`` (longer training where a lesson
trains), ``--detail`` (also the intermediate arrays shown with ``detail=True``), ``--out DIR``
(figures; default ``out/lessons/<lesson>``). A failed check makes
``finish`` return 1, so ``make lessons`` fails.

Exercises are runnable and graded, as CS231n's are. A lesson lists its ``Exercise``s; the
student fills in the function of ``lessons/exercises/<lesson>_<k>.py`` and runs
``python lessons/<lesson>.py --exercise k``, which loads that file, runs the lesson's own checks
on the function and prints PASS or FAIL for each (``--solution`` grades the worked solution in
``lessons/solutions/`` instead):

    EXERCISES = [Exercise("gru_step_backward", "Write the GRU step's backward ...", grade)]
    L = Lesson(__file__, ...)
    if L.args.exercise:
        return L.grade(EXERCISES)
"""

import contextlib
import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np

from . import backend
from .argparser import ArgumentParser
from .gradcheck import check_module
from .lessons_support.grading import run_grader
from .lessons_support.notebook import show_figure
from .plot import save_figure

def parse_args(argv=None, extra=None):
    p = ArgumentParser(add_help=True)
    p.add_argument("--step", action="store_true", help="pause after each step (press Enter)")
    p.add_argument("--backend", default=None, choices=backend.BACKENDS,
                   help="array backend (default: MINSEQ_BACKEND or numpy)")
    p.add_argument("--fast", action="store_true", help="smallest settings (used by the tests)")
    p.add_argument("--full", action="store_true", help="train longer where the lesson trains")
    p.add_argument("--detail", action="store_true",
                   help="also print the intermediate arrays a lesson keeps back by default")
    p.add_argument("--out", default=None, help="folder for figures (default out/lessons/NAME)")
    p.add_argument("--exercise", type=int, default=None, metavar="K",
                   help="grade exercise K: load your function from lessons/exercises/ and run "
                        "the lesson's checks on it")
    p.add_argument("--solution", action="store_true",
                   help="with --exercise: grade the worked solution in lessons/solutions/")
    if extra:
        extra(p)
    return p.parse_args(argv)


class Exercise:
    """A runnable, graded exercise.

    function: the name the student writes, in ``lessons/exercises/<lesson>_<k>.py`` (a stub whose
        placeholder body returns a value of the right shape but the wrong numbers, so that only
        the checks, never a crash, tell it apart);
    task: what to write, in a sentence or two (printed with the lesson's exercises);
    grade: ``grade(L, function)`` runs the lesson's own checks (``L.check``, ``L.check_close``,
        ``L.check_gradients``) on the student's function;
    reference: the dotted names of the library functions that already compute what the
        student writes; they raise while the student's function runs
        (``minseq.lessons_support.grading``), so calling them fails the exercise.
    """

    def __init__(self, function, task, grade, reference=()):
        self.function, self.task, self.grade = function, task, grade
        self.reference = tuple(reference)


class Lesson:
    def __init__(self, file, title, ids, goals=(), argv=None, extra_args=None):
        self.name = Path(file).stem
        self.folder = Path(file).resolve().parent
        self.title, self.ids, self.goals = title, list(ids), list(goals)
        self.args = parse_args(argv, extra_args)
        if self.args.backend:
            backend.use_backend(self.args.backend)
        self.out = Path(self.args.out or Path("out") / "lessons" / self.name)
        self.out.mkdir(parents=True, exist_ok=True)
        self.passed, self.failed, self.figures = [], [], []
        self._n = 0
        self.kept_back = 0                         # detail arrays not printed (no --detail)
        #: the heads of ``compare``'s two columns: exercise grading says whose numbers they are
        self.columns = ("by hand", "layer")
        # a lesson is its own process: its print options are the lesson's
        np.set_printoptions(precision=4, suppress=True, linewidth=100)
        bar = "=" * 78
        print(f"{bar}\n{self.title}   [{', '.join(self.ids)}]   backend: {backend.get_backend()}"
              f"\n{bar}")
        if self.goals:
            print("You will learn to:")
            for g in self.goals:
                print(f"  - {g}")

    @property
    def fast(self):
        return self.args.fast

    @property
    def full(self):
        return self.args.full

    # -- narration ------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self, title, formula=None):
        """A numbered step: its title, the formula it computes, then its output."""
        self._n += 1
        print(f"\n--- Step {self._n}: {title} " + "-" * max(3, 66 - len(title)))
        if formula:
            print(textwrap.indent(formula.strip("\n"), "    "))
            print()
        yield
        if self.args.step:
            try:
                input("    [Enter] for the next step ")
            except EOFError:
                self.args.step = False

    def say(self, text):
        print(textwrap.indent(textwrap.fill(textwrap.dedent(text).strip(), 94), "  "))

    def show(self, label, value, detail=False):
        """Print a number or array (moved to the host) under ``label``; a ``detail`` one only
        with --detail (finish says how many were kept back)."""
        if detail and not self.args.detail:
            self.kept_back += 1
            return
        host = backend.to_numpy(value)
        text = np.array2string(host) if host.ndim else f"{host.item():.6g}"
        pad = " " * (len(label) + 5)
        print(f"  {label} = " + text.replace("\n", "\n" + pad)
              + (f"   shape {host.shape}" if host.ndim > 1 else ""))

    def erratum(self, cid, literal, standard, demo=None, source=None):
        """Show a document's formula as printed beside the standard one, never silently fixed;
        ``source`` names the document and section that print it."""
        print(f"\n  ERRATUM {cid}" + (f"   ({source})" if source else ""))
        print(f"    as printed : {literal}")
        print(f"    standard   : {standard}")
        if demo:
            print(textwrap.indent(textwrap.fill(demo, 90), "    why        : ")
                  .replace("\n    why        : ", "\n                 "))

    # -- checks -------------------------------------------------------------------------
    def check(self, label, ok, detail=""):
        ok = bool(ok)
        (self.passed if ok else self.failed).append(label)
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}" + (f"  ({detail})" if detail else ""))
        return ok

    def check_close(self, label, actual, expected, rtol=1e-5, atol=1e-8):
        a, e = backend.to_numpy(actual), backend.to_numpy(expected)
        if a.shape != e.shape:
            return self.check(label, False, f"shapes {a.shape} and {e.shape} differ")
        err = float(np.max(np.abs(a - e))) if a.size else 0.0
        return self.check(label, np.allclose(a, e, rtol=rtol, atol=atol),
                          f"max abs difference {err:.2e}")

    def check_gradients(self, module, *inputs, tol=1e-6, label=None, **kwargs):
        """Gradient-check every parameter and float input of ``module`` at ``inputs`` against
        central differences (``gradcheck.check_module``), one check per tensor, so a wrong
        gradient of any of them fails the lesson. Checks are named ``label`` (default: the
        module's class) and the tensor; kwargs pass to ``check_module``."""
        errors = check_module(module, *inputs, tol=tol, raise_on_fail=False, **kwargs)
        for name, err in errors.items():
            self.check(f"{label or module.name()}: d{name} equals central differences",
                       err <= tol, f"relative error {err:.1e}")
        return errors

    def compare(self, rows, rtol=1e-9, atol=1e-12):
        """A table of gradients derived by hand against the reference layer's: one row (name,
        by hand, layer, max abs diff) and one check per ``(name, by_hand, layer)`` in ``rows``.
        The by-hand and layer columns show each tensor's first entries."""
        def head(a):
            flat = a.reshape(-1)
            return " ".join(f"{v:+.4f}" for v in flat[:3]) + (" ..." if flat.size > 3 else "")
        table = [(name, backend.to_numpy(hand), backend.to_numpy(layer))
                 for name, hand, layer in rows]
        mine, theirs = self.columns
        print(f"    {'name':<22} {mine:<32} {theirs:<32} max abs diff")
        for name, h, m in table:
            diff = np.max(np.abs(h - m)) if h.shape == m.shape and h.size else float("nan")
            print(f"    {name:<22} {head(h):<32} {head(m):<32} {diff:.1e}")
        return all([self.check_close(f"{name} {mine} equals the {theirs}'s", h, m, rtol, atol)
                    for name, h, m in table])

    # -- exercises ----------------------------------------------------------------------
    def exercise_file(self, k, solution=False):
        """The file of exercise k: the student's stub, or with ``solution`` the worked one."""
        folder = "solutions" if solution else "exercises"
        return self.folder / folder / f"{self.name}_{k}.py"

    def _shown(self, path):
        """``path`` as a student types it from the checkout: from the lessons folder's parent."""
        return path.relative_to(self.folder.parent).as_posix()

    def grade(self, exercises):
        """Grade exercise ``--exercise K`` of ``exercises``: load the student's function (or with
        ``--solution`` the worked one), run the exercise's checks on it, print PASS or FAIL for
        each; return 0 when every check passed, else 1 (2 for a K or file that does not exist).
        A function that raises fails the check it was running, with the error's message."""
        k = self.args.exercise
        if not 1 <= k <= len(exercises):
            print(f"{self.name}: no exercise {k}: this lesson has exercises 1-{len(exercises)}",
                  file=sys.stderr)
            return 2
        ex, path = exercises[k - 1], self.exercise_file(k, self.args.solution)
        if not path.is_file():
            print(f"{self.name}: exercise {k}: no file {path}", file=sys.stderr)
            return 2
        spec = importlib.util.spec_from_file_location(f"{self.name}_exercise_{k}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not callable(getattr(module, ex.function, None)):
            print(f"{self.name}: exercise {k}: {path} defines no function {ex.function}",
                  file=sys.stderr)
            return 2
        print(f"\nExercise {k}: {ex.function}   (from {path})")
        print(textwrap.fill(ex.task, 94, initial_indent="  ", subsequent_indent="  "))
        run_grader(self, ex, getattr(module, ex.function))
        n = len(self.passed) + len(self.failed)
        ok = n and not self.failed
        print(f"\n{self.name} exercise {k}: {'PASS' if ok else 'FAIL'}: "
              f"{len(self.passed)}/{n} checks passed")
        return 0 if ok else 1

    # -- figures ------------------------------------------------------------------------
    def savefig(self, fig, name):
        show_figure(fig)                           # inline, when the lesson runs in a notebook
        path = save_figure(fig, self.out / f"{name}.png")
        self.figures.append(path)
        print(f"  figure saved: {path}")
        return path

    def finish(self, summary=(), exercises=()):
        if summary:
            print("\nSummary")
            for s in summary:
                print(textwrap.fill(s, 94, initial_indent="  - ", subsequent_indent="    "))
        if exercises:
            print("\nExercises")
            for i, ex in enumerate(exercises, 1):
                text = ex if isinstance(ex, str) else (
                    f"{ex.task} Write {ex.function} in {self._shown(self.exercise_file(i))}, "
                    f"then grade it: python {self._shown(self.folder / self.name)}.py "
                    f"--exercise {i}")
                print(textwrap.fill(text, 94, initial_indent=f"  {i}. ", subsequent_indent="     "))
        if self.kept_back:
            print(f"\n({self.kept_back} intermediate arrays kept back: --detail prints them)")
        n = len(self.passed) + len(self.failed)
        status = "OK" if not self.failed else "FAILED"
        print(f"\n{self.name}: {status}: {len(self.passed)}/{n} checks passed, "
              f"{len(self.figures)} figure(s) in {self.out}")
        for label in self.failed:
            print(f"  failed: {label}")
        return 1 if self.failed or n == 0 else 0
