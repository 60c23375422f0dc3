"""Top-k recommendations from a next-item checkpoint: raw ids in and out through the
checkpoint's vocabularies, the history's items left out unless asked, best first."""

import dataclasses
import re

import numpy as np
import pytest

from minseq import backend, checkpoint, tasks
from minseq.data import generate
from minseq.tasks.recommend import Recommender

N_ITEMS, MAXLEN = 40, 8


@pytest.fixture(scope="module")
def log():
    return generate(n_users=30, n_items=N_ITEMS, seed=0)


@pytest.fixture(scope="module")
def rec_path(log, tmp_path_factory):
    """A SASRec checkpoint whose item vocabulary is rewritten to raw ids B001..B040, so that
    raw and dense ids differ."""
    out = tmp_path_factory.mktemp("rec")
    tasks.train(log, "sasrec", settings=dict(epochs=1, batch_size=64, maxlen=MAXLEN, d_model=8),
                out=out, quiet=True)
    trained = Recommender(out / "best.npz")
    raw = np.array(["-"] + [f"B{i:03d}" for i in range(1, N_ITEMS + 1)])
    path = checkpoint.save(out / "raw.npz", trained.model, None, trained.config,
                           {"vocab/item": raw, "vocab/user": trained.vocab["user"]})
    return path


@pytest.fixture
def rec(rec_path):
    return Recommender(rec_path)


def scores_of(rec, history):
    """score_last of the history padded in front to maxlen: column j scores dense item j + 1."""
    seq = np.zeros((1, MAXLEN), dtype=np.int64)
    tail = np.asarray(history)[-MAXLEN:]
    seq[0, MAXLEN - len(tail):] = tail
    return backend.to_numpy(rec.model.score_last(backend.asarray(seq)))[0].astype(np.float64)


def test_raw_item_ids_map_to_dense_ids_and_unknown_ones_are_named(rec):
    assert rec.items_of(["B001", "B007", "B040"]).tolist() == [1, 7, 40]
    assert rec.items_of(["B007"]).dtype == np.int64 and rec.items_of([]).dtype == np.int64
    with pytest.raises(ValueError, match=re.escape(
            "item(s) X1, X2, X3, X4, X5 not in the checkpoint's vocabulary of 40 items")):
        rec.items_of(["B001", "X1", "X2", "X3", "X4", "X5", "X6"])


def test_a_users_history_is_read_by_raw_user_id(rec, log):
    user = int(log.user_vocab[3])
    assert rec.history_of(log, user).tolist() == log.item[log.user_events(3)].tolist()
    assert rec.history_of(log, str(user)).tolist() == log.item[log.user_events(3)].tolist()
    with pytest.raises(ValueError, match=re.escape("user 999 is not in synthetic(seed=0)")):
        rec.history_of(log, 999)
    with pytest.raises(ValueError, match="user 0 is not in"):        # 0 is the padding
        rec.history_of(log, 0)
    with pytest.raises(ValueError, match=re.escape("user 999 is not in the data")):
        rec.history_of(dataclasses.replace(log, meta={}), 999)


def test_top_k_is_best_first_in_raw_ids_without_the_history(rec):
    history = [3, 5, 3, 9, 1, 2, 4, 6, 7, 8, 10]           # longer than maxlen: its last items
    scores = scores_of(rec, history)
    got = rec.top_k(history, k=5)
    unseen = [j for j in np.argsort(-scores, kind="stable") if j + 1 not in history]
    assert got == [(f"B{j + 1:03d}", pytest.approx(scores[j])) for j in unseen[:5]]
    assert all(isinstance(s, float) for _, s in got)
    everything = rec.top_k(history, k=N_ITEMS)                   # the seen ones are left out
    assert {r for r, _ in everything} == {f"B{i:03d}" for i in range(1, N_ITEMS + 1)
                                          if i not in history}
    assert {r for r, _ in rec.top_k([1, 2], k=N_ITEMS)} == {
        f"B{i:03d}" for i in range(3, N_ITEMS + 1)}
    with_seen = rec.top_k(history, k=N_ITEMS, include_seen=True)
    assert [r for r, _ in with_seen] == [f"B{j + 1:03d}" for j in
                                         np.argsort(-scores, kind="stable")]
    assert rec.top_k(history) == rec.top_k(history, k=10) and len(rec.top_k(history)) == 10
    short = [3, 5]                                  # shorter than maxlen: padded in front
    scores = scores_of(rec, short)
    assert rec.top_k(short, k=3, include_seen=True) == [
        (f"B{j + 1:03d}", pytest.approx(scores[j])) for j in np.argsort(-scores)[:3]]


def test_a_checkpoint_that_cannot_recommend_is_refused(rec, log, tmp_path):
    clf = tmp_path / "clf"
    tasks.train(log, "popular-class", "next-behaviour", out=clf, quiet=True)
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(
            f"checkpoint {clf / 'best.npz'} holds a 'popular-class' model; recommend needs a "
            f"next-item model (gru4rec, sasrec, pop, markov)")):
        Recommender(clf / "best.npz")
    bare = checkpoint.save(tmp_path / "bare.npz", rec.model, None, rec.config)
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(
            f"checkpoint {bare} holds no item vocabulary (written before checkpoints kept "
            f"one)")):
        Recommender(bare)
    nameless = checkpoint.save(tmp_path / "nameless.npz", rec.model, None, {})
    with pytest.raises(checkpoint.CheckpointError, match="holds a None model"):
        Recommender(nameless)


def test_a_recommender_keeps_its_path_and_scores_in_eval_mode(rec, tmp_path):
    assert rec.path.name == "raw.npz" and rec.config["model"] == "sasrec"
    assert not rec.model.training

