"""``python -m minseq.lessons_support.build``: every lesson as an executed notebook.

Each lesson script (jupytext percent format) becomes ``OUT/NN_name.ipynb``: its docstring as the
opening text, a first cell that points the kernel at the lesson's file and flags (the script's
``sys.argv``), its own cells, then for each exercise a cell holding the stub of
``lessons/exercises/`` to fill in and a cell that grades it with the lesson's grader. The
notebook is executed in a fresh kernel (nbclient) and written with its outputs and inline
figures; a cell that raises (a failed check raises ``LessonFailed`` in the last cell) fails
the build, which still writes that notebook so the error can be read. Needs the ``notebooks``
extra (jupytext, nbclient, ipykernel).
"""

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from ..files import atomic_write
from ..lesson_runner import LessonsNotFound, find_lessons


def exercise_tasks(path):
    """[(function, task), ...] of the ``Exercise(...)`` calls in a lesson, in order."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Exercise"
                and len(node.args) >= 2):
            found.append((ast.literal_eval(node.args[0]), ast.literal_eval(node.args[1])))
    return found


def notebook_of(path, flags, out_dir):
    """The lesson at ``path`` as an unexecuted notebook (nbformat), run with ``flags``."""
    import jupytext
    import nbformat.v4 as v4
    nb = jupytext.read(path, fmt="py:percent")
    cells = list(nb.cells)
    opening = cells.pop(0)
    module = ast.parse(opening.source)
    doc = ast.get_docstring(module)
    head = []
    if doc:
        title, _, rest = doc.partition("\n")
        head.append(v4.new_markdown_cell(f"# {title}\n\n{rest.strip()}"))
        code_lines = opening.source.splitlines()[module.body[0].end_lineno:]
        opening = v4.new_code_cell("\n".join(code_lines).strip("\n"))
    argv = [str(path), "--out", str(out_dir / path.stem)] + list(flags)
    setup = ("# Written by the notebook build: the lesson's file, its folder on the import path\n"
             "# and its flags (edit sys.argv to run it otherwise, e.g. without --fast).\n"
             "import sys\n"
             f"__file__ = {str(path)!r}\n"
             f"sys.path.insert(0, {str(path.parent)!r})\n"
             f"sys.argv = {argv!r}")
    head.append(v4.new_code_cell(setup))
    if flags:
        head.append(v4.new_markdown_cell(
            f"This notebook was built with the lesson's `{' '.join(flags)}` settings, so that "
            "every lesson's notebook executes in seconds; the script without them trains longer."))
    tail = []
    tasks = exercise_tasks(path)
    for k, (function, task) in enumerate(tasks, 1):
        stub = path.parent / "exercises" / f"{path.stem}_{k}.py"
        if not stub.is_file():
            continue
        tail.append(v4.new_markdown_cell(
            f"## Exercise {k}: `{function}`\n\n{task}\n\nFill in `{function}` in the cell below "
            f"(it starts as the stub `lessons/exercises/{stub.name}`), run it, then run the "
            "grading cell: the same checks as "
            f"`python lessons/{path.name} --exercise {k}`."))
        tail.append(v4.new_code_cell(stub.read_text(encoding="utf-8").strip("\n")))
        tail.append(v4.new_code_cell(
            "from minseq.lessons_support.notebook import grade_in_notebook\n"
            f"grade_in_notebook(L, EXERCISES, {k}, {function});"))
    nb.cells = head + [opening] + cells + tail
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def build(path, out_dir, flags, timeout):
    """Build and execute one lesson's notebook; write it; return (ok, seconds, error line)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = notebook_of(path, flags, out_dir)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path.cwd())}})
    t0 = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    seconds = time.perf_counter() - t0
    with atomic_write(out_dir / f"{path.stem}.ipynb", mode="w") as f:
        nbformat.write(nb, f)
    return not error, seconds, error


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minseq.lessons_support.build",
                                description="build and execute every lesson as a notebook")
    p.add_argument("which", nargs="*", help="lesson numbers or names (default: all)")
    p.add_argument("--dir", default=None, help="the lessons folder (default: the checkout's)")
    p.add_argument("--out", default="out/notebooks", help="folder for the notebooks")
    p.add_argument("--fast", action="store_true", help="run each lesson with --fast")
    p.add_argument("--backend", default=None, help="run each lesson on this backend")
    p.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    args = p.parse_args(argv)
    try:
        import jupytext  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError as exc:
        print(f"notebooks: {exc.name} is not installed: pip install -e '.[notebooks]'",
              file=sys.stderr)
        return 2
    try:
        files = find_lessons(args.dir)
    except LessonsNotFound as exc:
        print(f"notebooks: {exc}", file=sys.stderr)
        return 2
    if args.which:
        files = [f for f in files if any(f.stem[:2] == w.zfill(2) or w in f.stem
                                         for w in args.which)]
    flags = (["--fast"] if args.fast else []) + (["--backend", args.backend]
                                                 if args.backend else [])
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # the kernel inherits this environment: a headless MPLBACKEND would hide inline figures
    os.environ.pop("MPLBACKEND", None)
    failures, total = 0, 0.0
    for path in files:
        ok, seconds, error = build(path.resolve(), out_dir, flags, args.timeout)
        failures += not ok
        total += seconds
        print(f"{'ok  ' if ok else 'FAIL'} {path.stem:<30} {seconds:6.1f} s"
              + (f"  {error}" if error else ""), flush=True)
    print(f"\n{len(files) - failures}/{len(files)} notebooks executed in {total:.0f} s, "
          f"in {out_dir}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
