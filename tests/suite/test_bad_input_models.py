"""Bad input for what the model table (bad_input_table.py) cannot describe: the recommenders'
candidate ids and ``score_last``, sequences longer than a model's positions, and the counting
baselines (fitted by counting, no backward). Each case is a named error saying what was
expected, never a wrapped index or a silent broadcast."""

import pytest

from minseq import backend
from minseq.models.baselines import Markov, Pop
from minseq.models.behaviour_baselines import MarkovBehaviour, PopularClass
from minseq.models.gru4rec import GRU4Rec
from minseq.models.sasrec import SASRec
from minseq.models.transformer_classifier import TransformerClassifier
from minseq.strict import StrictArray

import numpy as np

N_ITEMS, K = 6, 3
RECOMMENDERS = {
    "GRU4Rec": lambda: GRU4Rec(N_ITEMS, d_model=4, dropout=0.0),
    "SASRec": lambda: SASRec(N_ITEMS, maxlen=8, d_model=4, num_layers=1, num_heads=2, dropout=0.0),
}
ITEM_BASELINES = {"Pop": Pop, "Markov": Markov}
BEHAVIOUR_BASELINES = {"PopularClass": PopularClass, "MarkovBehaviour": MarkovBehaviour}


def ids(rows):
    return backend.asarray(np.array(rows, dtype=np.int64))


SEQ = [[0, 1, 2, 3], [4, 5, 6, 1]]                    # (B, T) = (2, 4), left-padded


@pytest.fixture(params=sorted(RECOMMENDERS))
def recommender(request, record_property):
    record_property("entry_point", request.param)
    return RECOMMENDERS[request.param]()


@pytest.fixture(params=sorted(ITEM_BASELINES))
def item_baseline(request, record_property):
    record_property("entry_point", request.param)
    return ITEM_BASELINES[request.param](N_ITEMS).fit([ids([1, 2, 3]), ids([2, 3, 4, 5, 6])])


@pytest.fixture(params=sorted(BEHAVIOUR_BASELINES))
def behaviour_baseline(request, record_property):
    record_property("entry_point", request.param)
    inputs, mask = ids([[1, 2, 3], [3, 3, 1]]), backend.asarray(np.ones((2, 3), dtype=bool))
    return BEHAVIOUR_BASELINES[request.param](K, K).fit(inputs, ids([0, 2]), mask)


def other_backend(a):
    if backend.get_backend() == "numpy":
        return StrictArray(np.array(a))
    return backend.to_numpy(a)


# -- recommenders: candidates ---------------------------------------------------------------------
@pytest.mark.parametrize("value", [-1, N_ITEMS + 1])
@pytest.mark.parametrize("shape", ["per position", "shared"])
def test_candidate_ids_out_of_range(xp, recommender, value, shape):
    cand = xp.ones((2, 4, 2) if shape == "per position" else (3,), dtype=xp.int64)
    cand[(0,) * cand.ndim] = value
    with pytest.raises(IndexError, match=rf"{recommender.name()}: candidates ids must lie in "
                                         rf"\[0, {N_ITEMS}\], got values in \[{min(value, 1)}"):
        recommender(ids(SEQ), cand)


@pytest.mark.parametrize("shape", [(2, 3, 2), (1, 4, 2), (2, 4), ()],
                         ids=["shorter", "one row", "2-D", "0-D"])
def test_candidates_of_the_wrong_shape(xp, recommender, shape):
    with pytest.raises(ValueError, match=f"{recommender.name()}: candidates must"):
        recommender(ids(SEQ), xp.ones(shape, dtype=xp.int64))


def test_float_candidates_and_seq(xp, recommender):
    with pytest.raises(TypeError, match=f"{recommender.name()}: candidates must hold integer"):
        recommender(ids(SEQ), xp.ones((2, 4, 2)))
    with pytest.raises(TypeError, match=f"{recommender.name()}: seq must hold integer"):
        recommender(ids(SEQ).astype(xp.float64))


def test_seq_ids_out_of_range_name_the_model(xp, recommender):
    with pytest.raises(IndexError, match=rf"{recommender.name()}: seq ids must lie in "
                                         rf"\[0, {N_ITEMS}\], got values in \[0, 7\]"):
        recommender(ids([[0, 1, 2, N_ITEMS + 1]]))


@pytest.mark.parametrize("shape", [(1, 3), (2,), (2, 3, 1)], ids=["one row", "1-D", "3-D"])
def test_score_last_candidates_of_the_wrong_shape(xp, recommender, shape):
    with pytest.raises(ValueError, match=rf"{recommender.name()}: candidates must have shape "
                                         r"\(2, C\)"):
        recommender.score_last(ids(SEQ), xp.ones(shape, dtype=xp.int64))


def test_score_last_candidates_out_of_range(xp, recommender):
    with pytest.raises(IndexError, match=f"{recommender.name()}: candidates ids must lie in"):
        recommender.score_last(ids(SEQ), ids([[1, 2], [3, -1]]))


def test_score_last_is_the_last_position_of_forward(xp, recommender):
    recommender.eval()
    cand = ids([[1, 2], [3, 6]])
    full = recommender(ids(SEQ), xp.broadcast_to(cand[:, None, :], (2, 4, 2)).copy())
    np.testing.assert_allclose(backend.to_numpy(recommender.score_last(ids(SEQ), cand)),
                               backend.to_numpy(full[:, -1]), rtol=1e-12)


def test_sequence_longer_than_the_positions(xp, record_property):
    record_property("entry_point", "SASRec")
    with pytest.raises((ValueError, IndexError), match="LearnedPositionalEmbedding"):
        RECOMMENDERS["SASRec"]()(ids([[1] * 9]))
    record_property("entry_point", "TransformerClassifier")
    model = TransformerClassifier(K, K, d_model=4, num_heads=2, num_layers=1, maxlen=8)
    with pytest.raises((ValueError, IndexError), match="LearnedPositionalEmbedding"):
        model(ids([[1] * 9]), backend.asarray(np.ones((1, 9), dtype=bool)))


# -- counting baselines of the next item --------------------------------------------------------
def test_item_baseline_bad_seq(xp, item_baseline):
    name = item_baseline.name()
    with pytest.raises(ValueError, match=f"{name}: seq must have 2 dimensions"):
        item_baseline.score_last(ids([1, 2]))
    with pytest.raises(TypeError, match=f"{name}: seq must hold integer"):
        item_baseline.score_last(ids(SEQ).astype(xp.float64))
    with pytest.raises(TypeError, match=f"{name}: seq must be a {xp.name} array"):
        item_baseline.score_last(other_backend(ids(SEQ)))
    with pytest.raises(IndexError, match=rf"{name}: seq ids must lie in \[0, {N_ITEMS}\]"):
        item_baseline.score_last(ids([[1, -1]]))


@pytest.mark.parametrize("bad", [[[1, 2], [3, -1]], [[1, 2], [3, N_ITEMS + 1]], [[1, 2]],
                                 [1, 2]], ids=["negative", "too large", "one row", "1-D"])
def test_item_baseline_bad_candidates(xp, item_baseline, bad):
    with pytest.raises((ValueError, IndexError),
                       match=f"{item_baseline.name()}: candidates (ids must lie|must have)"):
        item_baseline.score_last(ids(SEQ), ids(bad))


def test_item_baseline_empty_batch(xp, item_baseline):
    assert item_baseline.score_last(ids(np.zeros((0, 4), dtype=np.int64))).shape == (0, N_ITEMS)


@pytest.mark.parametrize("cls", [Pop, Markov])
def test_fit_on_ids_out_of_range(xp, record_property, cls):
    record_property("entry_point", cls.__name__)
    with pytest.raises(IndexError, match=rf"{cls.__name__}: item ids must lie in \[0, 6\]"):
        cls(N_ITEMS).fit([ids([1, 2]), ids([3, N_ITEMS + 1])])
    with pytest.raises(ValueError, match="no training histories"):
        cls(N_ITEMS).fit([ids([])])


# -- counting baselines of the next behaviour ---------------------------------------------------
def test_behaviour_baseline_bad_inputs(xp, behaviour_baseline):
    name = behaviour_baseline.name()
    mask = backend.asarray(np.ones((1, 3), dtype=bool))
    with pytest.raises(IndexError, match=rf"{name}: behaviour ids must lie in \[0, {K}\]"):
        behaviour_baseline(ids([[1, 2, K + 1]]), mask)
    with pytest.raises(IndexError, match=rf"{name}: behaviour ids must lie in \[0, {K}\]"):
        behaviour_baseline(ids([[-1, 2, 1]]), mask)
    with pytest.raises(TypeError, match=f"{name}: inputs must"):
        behaviour_baseline(ids([[1, 2, 1]]).astype(xp.float64), mask)
    with pytest.raises(ValueError, match=rf"{name}: inputs must have shape \(batch, time\)"):
        behaviour_baseline(ids([1, 2, 1]), mask)
    with pytest.raises(TypeError, match=f"{name}: mask must be boolean"):
        behaviour_baseline(ids([[1, 2, 1]]), mask.astype(xp.int64))
    with pytest.raises(ValueError, match=f"{name}: mask"):
        behaviour_baseline(ids([[1, 2, 1]]), backend.asarray(np.ones((1, 4), dtype=bool)))
    with pytest.raises(ValueError, match=f"{name}: every row needs at least one real event"):
        behaviour_baseline(ids([[1, 2, 1]]), ~mask)
    with pytest.raises(TypeError, match=f"{name}: inputs must be a {xp.name} array"):
        behaviour_baseline(other_backend(ids([[1, 2, 1]])), mask)


def test_behaviour_baseline_rows_and_empty_batch(xp, behaviour_baseline):
    """Row by row gives the batch result; an empty batch gives (0, C)."""
    inputs = ids([[0, 2, 3], [3, 3, 1]])
    mask = backend.asarray(np.array([[False, True, True], [True, True, True]]))
    batch = backend.to_numpy(behaviour_baseline(inputs, mask))
    for b in range(2):
        row = backend.to_numpy(behaviour_baseline(inputs[b:b + 1], mask[b:b + 1]))
        np.testing.assert_allclose(row, batch[b:b + 1], rtol=1e-12)
    assert np.isfinite(batch).all()
    empty = behaviour_baseline(inputs[:0], mask[:0])
    assert empty.shape == (0, K)


@pytest.mark.parametrize("targets", [[0, K], [-1, 0]], ids=["too large", "negative"])
def test_behaviour_baseline_fit_on_targets_out_of_range(xp, record_property, targets):
    record_property("entry_point", "MarkovBehaviour")
    inputs, mask = ids([[1, 2, 3], [3, 3, 1]]), backend.asarray(np.ones((2, 3), dtype=bool))
    with pytest.raises(IndexError, match=rf"MarkovBehaviour: targets must lie in \[0, {K}\)"):
        MarkovBehaviour(K, K).fit(inputs, ids(targets), mask)
