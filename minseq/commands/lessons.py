"""``python -m minseq lessons [N | all] [--dir DIR]``: list the lessons, run one or run all.

The lessons are scripts in a checkout's ``lessons/`` folder (or ``--dir``); an installed minseq
does not carry them, so without a checkout the command says where it looked and fails.
"""

import shutil
import sys
from pathlib import Path

from .. import backend
from ..lesson_runner import LessonsNotFound, describe, find_lessons, run_lessons


def add_arguments(p):
    p.add_argument("which", nargs="?", default=None,
                   help="lesson number or name to run, or 'all'; omit to list the lessons")
    p.add_argument("--dir", default=None,
                   help="the lessons folder (default: lessons/ of the checkout minseq runs "
                        "from, or of the current folder)")
    p.add_argument("--step", action="store_true", help="pause after each step")
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--fast", action="store_true", help="smallest settings")
    p.add_argument("--full", action="store_true", help="train longer where a lesson trains")
    p.add_argument("--out", default="out/lessons", help="figures folder (default out/lessons)")
    p.add_argument("--exercise", type=int, default=None, metavar="K",
                   help="grade exercise K of one lesson (your function in lessons/exercises/)")
    p.add_argument("--solution", action="store_true",
                   help="with --exercise: grade the worked solution instead")


def program():
    """How to call minseq from this shell, as the README writes it: ``minseq`` when that is the
    one on the PATH, else the script installed beside this Python (``.venv/bin/minseq``,
    relative to the current folder when inside it), else ``python -m minseq`` with this
    Python's path."""
    beside = Path(sys.executable).parent / "minseq"
    on_path = shutil.which("minseq")
    if on_path and beside.exists() and Path(on_path).resolve() == beside.resolve():
        return "minseq"
    if beside.exists():
        try:
            return str(beside.absolute().relative_to(Path.cwd()))
        except ValueError:
            return str(beside)
    return f"{sys.executable} -m minseq"


def run(args):
    try:
        files = find_lessons(args.dir)
    except LessonsNotFound as exc:
        print(f"minseq lessons: {exc}", file=sys.stderr)
        return 2
    if args.which is None:
        for path in files:
            print(f"  {path.stem[:2]}  {path.stem[3:]:<28} {describe(path)}")
        me = program()
        print(f"\nRun one: {me} lessons 01 [--step]; all: {me} lessons all")
        return 0
    if args.which != "all":
        files = [p for p in files if p.stem[:2] == args.which.zfill(2) or args.which in p.stem]
        if len(files) != 1:
            print(f"minseq lessons: no single lesson matches {args.which!r}", file=sys.stderr)
            return 2
    if args.exercise is not None and args.which == "all":
        print("minseq lessons: --exercise grades one lesson's exercise; name the lesson",
              file=sys.stderr)
        return 2
    if args.solution and args.exercise is None:
        print("minseq lessons: --solution goes with --exercise K", file=sys.stderr)
        return 2
    flags = [f for f, on in (("--step", args.step), ("--fast", args.fast),
                             ("--full", args.full), ("--solution", args.solution)) if on]
    if args.exercise is not None:
        flags += ["--exercise", str(args.exercise)]
    if args.backend:
        flags += ["--backend", args.backend]
    return 1 if run_lessons(files, flags, args.out, quiet=args.which == "all") else 0
