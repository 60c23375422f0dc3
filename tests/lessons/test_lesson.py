"""The lesson frame's gradient checks: ``check_gradients`` records one check per tensor of a
layer and fails on a 1 % error in any of them; ``compare`` tables gradients derived by hand
against the layer's and fails on any difference, shapes included."""

import pytest

from minseq import nn
from minseq.lesson import Lesson


@pytest.fixture
def lesson(tmp_path, xp):
    return Lesson(__file__, "frame", ids=[], argv=["--out", str(tmp_path)])


def test_check_gradients_checks_every_parameter_and_input(lesson, xp):
    errors = lesson.check_gradients(nn.Linear(3, 2), xp.ones((4, 3)))
    assert sorted(errors) == ["W", "b", "x"]
    assert lesson.passed == [f"Linear: d{n} equals central differences" for n in ("x", "W", "b")]
    assert lesson.finish() == 0


@pytest.mark.parametrize("tensor", ["W", "b"])
def test_check_gradients_fails_on_a_one_percent_error_in_one_tensor(lesson, xp, tensor,
                                                                   monkeypatch):
    original = nn.Linear.backward

    def off_by_one_percent(self, dy):
        dx = original(self, dy)
        self.grads[tensor][...] *= 1.01
        return dx
    monkeypatch.setattr(nn.Linear, "backward", off_by_one_percent)
    lesson.check_gradients(nn.Linear(3, 2), xp.ones((4, 3)), label="layer")
    assert lesson.failed == [f"layer: d{tensor} equals central differences"]
    assert lesson.finish() == 1


def test_compare_tables_each_row_and_checks_it(lesson, xp, capsys):
    a = xp.arange(4.0).reshape(2, 2)
    assert lesson.compare([("dW", a, a.copy()), ("db", a[0], a[0])])
    table = capsys.readouterr().out
    assert "name" in table and "by hand" in table and "max abs diff" in table
    assert "dW" in table and "0.0e+00" in table
    assert len(lesson.passed) == 2


def test_compare_fails_on_a_difference_or_a_shape(lesson, xp):
    a = xp.ones((1, 3))
    assert not lesson.compare([("da", a, a * 1.01), ("db", a, a[0])])
    assert lesson.failed == ["da by hand equals the layer's", "db by hand equals the layer's"]


def test_compare_in_an_exercise_heads_its_columns_yours_and_reference(lesson, xp, capsys):
    from minseq.lesson import Exercise
    from minseq.lessons_support.grading import run_grader

    def grade(L, function):
        L.compare([("dW", function(xp.ones(2)), xp.ones(2))])
    run_grader(lesson, Exercise("f", "task", grade), lambda a: a)
    head = capsys.readouterr().out.splitlines()[0]
    assert "yours" in head and "reference" in head and "by hand" not in head
    assert lesson.passed == ["dW yours equals the reference's"]
    assert lesson.columns == ("by hand", "layer")


def test_the_grader_refuses_the_reference_through_every_alias_and_restores_it(lesson, xp):
    from minseq.lesson import Exercise
    from minseq.lessons_support.grading import run_grader
    from minseq.nn.functional import softplus as alias

    def grade(L, function):
        L.check_close("softplus(0) = log 2", function(xp.zeros(1)), xp.log(2.0) * xp.ones(1))
    run_grader(lesson, Exercise("f", "task", grade, reference=["minseq.nn.functional.softplus"]),
               alias)
    assert lesson.failed == ["f is your own code"]
    run_grader(lesson, Exercise("f", "task", grade), alias)       # outside grading: its code
    assert lesson.passed == ["softplus(0) = log 2"]
