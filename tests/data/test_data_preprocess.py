"""Preprocessing, catalogue section C: C1 fill, C2 scaling, C3 labels, C4 time, C5 padding,
C6 windows."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minseq.data import (LabelEncoder, MinMaxScaler, fill_missing, normalize_timestamps,
                         pad_sequences, sliding_windows)


def test_fill_missing_with_column_means_or_drop():
    X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])
    filled, means = fill_missing(X)
    assert filled.tolist() == [[1.0, 6.0], [3.0, 4.0], [2.0, 8.0]] and means.tolist() == [2, 6]
    assert fill_missing(X, "drop")[0].tolist() == [[3.0, 4.0]]
    assert fill_missing(X, fill_values=[0.0, -1.0])[0][0, 1] == -1.0


def test_fill_missing_refuses_an_all_missing_column():
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have no values"):
        fill_missing(np.array([[1.0, np.nan], [2.0, np.nan]]))


def test_min_max_scaler_by_hand_and_constant_column():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]])
    s = MinMaxScaler().fit(X)
    assert s.transform(X).tolist() == [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]
    assert s.transform([[5.0, 6.0]]).tolist() == [[2.0, 1.0]]  # train min/max, not clipped


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
              elements=st.floats(-1e6, 1e6)))
def test_min_max_scaler_maps_into_unit_interval_and_inverts(X):
    s = MinMaxScaler()
    Y = s.fit_transform(X)
    assert (Y >= 0).all() and (Y <= 1 + 1e-12).all()
    np.testing.assert_allclose(s.inverse_transform(Y), X, rtol=1e-9, atol=1e-6)


def test_min_max_scaler_errors():
    with pytest.raises(RuntimeError, match="call fit first"):
        MinMaxScaler().transform([[1.0]])
    with pytest.raises(ValueError, match="fitted on 2 columns, got 3"):
        MinMaxScaler().fit(np.ones((2, 2))).transform(np.ones((1, 3)))


def test_label_encoder_in_the_documents_order_and_sorted():
    enc = LabelEncoder(classes=["browse", "purchase", "like"])
    assert enc.transform(["like", "browse", "purchase"]).tolist() == [2, 0, 1]
    assert enc.inverse_transform([1, 0]).tolist() == ["purchase", "browse"]
    assert LabelEncoder().fit_transform(["b", "a", "b"]).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['cart'\]"):
        enc.transform(["cart"])


def test_normalize_timestamps():
    assert normalize_timestamps([10, 15, 20]).tolist() == [0.0, 0.5, 1.0]
    assert normalize_timestamps([30], t_min=10, t_max=20).tolist() == [2.0]
    assert normalize_timestamps([7, 7]).tolist() == [0.0, 0.0]


def test_pad_sequences_post_and_pre_with_truncation():
    seqs = [[1, 2, 3, 4], [5]]
    x, m = pad_sequences(seqs, maxlen=3)
    assert x.tolist() == [[2, 3, 4], [5, 0, 0]]  # keeps the latest events
    assert m.tolist() == [[True] * 3, [True, False, False]]
    x, m = pad_sequences(seqs, maxlen=3, padding="pre", truncating="post")
    assert x.tolist() == [[1, 2, 3], [0, 0, 5]] and m[1].tolist() == [False, False, True]
    assert pad_sequences(seqs)[0].shape == (2, 4)


@given(st.lists(st.lists(st.integers(1, 9), max_size=7), min_size=1, max_size=5),
       st.integers(1, 8), st.sampled_from(["pre", "post"]), st.sampled_from(["pre", "post"]))
def test_pad_sequences_mask_counts_the_kept_events(seqs, maxlen, padding, truncating):
    x, m = pad_sequences(seqs, maxlen, padding, truncating)
    assert m.sum(axis=1).tolist() == [min(len(s), maxlen) for s in seqs]
    assert (x[~m] == 0).all() and (x[m] > 0).all()


def test_sliding_windows_as_printed_and_with_labels():
    data = np.arange(12).reshape(6, 2)
    X, y = sliding_windows(data, 4)
    assert X.shape == (2, 4, 2) and X[1].tolist() == data[1:5].tolist()
    assert y.tolist() == [data[4].tolist(), data[5].tolist()]  # a feature row: the H4 erratum
    labels = np.array([0, 1, 0, 0, 1, 1])
    X, y = sliding_windows(data, 4, targets=labels)
    assert X.shape == (3, 4, 2) and y.tolist() == [0, 1, 1]
    X, y = sliding_windows(data, 7)
    assert X.shape == (0, 7, 2) and y.shape == (0, 2)


def test_fill_missing_gives_floats_and_the_column_means_without_nan():
    X = np.array([[1, 2], [3, 8], [5, 5]])
    filled, means = fill_missing(X)
    assert filled.dtype == np.float64 and means.tolist() == [3.0, 5.0]
    kept, none = fill_missing(X, "drop")
    assert kept.dtype == np.float64 and kept.tolist() == X.tolist() and none is None


def test_fill_missing_errors_say_what_was_wrong():
    with pytest.raises(ValueError, match=r"fill_missing: X must be 2-D \(N, D\), got shape \(3,\)"):
        fill_missing([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="method must be 'mean' or 'drop', got 'median'"):
        fill_missing(np.ones((2, 2)), "median")


@pytest.mark.parametrize("method", ["fit", "transform", "inverse_transform"])
@pytest.mark.parametrize("X, shape", [([1.0, 2.0], r"\(2,\)"), (np.ones((0, 2)), r"\(0, 2\)")])
def test_min_max_scaler_refuses_anything_but_a_non_empty_matrix_naming_the_method(method, X,
                                                                                   shape):
    s = MinMaxScaler().fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match=f"^MinMaxScaler.{method}: X must be a non-empty 2-D "
                       f"array \\(N, D\\), got shape {shape}$"):
        getattr(s, method)(X)


def test_min_max_scaler_keeps_a_range_below_one_and_reads_booleans_as_numbers():
    s = MinMaxScaler().fit([[0.0], [0.25], [0.5]])
    assert s.transform([[0.25], [0.5]]).tolist() == [[0.5], [1.0]]
    assert MinMaxScaler().fit_transform([[True, False], [False, True]]).tolist() == \
        [[1.0, 0.0], [0.0, 1.0]]


def test_label_encoder_errors_and_empty_input():
    enc = LabelEncoder(classes=["x", "y", "z"])
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['a', 'b', 'c', 'd', 'e'\]; "
                       r"known: \['x', 'y', 'z'\]"):
        enc.transform(["f", "e", "d", "c", "b", "a"])
    with pytest.raises(ValueError, match=r"unknown label\(s\) \[3, 'a'\]"):
        enc.transform(np.array(["a", 3], dtype=object))      # mixed types are listed too
    with pytest.raises(RuntimeError, match=r"^LabelEncoder: call fit first \(or pass "
                       r"classes=\.\.\.\)$"):
        LabelEncoder().transform(["a"])
    empty = enc.transform(np.zeros((0, 2), str))
    assert empty.shape == (0, 2) and empty.dtype == np.int64


@pytest.mark.parametrize("codes", [[-1], [3], [0, 3]])
def test_label_encoder_refuses_a_code_outside_the_classes(codes):
    enc = LabelEncoder(classes=["x", "y", "z"])
    assert enc.inverse_transform([0, 2]).tolist() == ["x", "z"]
    with pytest.raises(ValueError, match=r"codes must lie in 0\.\.2$"):
        enc.inverse_transform(codes)


def test_normalize_timestamps_with_a_span_below_one_and_a_zero_span():
    assert normalize_timestamps([0.0, 0.25, 0.5]).tolist() == [0.0, 0.5, 1.0]
    assert normalize_timestamps([5, 3], t_min=3, t_max=3).tolist() == [2.0, 0.0]


def test_normalize_timestamps_computes_in_float64_whatever_the_times_dtype():
    """float32 times give float64 (as documented); unsigned times before the given t_min give
    negative values, not wrapped ones; a span wider than the times' integer type does not
    overflow."""
    out = normalize_timestamps(np.array([0, 1, 4], np.float32))
    assert out.dtype == np.float64 and out.tolist() == [0.0, 0.25, 1.0]
    assert normalize_timestamps(np.array([5, 13], np.uint32), t_min=9, t_max=13).tolist() == \
        [-1.0, 1.0]
    assert normalize_timestamps(np.array([-30000, 0, 30000], np.int16)).tolist() == \
        [0.0, 0.5, 1.0]


def test_pad_sequences_refuses_bad_options_and_nothing_to_pad():
    with pytest.raises(ValueError, match="padding and truncating must be 'pre' or 'post', got "
                       "'mid' and 'pre'"):
        pad_sequences([[1]], padding="mid")
    for seqs in ([], [[], []]):
        with pytest.raises(ValueError, match="pad_sequences: maxlen must be at least 1, got 0"):
            pad_sequences(seqs)


def test_pad_sequences_keeps_the_asked_dtype():
    x, _ = pad_sequences([[1.5, 2.5], [3.5]], dtype=np.float32, value=-1)
    assert x.dtype == np.float32 and x.tolist() == [[1.5, 2.5], [3.5, -1.0]]


def test_sliding_windows_of_one_step_and_their_errors():
    X, y = sliding_windows(np.arange(3), 1)
    assert X.tolist() == [[0], [1]] and y.tolist() == [1, 2]
    with pytest.raises(ValueError, match="time_steps must be at least 1, got 0"):
        sliding_windows(np.arange(3), 0)
    with pytest.raises(ValueError, match="sliding_windows: 2 targets for 3 rows"):
        sliding_windows(np.arange(3), 1, targets=[0, 1])
