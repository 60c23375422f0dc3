"""The command line: one table of subcommands, each a module imported only when it runs, and
nothing below the command line importing it."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minseq
from minseq import cli

PACKAGE = Path(minseq.__file__).parent


def imported_modules(path):
    """Absolute names of the minseq modules ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            yield from (f"{module}.{a.name}" for a in node.names)


def modules_importing(prefixes, where="minseq"):
    """{module file: [imports]} for each module under ``where`` importing one of ``prefixes``."""
    found = {}
    for path in sorted((PACKAGE.parent / where.replace(".", "/")).rglob("*.py")):
        hits = [m for m in imported_modules(path)
                if any(m == p or m.startswith(p + ".") for p in prefixes)]
        if hits:
            found[str(path.relative_to(PACKAGE.parent))] = hits
    return found


def test_nothing_below_the_command_line_imports_it():
    found = modules_importing(["minseq.cli", "minseq.commands"])
    assert set(found) <= {"minseq/cli.py", "minseq/__main__.py"} | {
        p for p in found if p.startswith("minseq/commands/")}, found


def test_models_do_not_train():
    """Models are trained by minseq.tasks: nothing in minseq.models reaches up to the training
    loop, checkpoints, figures, the pipelines or the command line."""
    assert not modules_importing(["minseq.train", "minseq.checkpoint", "minseq.plot",
                                  "minseq.tasks", "minseq.cli", "minseq.commands"],
                                 "minseq.models")


def test_the_import_check_sees_a_relative_import():
    path = PACKAGE / "models" / "sasrec.py"
    assert "minseq.nn.init" in set(imported_modules(path))        # from ..nn import init


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_command_module_has_add_arguments_and_run(name):
    module = cli._command_module(name)
    assert callable(module.add_arguments) and callable(module.run)


def test_a_command_imports_only_its_own_module():
    code = ("import sys; from minseq.cli import main; main(['data', '--synthetic', '--users', "
            "'5']); print(sorted(m for m in sys.modules if m.startswith('minseq.commands')), "
            "'minseq.bench' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "['minseq.commands', 'minseq.commands.data'] False"


def test_help_lists_every_command(capsys):
    assert cli.main([]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in cli.COMMANDS)


def test_importing_minseq_leaves_numpy_and_matplotlib_alone():
    """No global side effect on import: NumPy's print options and matplotlib's backend stay as
    the user left them (a notebook keeps its plotting backend)."""
    code = ("import numpy as np, matplotlib; before = np.get_printoptions(); "
            "backend = dict.__getitem__(matplotlib.rcParams, 'backend'); "
            "import minseq, minseq.tasks, minseq.lesson, minseq.bench, minseq.cli, "
            "minseq.gradcheck.registry; import sys; "
            "print(np.get_printoptions() == before, "
            "dict.__getitem__(matplotlib.rcParams, 'backend') is backend, "
            "'matplotlib.pyplot' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}   # nobody chose one
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    assert out == ["True", "True", "False"]


def test_a_reader_that_stops_early_gets_no_traceback():
    """``minseq lessons | head -1``: the closed pipe ends the command quietly (exit 141, as a
    shell reports SIGPIPE), with nothing on stderr. The pipe is closed before the command
    starts writing, so the write always meets it."""
    proc = subprocess.Popen([sys.executable, "-m", "minseq", "lessons"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert (proc.wait(timeout=60), err) == (141, "")
