"""``python -m minseq.lessons_support.build``: a lesson script becomes a notebook with its
opening text, a set-up cell carrying its flags, its own cells, and for each graded exercise a
cell with the stub to fill in and a cell that grades it. Built without executing (executing
every notebook is ``make notebooks``' job); skipped where the ``notebooks`` extra is absent."""


import pytest

from minseq.lesson_runner import lesson_files
from minseq.lessons_support.build import exercise_tasks, main, notebook_of

from paths import ROOT

pytest.importorskip("jupytext", reason="the notebooks extra (jupytext) is not installed")

LESSON = lesson_files(ROOT / "lessons")[2]       # 03_lstm


def test_a_lesson_becomes_cells_with_its_exercises(tmp_path):
    nb = notebook_of(LESSON, ["--fast"], tmp_path)
    kinds = [c.cell_type for c in nb.cells]
    sources = [c.source for c in nb.cells]
    assert kinds[0] == "markdown" and sources[0].startswith("# ")
    assert "sys.argv" in sources[1] and "--fast" in sources[1]
    assert any("### D3" in s for s, k in zip(sources, kinds) if k == "markdown")
    assert any("L = Lesson(" in s for s, k in zip(sources, kinds) if k == "code")
    tasks = exercise_tasks(LESSON)
    assert len(tasks) >= 2
    for k, (function, _) in enumerate(tasks, 1):
        assert any(s.startswith(f"## Exercise {k}: `{function}`") for s in sources)
        assert any(f"def {function}(" in s for s, c in zip(sources, kinds) if c == "code")
        assert any(f"grade_in_notebook(L, EXERCISES, {k}, {function})" in s for s in sources)
    assert "jupytext" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"


def test_a_folder_without_lessons_fails_with_one_line(tmp_path, capsys):
    assert main(["--dir", str(tmp_path), "--out", str(tmp_path / "nb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("notebooks: no lessons") and err.count("\n") == 1
