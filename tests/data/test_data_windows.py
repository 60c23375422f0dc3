"""Windows for the next-behaviour tasks: inside one user's time line, targets from the future."""

import numpy as np
import pytest

from minseq.data import BEHAVIOURS, from_columns, generate
from minseq.data.events import behaviour_vocab
from minseq.data.windows import behaviour_windows

BROWSE, CLICK, CART, FAV, BUY = range(1, 6)


def table():
    """User a: browse, click, cart, purchase; user b: click, browse (t = 0, 1, 2 ...)."""
    return from_columns(user=["a"] * 4 + ["b"] * 2, item=[1, 1, 1, 1, 2, 3],
                        behaviour=[BROWSE, CLICK, CART, BUY, CLICK, BROWSE],
                        timestamp=[0, 1, 2, 3, 0, 1], behaviour_names=behaviour_vocab(BEHAVIOURS),
                        category=[7, 7, 7, 7, 8, 9])


def test_next_behaviour_windows_by_hand():
    X, y, M = behaviour_windows(table(), maxlen=2)
    np.testing.assert_array_equal(X, [[0, BROWSE], [BROWSE, CLICK], [CLICK, CART], [0, CLICK]])
    np.testing.assert_array_equal(y, [CLICK - 1, CART - 1, BUY - 1, BROWSE - 1])
    np.testing.assert_array_equal(M, X != 0)      # user b's window never reaches user a


def test_will_purchase_needs_the_whole_horizon():
    X, y, M = behaviour_windows(table(), maxlen=3, task="will-purchase", horizon=2)
    np.testing.assert_array_equal(X, [[0, 0, BROWSE], [0, BROWSE, CLICK]])
    np.testing.assert_array_equal(y, [0.0, 1.0])  # the purchase is 3 events after the first
    assert y.dtype == np.float64 and M[:, -1].all()


def test_categories_ride_along():
    X, _, M = behaviour_windows(table(), maxlen=2, categories=True)
    assert X.shape == (4, 2, 2)
    np.testing.assert_array_equal(X[3], [[0, 0], [CLICK, 2]])  # categories are dense ids


def test_windows_end_at_every_event_with_a_future():
    log = generate(n_users=20, seed=3)
    X, y, M = behaviour_windows(log, maxlen=6)
    assert len(X) == (log.lengths() - 1).sum()
    assert M[:, -1].all() and (X[~M] == 0).all() and (X[M] > 0).all()
    assert y.min() >= 0 and y.max() < log.n_behaviours


def test_bad_arguments():
    with pytest.raises(ValueError, match="task must be one of"):
        behaviour_windows(table(), 3, task="next-item")
    with pytest.raises(ValueError, match="maxlen and horizon must be at least 1"):
        behaviour_windows(table(), 0)
    no_purchase = from_columns([1, 1], [1, 2], [1, 2], [0, 1], behaviour_vocab(("view", "like")))
    with pytest.raises(ValueError, match="needs a 'purchase' behaviour"):
        behaviour_windows(no_purchase, 3, task="will-purchase", horizon=1)
    with pytest.raises(ValueError, match="^behaviour_windows: the table has no item categories$"):
        behaviour_windows(no_purchase, 3, categories=True)


def test_bad_arguments_are_named_in_the_messages():
    with pytest.raises(ValueError, match="task must be one of next-behaviour, will-purchase, "
                       "got 'next-item'"):
        behaviour_windows(table(), 3, task="next-item")
    no_purchase = from_columns([1, 1], [1, 2], [1, 2], [0, 1], behaviour_vocab(("view", "like")))
    with pytest.raises(ValueError, match=r"the table has \('view', 'like'\)"):
        behaviour_windows(no_purchase, 3, task="will-purchase", horizon=1)


def test_a_window_of_one_event():
    X, y, M = behaviour_windows(table(), maxlen=1)
    np.testing.assert_array_equal(X, [[BROWSE], [CLICK], [CART], [CLICK]])
    assert M.all() and y.tolist() == [CLICK - 1, CART - 1, BUY - 1, BROWSE - 1]


def test_will_purchase_reads_only_the_horizon_after_the_window():
    """A purchase before or at the window's end does not count; only one among the next
    ``horizon`` events does."""
    t = from_columns(user=[1] * 5, item=[1] * 5, behaviour=[BUY, BROWSE, BROWSE, BUY, BROWSE],
                     timestamp=range(5), behaviour_names=behaviour_vocab(BEHAVIOURS))
    _, y, _ = behaviour_windows(t, maxlen=2, task="will-purchase", horizon=1)
    assert y.tolist() == [0.0, 0.0, 1.0, 0.0]
