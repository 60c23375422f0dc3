"""One backward entry worked with numbers (``minseq.lessons_support.worked``): the sum is
printed term by term, and a layer's gradient that differs from it fails the lesson's check."""

import numpy as np
import pytest

from minseq.lesson import Lesson
from minseq.lessons_support.worked import work_element, work_weight_gradient


@pytest.fixture
def L(tmp_path):
    return Lesson(__file__, "worked", ids=[], argv=["--out", str(tmp_path)])


def test_the_sum_of_products_is_printed_and_checked(L, capsys):
    total = work_element(L, "dW[1, 0]", [[("h[0, 1]", 1.2623), ("dz[0, 0]", 0.1552)]], 1.2623 * 0.1552)
    out = capsys.readouterr().out
    assert "dW[1, 0] = h[0, 1] * dz[0, 0]" in out and "= 1.2623 * 0.1552 = 0.1959" in out
    assert total == pytest.approx(1.2623 * 0.1552) and L.passed and not L.failed


def test_a_layer_gradient_that_differs_fails(L):
    work_element(L, "dW[1, 0]", [[("h", 1.2623), ("dz", 0.1552)]], 0.1959 * 1.01)
    assert L.failed and not L.passed


def test_weight_gradient_sums_over_every_row(L):
    rng = np.random.default_rng(0)
    X, dY = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    dW = X.reshape(6, 4).T @ dY.reshape(6, 5)
    assert work_weight_gradient(L, "dW", X, dY, 2, 3, dW) == pytest.approx(dW[2, 3])
    assert L.passed and not L.failed


def test_rows_that_do_not_match_are_refused(L):
    with pytest.raises(ValueError, match="x has 3 rows and dy has 2"):
        work_weight_gradient(L, "dW", np.ones((3, 2)), np.ones((2, 2)), 0, 0, np.ones((2, 2)))
    with pytest.raises(ValueError, match="no products"):
        work_element(L, "dW[0, 0]", [], 0.0)
