"""The command line: ``python -m minseq <command>`` (also installed as ``minseq``).

``COMMANDS`` is the one table of subcommands: name -> help. Command NAME lives in the module
``minseq.commands.NAME``, which exposes ``add_arguments(parser)`` and ``run(args) -> exit
status``. A module is imported only when its command is asked for (``--help`` lists every
command without importing any), so ``minseq data`` never loads the benchmark. The parser
(minseq.argparser) takes no abbreviation, suggests the nearest flag or value for a misspelled
one, and says any error in one line (exit status 2).
"""

import importlib
import os
import sys

from . import __version__, backend
from .argparser import ArgumentParser
from .parallel.comm import leads

COMMANDS = {
    "train": "train a model on a behaviour log and report its metrics",
    "evaluate": "re-evaluate a saved checkpoint on a behaviour log",
    "recommend": "the top-k items for a user from a next-item checkpoint, in raw ids",
    "data": "summarise a generated behaviour log or a data file",
    "gradcheck": "check every registered backward against numerical gradients",
    "bench": "time every layer against PyTorch (and on the GPU); write table and figures",
    "lessons": "list the lessons, run one (N) or run all ('all')",
}


def _command_module(name):
    return importlib.import_module(f"{__package__}.commands.{name}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = ArgumentParser(prog="minseq", description=(
        "minseq: sequence models of user behaviour, written from scratch"))
    parser.add_argument("--version", action="version", version=f"minseq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command", parser_class=ArgumentParser)
    chosen = next((a for a in argv if a in COMMANDS), None)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _command_module(name).add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        backend.get_backend()  # a bad MINSEQ_BACKEND is reported here, in one line
        status = _command_module(args.command).run(args)
        sys.stdout.flush()  # here, inside the try: a reader gone away is met now, not at exit
        return status
    except backend.BackendError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if leads():     # under mpiexec every process stops here: one line, from rank 0
            print(f"minseq {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped early (``minseq lessons | head``): nothing more to say, and
        # Python's flush of stdout at exit must not fail on the closed pipe either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
