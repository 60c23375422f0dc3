"""The next-behaviour classifiers: each forward is its layers composed by hand, padding never
changes a prediction, the loss path's gradient is the numerical one, and on a synthetic log the
order-aware models beat the MLP over counts and the popularity baseline."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minseq
from minseq import backend, tasks
from minseq.cli import main
from minseq.data import generate
from minseq.gradcheck import check_module, numerical_gradient
from minseq.models import registry
from minseq.models.behaviour_baselines import MarkovBehaviour, PopularClass
from minseq.models.lstm_attention import LSTMAttentionClassifier
from minseq.models.lstm_classifier import LSTMClassifier
from minseq.models.mlp_counts import MLPCounts
from minseq.models.transformer_classifier import TransformerClassifier

K = 5  # behaviours 1..5


def models(C, n_categories=0):
    return [MLPCounts(K, C, d_model=6, n_categories=n_categories),
            LSTMClassifier(K, C, d_model=4, embed_dim=3, num_layers=2, n_categories=n_categories),
            LSTMAttentionClassifier(K, C, d_model=4, embed_dim=3, n_categories=n_categories),
            TransformerClassifier(K, C, d_model=4, num_heads=2, num_layers=2, maxlen=8,
                                  n_categories=n_categories)]


def host(a):
    return backend.to_numpy(a)


def window(xp, ids, T, front=True):
    """One row of T slots holding ``ids``: padding in front (or behind) and its mask."""
    pad = [0] * (T - len(ids))
    row = pad + list(ids) if front else list(ids) + pad
    return (xp.asarray([row], dtype=xp.int64), xp.asarray([[r != 0 for r in row]]))


# -- forward = the layers composed by hand -----------------------------------------------------

def test_mlp_counts_forward_by_hand(xp):
    model = MLPCounts(K, 3, d_model=6).eval()
    x, m = window(xp, [1, 1, 3, 5], 6)
    counts = np.array([[2, 0, 1, 0, 1]])                           # per behaviour
    W1, b1, W2, b2 = (host(model.net[i].params[k]) for i in (0, 3) for k in ("W", "b"))
    expected = np.maximum(counts @ W1 + b1, 0) @ W2 + b2
    np.testing.assert_allclose(host(model(x, m)), expected, rtol=1e-5, atol=1e-6)
    # order-blind: a permutation of the window gives the same logits
    x2, m2 = window(xp, [5, 3, 1, 1], 6)
    np.testing.assert_allclose(host(model(x2, m2)), host(model(x, m)), rtol=1e-6)


def test_lstm_forward_by_hand(xp):
    model = LSTMClassifier(K, K, d_model=4, embed_dim=3, num_layers=2).eval()
    ids = [2, 1, 4]
    x, m = window(xp, ids, 6)
    h = model.embed(xp.asarray([ids]))
    for lstm in model.lstms:
        h, (h_n, _) = lstm(h)                         # unpadded, no mask
    expected = model.head(h_n)
    np.testing.assert_allclose(host(model(x, m)), host(expected), rtol=1e-5, atol=1e-6)


def test_lstm_attention_forward_by_hand(xp):
    model = LSTMAttentionClassifier(K, K, d_model=4, embed_dim=3).eval()
    ids = [2, 1, 4, 4]
    x, m = window(xp, ids, 7, front=False)
    logits = host(model(x, m))
    hs = host(model.lstm(model.embed(xp.asarray([ids])))[0])[0]  # (4, H) real steps only
    h_n = hs[-1]
    s = hs @ h_n / np.sqrt(4)                                    # one score per step
    alpha = np.exp(s - s.max()) / np.exp(s - s.max()).sum()      # ONE softmax over time
    context = alpha @ hs                                         # weighted SUM of the states
    W, b = host(model.head.params["W"]), host(model.head.params["b"])
    np.testing.assert_allclose(logits, [np.concatenate([context, h_n]) @ W + b],
                               rtol=1e-5, atol=1e-6)
    model(x, m)
    weights = host(model.attention_weights)[0]
    np.testing.assert_allclose(weights[:4], alpha, rtol=1e-5)
    assert (weights[4:] == 0).all() and abs(weights.sum() - 1) < 1e-6


def test_transformer_forward_by_hand(xp):
    model = TransformerClassifier(K, K, d_model=4, num_heads=2, num_layers=2, maxlen=8).eval()
    x, m = window(xp, [3, 1, 2], 5)                              # padding in front
    z = model.positions(model.embed(x))
    z = model.encoder(z, mask=m[:, None, :])
    expected = model.head(z[:, -1])                               # the last real slot
    np.testing.assert_allclose(host(model(x, m)), host(expected), rtol=1e-5, atol=1e-6)


# -- masking: padding never changes a prediction ------------------------------------------------

@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("categories", [0, 3])
def test_padding_is_masked_everywhere(xp, index, categories):
    model = models(K, categories)[index].eval()
    rng = np.random.default_rng(index)
    ids = rng.integers(1, K + 1, 4)
    if categories:
        ids = np.stack([ids, rng.integers(1, categories + 1, 4)], axis=-1)
    alone = xp.asarray(ids[None])
    behind = xp.asarray(np.concatenate([ids, np.zeros_like(ids[:3])])[None])
    mask_alone = xp.ones((1, 4), dtype=bool)
    mask_behind = xp.asarray([[True] * 4 + [False] * 3])
    np.testing.assert_allclose(host(model(behind, mask_behind)), host(model(alone, mask_alone)),
                               rtol=1e-5, atol=1e-6)
    if index != 3:  # the transformer's positions are absolute slots: front padding moves them
        front = xp.asarray(np.concatenate([np.zeros_like(ids[:3]), ids])[None])
        np.testing.assert_allclose(host(model(front, mask_behind[:, ::-1].copy())),
                                   host(model(alone, mask_alone)), rtol=1e-5, atol=1e-6)


# -- gradients -----------------------------------------------------------------------------------

@given(B=st.integers(1, 3), T=st.integers(1, 5), C=st.sampled_from([1, 3]),
       index=st.integers(0, 3), seed=st.integers(0, 1000))
def test_gradcheck_random_shapes(xp, B, T, C, index, seed):
    minseq.manual_seed(seed)
    model = [MLPCounts(3, C, d_model=5),
             LSTMClassifier(3, C, d_model=3, embed_dim=2),
             LSTMAttentionClassifier(3, C, d_model=3, embed_dim=2),
             TransformerClassifier(3, C, d_model=4, num_heads=2, num_layers=1, maxlen=5,
                                   dropout=0.0)
             ][index]
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, B)
    mask = np.arange(T)[None, :] < lengths[:, None]
    ids = np.where(mask, rng.integers(1, 4, (B, T)), 0)
    errors = check_module(model, xp.asarray(ids), mask=xp.asarray(mask), tol=1e-5)
    assert max(errors.values()) < 1e-5


@pytest.mark.parametrize("index", range(4))
def test_backward_loss_is_the_gradient_of_the_loss(xp, index):
    """The trainer protocol end to end (binary target, BCE): loss() then backward_loss()."""
    model = models(1)[index].astype(xp.float64)
    for m in model.modules():
        if hasattr(m, "p"):
            m.p = 0.0
    x = xp.asarray([[0, 2, 1, 5], [3, 3, 4, 1]])
    mask = x != 0
    y = xp.asarray([1.0, 0.0])
    model.loss((x, y, mask))
    model.backward_loss()
    name, W = next((n, p) for n, p in model.named_parameters() if n.endswith("head.W")
                   or n == "net.layers.3.W")
    analytic = host(dict(model.named_grads())[name])
    numeric = host(numerical_gradient(lambda: model.loss((x, y, mask)), W))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


# -- bad input -----------------------------------------------------------------------------------

def test_bad_inputs_name_the_model(xp):
    model = LSTMClassifier(K, K, d_model=4, embed_dim=3)
    ok = xp.asarray([[1, 2, 3]])
    full = xp.ones((1, 3), dtype=bool)
    with pytest.raises(TypeError, match="LSTMClassifier: inputs must hold integer ids"):
        model(ok.astype(xp.float32), full)
    with pytest.raises(ValueError, match=r"LSTMClassifier: mask \(batch, time\) must have shape"):
        model(ok, xp.ones((1, 4), dtype=bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        model(ok, xp.ones((1, 3)))
    with pytest.raises(ValueError, match="at least one real event"):
        model(ok, xp.zeros((1, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, time, 2\)"):
        MLPCounts(K, K, n_categories=3)(ok, full)
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        model.backward(xp.zeros((1, K), dtype=xp.float32))


# -- baselines -----------------------------------------------------------------------------------

def test_baselines_count(xp):
    x = xp.asarray([[0, 1], [0, 1], [0, 2], [3, 2]])                # last behaviours 1, 1, 2, 2
    mask = x != 0
    y = xp.asarray([1, 1, 0, 2])
    pop = PopularClass(3, 3).fit(x, y, mask)
    np.testing.assert_allclose(host(pop.predict_proba(x, mask))[0], [2 / 7, 3 / 7, 2 / 7])
    markov = MarkovBehaviour(3, 3).fit(x, y, mask)
    p = host(markov.predict_proba(x, mask))
    np.testing.assert_allclose(p[0], [1 / 5, 3 / 5, 1 / 5])          # after 1: (0, 2, 0) + 1
    np.testing.assert_allclose(p[2], [2 / 5, 1 / 5, 2 / 5])          # after 2: (1, 0, 1) + 1
    binary = MarkovBehaviour(3, 1).fit(x, xp.asarray([1.0, 1.0, 0.0, 1.0]), mask)
    np.testing.assert_allclose(host(binary.predict_proba(x, mask)), [3 / 4, 3 / 4, 1 / 2, 1 / 2])


# -- training on a synthetic log --------------------------------------------------------------

def train(table, model, tmp_path, task="next-behaviour", **settings):
    """``tasks.train`` with small settings (a model ignores those it does not have)."""
    small = dict(epochs=3, batch_size=64, maxlen=8, d_model=16, dropout=0.0)
    return tasks.train(table, model, task, dict(small, **settings), out=tmp_path / model,
                       quiet=True)


def test_order_aware_models_beat_counts_and_popularity(tmp_path):
    table = generate(n_users=200, seed=0)
    acc = {m: train(table, m, tmp_path)["metrics"]["accuracy"]
           for m in ("popular-class", "mlp", "lstm", "lstm-attn", "transformer")}
    floor = max(acc["popular-class"], acc["mlp"])
    for m in ("lstm", "lstm-attn", "transformer"):
        assert acc[m] > floor + 0.03, acc


def test_same_seed_same_loss_history(tmp_path):
    table = generate(n_users=60, seed=1)
    runs = [train(table, "transformer", tmp_path, epochs=2, dropout=0.1)["history"]["train_loss"]
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 2


def test_cli_train_then_evaluate(tmp_path, capsys):
    metrics = tmp_path / "m.json"
    out = tmp_path / "run"
    assert main(["train", "--model", "lstm", "--task", "next-behaviour", "--data", "synthetic",
                 "--users", "80", "--epochs", "2", "--maxlen", "6", "--d-model", "8",
                 "--out", str(out), "--metrics-out", str(metrics), "--quiet"]) == 0
    result = json.loads(metrics.read_text())
    assert set(result["metrics"]) == {"accuracy", "macro_f1"} and result["epochs"] == 2
    assert (out / "best.npz").exists() and (out / "curves.png").exists()
    again = tmp_path / "again.json"
    assert main(["evaluate", str(out / "best.npz"), "--users", "80",
                 "--metrics-out", str(again)]) == 0
    assert json.loads(again.read_text())["metrics"] == result["metrics"]


@pytest.mark.parametrize("model", ["popular-class", "markov-behaviour", "mlp"])
def test_will_purchase_reports_auc_and_baselines_reload(tmp_path, model):
    table = generate(n_users=80, seed=2)
    result = train(table, model, tmp_path, task="will-purchase")
    assert set(result["metrics"]) == {"accuracy", "macro_f1", "auc"}
    again = tasks.evaluate(table, result["checkpoint"])
    assert again["metrics"] == pytest.approx(result["metrics"])


def test_cli_baselines_take_the_behaviour_tasks(tmp_path, capsys):
    for model in ("popular-class", "markov-behaviour"):
        assert main(["train", "--model", model, "--task", "next-behaviour", "--users", "40",
                     "--out", str(tmp_path / model), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("accuracy") == 2 and out.count("macro_f1") == 2


def test_settings_come_from_the_registry_and_a_foreign_task_is_a_clear_error(tmp_path):
    assert tasks.settings_for("lstm", {"num_layers": 3, "num_heads": 2, "lr": None}) == dict(
        registry.MODELS["lstm"].settings, num_layers=3)
    table = generate(n_users=20, seed=0)
    with pytest.raises(ValueError, match="lstm is a next-behaviour model.*not next-item"):
        tasks.train(table, "lstm", task="next-item", out=tmp_path)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--model", "sasrec", "--task", "will-purchase", "--users", "20",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minseq train: sasrec is a next-item model") and err.count("\n") == 1
