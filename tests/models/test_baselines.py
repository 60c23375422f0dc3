"""Pop and first-order Markov baselines on toy histories."""

import numpy as np

from minseq import backend
from minseq.models.baselines import Markov, Pop

# item 2 is the most frequent; 1 is always followed by 3, 3 by 2
TRAIN = [np.array([1, 3, 2, 2]), np.array([2, 1, 3]), np.array([4, 2]), np.array([], np.int64)]


def ids(rows):
    return backend.asarray(np.array(rows, dtype=np.int64))


def test_pop_counts_and_ranks_by_popularity(xp):
    pop = Pop(4).fit(TRAIN)
    np.testing.assert_array_equal(backend.to_numpy(pop.params["counts"]), [0, 2, 4, 2, 1])
    scores = backend.to_numpy(pop.score_last(ids([[0, 1], [3, 4]])))
    np.testing.assert_array_equal(scores, [[2, 4, 2, 1], [2, 4, 2, 1]])   # items 1..4
    cand = backend.to_numpy(pop.score_last(ids([[0, 1]]), ids([[4, 2]])))
    np.testing.assert_array_equal(cand, [[1, 4]])


def test_markov_counts_transitions_and_backs_off_to_popularity(xp):
    m = Markov(4).fit(TRAIN)
    n = backend.to_numpy(m.params["transitions"])
    assert n[1, 3] == 2 and n[3, 2] == 1 and n[2, 2] == 1 and n[2, 1] == 1 and n[4, 2] == 1
    assert n.sum() == 6                                      # 3 + 2 + 1 pairs
    scores = backend.to_numpy(m.score_last(ids([[2, 1], [0, 4]])))
    # after 1: item 3 first (2 transitions), then the rest by popularity 2 > 1 = 3's... > 4
    assert np.argmax(scores[0]) == 2
    np.testing.assert_allclose(scores[0], [0 + 2 / 5, 0 + 4 / 5, 2 + 2 / 5, 0 + 1 / 5])
    assert np.argmax(scores[1]) == 1                         # after 4: item 2
    # the popularity term never overturns a transition count: it lies in [0, 1)
    assert scores.max() - np.floor(scores).max() < 1


def test_markov_reads_the_last_column_of_left_padded_histories(xp):
    m = Markov(4).fit(TRAIN)
    a = backend.to_numpy(m.score_last(ids([[0, 0, 1]])))
    b = backend.to_numpy(m.score_last(ids([[4, 2, 1]])))
    np.testing.assert_array_equal(a, b)
