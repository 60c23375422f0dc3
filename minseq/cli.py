"""The command line: ``python -m minseq <command>`` (also installed as ``minseq``).

Commands register themselves in COMMANDS with a function that adds their arguments and one that
runs them (the ``command`` decorator); modules that hold commands are listed in COMMAND_MODULES
and imported when the command line starts.
"""

import argparse
import importlib
import sys

from . import backend

COMMANDS = {}
COMMAND_MODULES = ["minseq.data.command", "minseq.models.command", "minseq.bench.command"]


def command(name, help):
    def register(add_arguments):
        def wrap(run):
            COMMANDS[name] = (help, add_arguments, run)
            return run
        return wrap
    return register


def _lessons_args(p):
    p.add_argument("which", nargs="?", default=None,
                   help="lesson number or name to run, or 'all'; omit to list the lessons")
    p.add_argument("--step", action="store_true", help="pause after each step")
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--fast", action="store_true", help="smallest settings")
    p.add_argument("--full", action="store_true", help="train longer where a lesson trains")
    p.add_argument("--out", default="out/lessons", help="figures folder (default out/lessons)")


@command("lessons", "list the lessons, run one (N) or run all ('all')")(_lessons_args)
def _lessons(args):
    from .lesson import describe, lesson_files, run_lessons
    files = lesson_files()
    if args.which is None:
        for path in files:
            print(f"  {path.stem[:2]}  {path.stem[3:]:<28} {describe(path)}")
        print("\nRun one: python -m minseq lessons 01 [--step]; all: python -m minseq lessons all")
        return 0
    if args.which != "all":
        files = [p for p in files if p.stem[:2] == args.which.zfill(2) or args.which in p.stem]
        if len(files) != 1:
            print(f"minseq lessons: no single lesson matches {args.which!r}", file=sys.stderr)
            return 2
    flags = [f for f, on in (("--step", args.step), ("--fast", args.fast),
                             ("--full", args.full)) if on]
    if args.backend:
        flags += ["--backend", args.backend]
    return 1 if run_lessons(files, flags, args.out, quiet=args.which == "all") else 0


def _gradcheck_args(p):
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--tol", type=float, default=None,
                   help="largest relative error that passes (default: each case's, 1e-6 for "
                        "layers, 1e-5 for whole Transformer blocks)")
    p.add_argument("layers", nargs="*", help="only these registered layers (default: all)")


@command("gradcheck", "check every registered backward against numerical gradients")(
    _gradcheck_args)
def _gradcheck(args):
    from .gradcheck_cases import CASES, TOLERANCES, run_case
    if args.backend:
        backend.use_backend(args.backend)
    names = args.layers or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"minseq gradcheck: unknown layer(s) {unknown}; known: {list(CASES)}",
              file=sys.stderr)
        return 2
    print(f"gradient check, float64 central differences, backend {backend.get_backend()}\n")
    print(f"{'layer':<32} {'tensor':<24} {'max rel. error':>14} {'tol':>7}  result")
    print("-" * 88)
    failures = 0
    for name in names:
        tol = TOLERANCES[name] if args.tol is None else args.tol
        for tensor, err in run_case(name, tol).items():
            ok = err <= tol
            failures += not ok
            print(f"{name:<32} {tensor:<24} {err:>14.2e} {tol:>7.0e}  {'pass' if ok else 'FAIL'}")
    print("-" * 88)
    print("all passed" if not failures else f"{failures} tensor(s) FAILED")
    return 1 if failures else 0


def main(argv=None):
    for name in COMMAND_MODULES:
        importlib.import_module(name)
    parser = argparse.ArgumentParser(prog="minseq", description=(
        "minseq: sequence models of user behaviour, written from scratch"))
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        backend.get_backend()  # a bad MINSEQ_BACKEND is reported here, in one line
        return COMMANDS[args.command][2](args)
    except backend.BackendError as exc:
        print(exc, file=sys.stderr)
        return 2
