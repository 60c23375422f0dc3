"""The churn task: every classifier and the recency baseline train on it, a checkpoint
re-scores to the same metrics, and data without times stops with one line before training."""

import json

import numpy as np
import pytest

from minseq import backend, tasks
from minseq import metrics as minseq_metrics
from minseq.cli import main
from minseq.data import generate
from minseq.models.behaviour_baselines import Recency
from minseq.tasks import next_behaviour

SMALL = dict(epochs=1, batch_size=64, maxlen=6, d_model=8, dropout=0.0, num_heads=2,
             num_layers=1)
METRICS = {"auc", "pr_auc", "f1@0.5", "f1@valid", "threshold"}


@pytest.fixture(scope="module")
def table():
    return generate(n_users=120, seed=4)


@pytest.mark.parametrize("model", ["recency", "mlp", "lstm", "lstm-attn", "transformer"])
def test_every_classifier_and_recency_train_for_churn_and_reload(table, tmp_path, model):
    result = tasks.train(table, model, "churn", SMALL, out=tmp_path, quiet=True)
    assert set(result["metrics"]) == METRICS and result["task"] == "churn"
    assert 0.5 < result["metrics"]["auc"] <= 1
    again = tasks.evaluate(table, result["checkpoint"])
    assert again["metrics"] == pytest.approx(result["metrics"])


def test_recency_counts_churn_per_age_bucket_of_the_last_event(xp):
    # windows of [behaviour, age bucket]; last buckets 2, 2, 5, 5 (padding in front)
    x = xp.asarray([[[0, 0], [1, 2]], [[1, 9], [1, 2]], [[0, 0], [3, 5]], [[2, 7], [1, 5]]])
    mask = x[..., 0] != 0
    model = Recency(3, 1, n_categories=9).fit(x, xp.asarray([0.0, 0.0, 1.0, 0.0]), mask)
    p = backend.to_numpy(model.predict_proba(x, mask))
    np.testing.assert_allclose(p, [1 / 4, 1 / 4, 1 / 2, 1 / 2])   # (0 + 1) / 4, (1 + 1) / 4


def test_cli_runs_churn_end_to_end_with_progress_metrics_and_a_checkpoint(tmp_path, capsys):
    out, metrics = tmp_path / "run", tmp_path / "m.json"
    assert main(["train", "--model", "lstm", "--task", "churn", "--users", "80", "--epochs",
                 "2", "--maxlen", "6", "--d-model", "8", "--churn-days", "3", "--out", str(out),
                 "--metrics-out", str(metrics)]) == 0
    captured = capsys.readouterr()
    assert "epoch 2/2" in captured.err and "f1@valid" in captured.out
    result = json.loads(metrics.read_text())
    assert set(result["metrics"]) == METRICS and result["task"] == "churn"
    assert (out / "best.npz").exists() and (out / "curves.png").exists()


def test_cli_churn_reads_a_taobao_file(tmp_path, capsys):
    """The Done-when command: a Taobao UserBehavior CSV (the generated log written in it)."""
    log = generate(n_users=60, seed=2)
    raw = {"browse": "pv", "click": "pv", "cart": "cart", "favourite": "fav", "purchase": "buy"}
    names = [raw[n] for n in log.behaviour_names[1:]]
    data = tmp_path / "UserBehavior.csv"
    data.write_text("".join(f"{u},{i},{c},{names[b - 1]},{t}\n" for u, i, c, b, t in zip(
        log.user, log.item, log.category, log.behaviour, log.timestamp)))
    assert main(["train", "--task", "churn", "--model", "lstm", "--data", str(data), "--format",
                 "taobao", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert "pr_auc" in capsys.readouterr().out and (tmp_path / "run" / "best.npz").exists()


def test_days_change_the_labels(table, tmp_path):
    short, long = (next_behaviour.windows(table, "churn", dict(maxlen=4, churn_days=d),
                                          (table.timestamp.min(), table.timestamp.max()))
                   for d in (1, 14))
    assert short[1].mean() > long[1].mean()


def test_data_without_times_is_one_line_before_any_training(tmp_path, capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(next_behaviour, "fit", no_training)
    data = tmp_path / "log.txt"
    data.write_text("1 5\n1 6\n2 7\n2 5\n")
    assert main(["train", "--model", "lstm", "--task", "churn", "--data", str(data),
                 "--format", "user-item", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minseq train: churn needs event times") and err.count("\n") == 1


def test_churn_metrics_need_both_classes_for_auc_and_score_f1_over_two_classes():
    from minseq.tasks import churn
    p = np.array([0.1, 0.7, 0.2, 0.9])
    one_positive = churn.score(np.array([0, 1, 0, 0]), p)
    assert set(one_positive) == {"auc", "pr_auc", "f1@0.5"}
    assert one_positive["auc"] == pytest.approx(2 / 3)
    for y in ([0, 0, 0, 0], [1, 1, 1, 1]):
        assert set(churn.score(np.array(y), p)) == {"f1@0.5"}
    # no churner and none predicted: both classes are still counted
    nobody = churn.score(np.array([0, 0, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert nobody == {"f1@0.5": pytest.approx(
        minseq_metrics.precision_recall_f1(np.zeros(4, int), np.zeros(4, int), n_classes=2)[2])}


def test_the_validation_threshold_is_the_best_f1_one_and_one_half_without_both_classes():
    from minseq import metrics
    from minseq.tasks import churn
    p = np.array([0.1, 0.7, 0.2, 0.9])
    for y in ([0, 1, 0, 0], [0, 1, 0, 1]):
        best = metrics.best_f1_threshold(np.array(y), p)[0]
        assert churn.threshold(np.array(y), p) == best and best != 0.5
    for y in ([0, 0, 0, 0], [1, 1, 1, 1]):
        assert churn.threshold(np.array(y), p) == 0.5


def test_f1_at_the_validation_threshold_uses_that_threshold():
    from minseq.tasks import churn
    y, p = np.array([0, 1, 0, 1]), np.array([0.1, 0.7, 0.2, 0.9])
    got = churn.score(y, p, 0.8)
    assert got["f1@0.5"] == 1.0 and got["f1@valid"] == pytest.approx(2 / 3)
    assert got["threshold"] == 0.8


def test_churn_windows_of_a_split_are_cut_on_the_clock_given(table):
    from minseq.data.churn import churn_windows, clock
    from minseq.tasks import churn
    test_users = next_behaviour.split(table, 0)[2]
    s = dict(maxlen=5, churn_days=7.0)
    whole = clock(table)
    assert whole != clock(test_users)
    w = churn_windows(test_users, 5, 7.0, whole)
    got = churn.windows(test_users, s, whole)
    for mine, theirs in zip(got, (w.inputs, w.targets, w.mask)):
        assert np.array_equal(mine, theirs)
