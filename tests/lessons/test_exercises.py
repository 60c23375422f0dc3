"""Every lesson has at least two runnable, graded exercises: a stub in lessons/exercises/ that
the student fills in, and a worked solution in lessons/solutions/. The lesson's grader
(``python lessons/NN_name.py --exercise K``) must pass every solution and fail every untouched
stub through its checks (a stub returns the right shapes with the wrong numbers, so a grader
that cannot fail shows here)."""

import ast
import shutil
import subprocess
import sys

import pytest

from minseq.lesson_runner import lesson_files

from paths import ROOT

LESSONS_DIR = ROOT / "lessons"
LESSONS = {p.stem: p for p in lesson_files(LESSONS_DIR)}


def exercises(stem, folder="exercises"):
    """Exercise numbers with a file in ``folder``, in order."""
    return sorted(int(p.stem.rsplit("_", 1)[1])
                  for p in (LESSONS_DIR / folder).glob(f"{stem}_*.py"))


CASES = [(stem, k) for stem in sorted(LESSONS) for k in exercises(stem)]


def grade(stem, k, *flags, tmp_path):
    return subprocess.run([sys.executable, str(LESSONS[stem]), "--exercise", str(k), *flags,
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)


@pytest.mark.parametrize("stem", sorted(LESSONS))
def test_every_lesson_has_two_graded_exercises_with_solutions(stem):
    ks = exercises(stem)
    assert len(ks) >= 2, f"{stem}: {len(ks)} exercise stub(s) in lessons/exercises/"
    assert ks == list(range(1, len(ks) + 1)), f"{stem}: exercises numbered {ks}"
    assert exercises(stem, "solutions") == ks, f"{stem}: a stub without a solution, or back"


@pytest.mark.parametrize("stem,k", CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_the_worked_solution_passes(stem, k, tmp_path):
    # strict: the solution runs as CuPy would run it, with no hidden host conversion
    proc = grade(stem, k, "--solution", "--backend", "strict", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert f"exercise {k}: PASS" in proc.stdout.splitlines()[-1]


@pytest.mark.parametrize("stem,k", CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_the_untouched_stub_fails_a_check(stem, k, tmp_path):
    proc = grade(stem, k, tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert f"exercise {k}: FAIL" in proc.stdout.splitlines()[-1]
    # the stub ran to the end: a numeric check, not a crash, is what failed it
    assert " runs  (" not in proc.stdout, proc.stdout[-2000:]


def test_an_exercise_that_does_not_exist_is_one_line(tmp_path):
    stem = CASES[0][0]
    proc = grade(stem, 99, tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"{stem}: no exercise 99: this lesson has exercises "
                                   f"1-{len(exercises(stem))}")


def test_a_function_that_raises_fails_its_check_with_the_error(tmp_path, monkeypatch):
    """The grader reports a student's exception as a failed check, and goes on to the verdict."""
    stem, k = CASES[0]
    broken = tmp_path / "lessons"
    broken.mkdir()
    for path in LESSONS_DIR.glob("*.py"):
        (broken / path.name).write_text(path.read_text())
    (broken / "exercises").mkdir()
    stub = (LESSONS_DIR / "exercises" / f"{stem}_{k}.py").read_text()
    (broken / "exercises" / f"{stem}_{k}.py").write_text(
        stub + "\n\ndef _raise(*args, **kwargs):\n    raise ValueError('not yet')\n\n\n"
        + f"{function_name(stub)} = _raise\n")
    proc = subprocess.run([sys.executable, str(broken / f"{stem}.py"), "--exercise", str(k),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "runs  (ValueError: not yet)" in proc.stdout


def function_name(source):
    """The first top-level function a stub defines."""
    return next(line.split("(")[0][4:] for line in source.splitlines() if line.startswith("def "))


def test_the_lessons_command_grades_an_exercise(capsys):
    from minseq.cli import main
    stem, k = CASES[0]
    assert main(["lessons", stem[:2], "--exercise", str(k), "--solution"]) == 0
    assert main(["lessons", stem[:2], "--exercise", str(k)]) == 1
    assert main(["lessons", "all", "--exercise", "1"]) == 2
    assert "name the lesson" in capsys.readouterr().err


# -- a solution that calls the library's answer fails ---------------------------------------
#: (lesson, exercise, a solution that only calls minseq's own code for it). The first three
#: passed every check before the grader refused the reference code (the third calls it through
#: the layer class, as does the fourth). Each passes when nothing is refused.
CHEATS = {
    "imported at load time, as an alias": ("03_lstm", 2, """
from minseq.nn.lstm import lstm_step_backward as _library


def lstm_step_backward(params, dh, dc_next, cache):
    return _library(params, dh, dc_next, cache)
"""),
    "the library function itself, one line": ("09_metrics", 2, """
from minseq.metrics import roc_auc
"""),
    "the layer class and its backward": ("01_dense_backprop", 1, """
from minseq import nn


def softmax_cross_entropy(scores, t):
    ce = nn.CrossEntropyLoss()
    loss = ce(scores, t)
    return loss, ce.backward()
"""),
    "a layer's forward, through the class": ("06_multihead_positional", 2, """
from minseq import nn


def multi_head_attention(params, x, num_heads, mask=None):
    layer = nn.MultiHeadAttention(x.shape[-1], num_heads).astype(x.dtype)
    for name, value in params.items():
        layer.params[name][...] = value
    out = layer(x, mask=mask)
    return out, layer.weights
"""),
}


def lessons_with_exercise(tmp_path, stem, k, source):
    """A copy of the lessons folder whose exercise k of ``stem`` is ``source``."""
    copy = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "exercises" / f"{stem}_{k}.py").write_text(source)
    return copy


@pytest.mark.parametrize("how", sorted(CHEATS))
def test_a_solution_that_calls_the_library_fails(how, tmp_path):
    stem, k, source = CHEATS[how]
    copy = lessons_with_exercise(tmp_path, stem, k, source)
    proc = subprocess.run([sys.executable, str(copy / f"{stem}.py"), "--exercise", str(k),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"exercise {k}: FAIL" in proc.stdout.splitlines()[-1]
    refused = [line for line in proc.stdout.splitlines() if "is your own code" in line]
    assert len(refused) == 1 and "[FAIL]" in refused[0], proc.stdout[-3000:]
    assert "the library code this exercise asks you to write" in refused[0]


def exercise_calls(path):
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Exercise"]


@pytest.mark.parametrize("stem", sorted(LESSONS))
def test_every_exercise_names_the_library_code_it_refuses(stem):
    from minseq.lessons_support.grading import resolve
    for node in exercise_calls(LESSONS[stem]):
        kw = {k.arg: k.value for k in node.keywords}
        assert "reference" in kw, f"{stem}: Exercise {ast.literal_eval(node.args[0])} " \
                                  "names no reference"
        names = ast.literal_eval(kw["reference"])
        assert names and all(callable(resolve(name)) for name in names)
