"""The runner behind ``python -m minseq lessons``: find a checkout's lesson scripts, describe
them, and run them as child processes (the frame each script uses is ``minseq.lesson``).

The lessons are not installed with the package: ``find_lessons`` looks in the checkout minseq
runs from (an editable install), then in ``lessons/`` of the current folder, or in the folder
given with ``--dir``.
"""

import os
import sys
import textwrap
from pathlib import Path

#: where a checkout keeps its lessons, when minseq runs from that checkout (an editable install)
CHECKOUT_LESSONS = Path(__file__).resolve().parent.parent / "lessons"


class LessonsNotFound(LookupError):
    """No lesson scripts where the runner looked; the message names every place."""


def lesson_files(folder):
    """The lesson scripts in ``folder``, in order (``NN_name.py``)."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.py"))


def find_lessons(folder=None):
    """The lesson scripts of ``folder``, or else of the checkout minseq runs from, or else of
    ``lessons/`` in the current folder. Raises LessonsNotFound naming where it looked."""
    places = [Path(folder)] if folder else [CHECKOUT_LESSONS, Path.cwd() / "lessons"]
    for place in places:
        files = lesson_files(place)
        if files:
            return files
    looked = " and ".join(str(p.resolve()) for p in dict.fromkeys(places))
    hint = "" if folder else "; give the lessons folder of a checkout with --dir"
    raise LessonsNotFound(f"no lessons (NN_name.py files) in {looked}{hint}")


def describe(path):
    """First line of a lesson's docstring, for the listing."""
    import ast
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else path.stem


def run_lessons(paths, flags, out_root=None, quiet=True):
    """Run lessons as child processes; return the number that failed.

    quiet: print one line per lesson (its verdict and time) and a total, showing a lesson's
    output only when it fails; otherwise the lesson prints as it runs (for --step)."""
    import subprocess
    import time
    failures = 0
    env = dict(os.environ, MPLBACKEND="Agg")
    for path in paths:
        cmd = [sys.executable, str(path)] + list(flags)
        if out_root:
            cmd += ["--out", str(Path(out_root) / path.stem)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, text=True, capture_output=quiet)
        dt = time.perf_counter() - t0
        ok = proc.returncode == 0
        failures += not ok
        if quiet:
            lines = proc.stdout.strip().splitlines()
            verdict = lines[-1].split(": ", 1)[-1] if ok and lines else f"exit {proc.returncode}"
        else:
            verdict = "passed" if ok else f"exit {proc.returncode}"
        print(f"{'ok  ' if ok else 'FAIL'} {path.stem:<30} {dt:6.1f} s  {verdict}")
        if quiet and not ok:
            print(textwrap.indent(proc.stdout[-3000:] + proc.stderr[-3000:], "     | "))
    print(f"\n{len(paths) - failures}/{len(paths)} lessons passed")
    return failures
