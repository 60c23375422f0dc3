"""The command line: one table of subcommands, each a module imported only when it runs, and
nothing below the command line importing it."""

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import minseq
from minseq import cli
from minseq.commands.train import SETTINGS
from minseq.models.registry import MODELS

from paths import ROOT

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
                            stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert (proc.wait(timeout=60), err) == (141, "")


def test_the_lesson_list_says_how_to_run_one_as_it_will_run():
    """The list ends with the command line to run a lesson, written with the program as this
    installation calls it (not ``python -m minseq``, which fails outside an activated .venv):
    that program runs, from the folder the list was printed in."""
    root = ROOT
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "minseq", "lessons"], capture_output=True,
                          text=True, cwd=root, check=True, env=env)
    line = done.stdout.splitlines()[-1]
    program = line.removeprefix("Run one: ").partition(" lessons 01")[0]
    assert line.startswith("Run one: ") and program != "python -m minseq", line
    version = subprocess.run([*shlex.split(program), "--version"], capture_output=True,
                             text=True, cwd=root, env=env)
    assert version.stdout.startswith("minseq "), version


def said(argv, capsys):
    """(exit status, stdout, stderr) of ``minseq ARGV``, parsing errors included."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


# the command line | what its one line on stderr says
MISTAKES = """
train --modle sasrec          | minseq train: unrecognized arguments: --modle sasrec (did you mean --model?)
train --model pop --epoch 1   | minseq train: unrecognized arguments: --epoch 1 (did you mean --epochs?)
train --model pop --epoch=1   | minseq train: unrecognized arguments: --epoch=1 (did you mean --epochs?)
data --synth                  | minseq data: unrecognized arguments: --synth (did you mean --synthetic?)
train --model pop --zzz       | minseq train: unrecognized arguments: --zzz
--verison                     | minseq: unrecognized arguments: --verison (did you mean --version?)
trian                         | minseq: command: invalid choice 'trian'; choose from train, evaluate, recommend, data, gradcheck, bench, lessons (did you mean train?)
train --model lsmt            | minseq train: --model: invalid choice 'lsmt'; choose from gru4rec, sasrec, pop, markov, mlp, lstm, lstm-attn, transformer, popular-class, markov-behaviour, recency (did you mean lstm?)
data --format csv             | minseq data: --format: invalid choice 'csv'; choose from auto, taobao, retailrocket, movielens, user-item
train --epochs x              | minseq train: --epochs: invalid int value: 'x'
evaluate                      | minseq evaluate: the following arguments are required: checkpoint
"""
MISTAKES = dict(line.split("|") for line in MISTAKES.strip().splitlines())


@pytest.mark.parametrize("argv", list(MISTAKES))
def test_a_mistyped_command_line_is_one_line_with_the_nearest_flag_or_value(argv, capsys):
    """No abbreviation is taken (``--epoch`` is not ``--epochs``), no usage block is printed,
    and nothing runs: exit status 2 and the one line."""
    assert said(argv.split(), capsys) == (2, "", MISTAKES[argv].strip() + "\n")


def test_version(capsys):
    assert said(["--version"], capsys) == (0, f"minseq {minseq.__version__}\n", "")


def test_a_lesson_script_parses_its_flags_as_strictly(tmp_path):
    """The lessons' own flags: no abbreviation, the nearest flag, one line, exit 2."""
    done = subprocess.run([sys.executable, str(ROOT / "lessons" / "01_dense_backprop.py"), "--fas"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert (done.returncode, done.stderr) == (
        2, "01_dense_backprop.py: unrecognized arguments: --fas (did you mean --fast?)\n")


def test_train_help_shows_each_model_s_own_defaults(capsys, monkeypatch):
    """Each settings flag's help lists the registry's default of every model that has the
    setting, e.g. "--epochs ... (default 30 for gru4rec; 50 for sasrec; ...)"."""
    monkeypatch.setenv("COLUMNS", "1000")      # no help text wrapped (argparse breaks at "-")
    status, out, _ = said(["train", "--help"], capsys)
    assert status == 0 and "model default" not in out
    shown = [s for s in SETTINGS if s not in ("k", "negatives", "exclude_seen")]  # runs.py's
    for setting in shown:
        flag = "--" + setting.replace("_", "-")
        listed = re.search(rf"^  {flag}[ ,].*?\(default ([^)]*)\)", out, re.S | re.M)[1]
        said_default = {name: value for part in listed.split("; ")
                        for value, names in [part.split(" for ")] for name in names.split(", ")}
        assert said_default == {name: "none" if spec.settings[setting] is None
                                else str(spec.settings[setting])
                                for name, spec in MODELS.items() if setting in spec.settings}
