"""Batches on the active backend, seeded shuffling, next-event pairs."""

import numpy as np
import pytest

from minseq import backend
from minseq.data import Batches, next_event_pairs


def test_batches_cover_every_row_once_on_the_backend(xp):
    x = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    batches = list(Batches(x, y, x > 0, batch_size=4, seed=1))
    assert len(batches) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert all(isinstance(a, xp.ndarray) for b in batches for a in b)
    seen = np.concatenate([backend.to_numpy(b[1]) for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    for bx, by, _ in batches:
        assert (backend.to_numpy(bx)[:, 0] == backend.to_numpy(by)).all()


def test_seed_repeats_the_run_and_epochs_differ():
    y = np.arange(20)
    a, b = Batches(y, y, batch_size=5, seed=3), Batches(y, y, batch_size=5, seed=3)
    ea = [backend.to_numpy(t).tolist() for _, t, _ in a]
    assert ea == [backend.to_numpy(t).tolist() for _, t, _ in b]
    assert ea != [backend.to_numpy(t).tolist() for _, t, _ in a]


def test_drop_last_no_shuffle_and_mismatched_rows():
    y = np.arange(7)
    batches = list(Batches(y, y, batch_size=3, shuffle=False, drop_last=True))
    assert [backend.to_numpy(t).tolist() for _, t, m in batches] == [[0, 1, 2], [3, 4, 5]]
    assert batches[0][2] is None
    with pytest.raises(ValueError, match="targets has 6 rows, inputs has 7"):
        Batches(y, y[:6])


def test_next_event_pairs():
    x, y, m = next_event_pairs([[4, 5, 6], [7], [8, 9]], maxlen=3)
    assert x.tolist() == [[4, 5, 0], [8, 0, 0]] and y.tolist() == [[5, 6, 0], [9, 0, 0]]
    assert m.tolist() == [[True, True, False], [True, False, False]]


def test_each_mask_row_follows_its_inputs_and_targets_through_the_shuffle(xp):
    """Row r of the mask keeps the first r % 5 steps: whatever the order, a batch's mask rows
    are those of its own examples (identified by their target)."""
    n, T = 23, 5
    lengths = np.arange(n) % T
    mask = np.arange(T)[None, :] < lengths[:, None]
    inputs = np.where(mask, np.arange(n)[:, None] + 1, 0)
    for bx, by, bm in Batches(inputs, np.arange(n), mask, batch_size=4, seed=2):
        rows = backend.to_numpy(by)
        assert (backend.to_numpy(bm) == mask[rows]).all()
        assert (backend.to_numpy(bx) == inputs[rows]).all()


def test_next_event_pairs_keep_the_last_steps_of_a_long_sequence():
    """A sequence longer than maxlen keeps its last pairs: each target is still the event
    after its input."""
    x, y, m = next_event_pairs([[1, 2, 3, 4, 5, 6]], maxlen=3)
    assert x.tolist() == [[3, 4, 5]] and y.tolist() == [[4, 5, 6]] and m.all()


def test_the_defaults_are_32_rows_a_batch_and_seed_0():
    y = np.arange(70)
    batches = [backend.to_numpy(t).tolist() for _, t, _ in Batches(y, y)]
    assert [len(b) for b in batches] == [32, 32, 6]
    assert batches == [backend.to_numpy(t).tolist() for _, t, _ in Batches(y, y, seed=0)]


def test_batches_of_one_and_their_errors():
    y = np.arange(3)
    assert [backend.to_numpy(t).tolist() for _, t, _ in
            Batches(y, y, batch_size=1, shuffle=False)] == [[0], [1], [2]]
    with pytest.raises(ValueError, match="Batches: batch_size must be at least 1, got 0"):
        Batches(y, y, batch_size=0)
    with pytest.raises(ValueError, match="Batches: mask has 2 rows, inputs has 3"):
        Batches(y, y, y[:2])
