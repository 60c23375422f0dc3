"""The PyTorch counterparts of the whole models (minseq.bench.torch_models) compute minseq's
training loss and every gradient of it, on the same weights and batch (float64, dropout 0,
SASRec's negatives given); and PyTorch trains on the very run ``minseq train`` makes
(minseq.bench.torch_epochs)."""

import numpy as np
import pytest

from minseq import backend
from minseq.data import generate
from minseq.interop import torch_state_dict
from minseq.models.gru4rec import GRU4Rec
from minseq.models.lstm_classifier import LSTMClassifier
from minseq.models.sasrec import SASRec
from minseq.tasks.settings import RunSettings

B, T, N_ITEMS = 5, 7, 30
#: (id, minseq model built at dropout 0; its task's batch: "window", "binary" or "item")
MODELS = [
    ("lstm", lambda: LSTMClassifier(4, 4, d_model=6, dropout=0.0), "window"),
    ("lstm, 2 layers, categories, binary",
     lambda: LSTMClassifier(4, 1, d_model=6, num_layers=2, dropout=0.0, n_categories=3),
     "binary"),
    ("gru4rec", lambda: GRU4Rec(N_ITEMS, d_model=6, dropout=0.0), "item"),
    ("sasrec bce", lambda: SASRec(N_ITEMS, maxlen=T, d_model=6, dropout=0.0), "item"),
    ("sasrec gbce, 2 heads", lambda: SASRec(N_ITEMS, maxlen=T, d_model=6, num_heads=2,
                                            dropout=0.0, loss="gbce", loss_negatives=3), "item"),
    ("sasrec sampled-ce", lambda: SASRec(N_ITEMS, maxlen=T, d_model=6, dropout=0.0,
                                         loss="sampled-ce", loss_negatives=3), "item"),
    ("sasrec ce", lambda: SASRec(N_ITEMS, maxlen=T, d_model=6, dropout=0.0, loss="ce"), "item"),
]


def batch(kind, model, rng):
    """A left-padded training batch as minseq's pipelines make it, histories of 1 .. T
    events (a row of one event, a full row); SASRec's negatives drawn by minseq."""
    lengths = np.array([1, T, 3, 5, 2])
    mask = np.arange(T) >= T - lengths[:, None]
    if kind == "item":
        items = rng.integers(1, N_ITEMS + 1, size=(B, T + 1))
        inputs, targets = np.where(mask, items[:, :-1], 0), np.where(mask, items[:, 1:], 0)
        if isinstance(model, SASRec) and model.loss_name != "ce":
            return inputs, targets, mask, backend.to_numpy(model.negatives(targets))
        return inputs, targets, mask
    inputs = np.where(mask, rng.integers(1, 5, size=(B, T)), 0)
    if kind == "binary":
        category = np.where(mask, rng.integers(1, 4, size=(B, T)), 0)
        return np.stack([inputs, category], axis=-1), rng.integers(0, 2, B) * 1.0, mask
    return inputs, rng.integers(0, 4, B), mask


def torch_layout_grads(model):
    """minseq's gradients under the names and layouts of ``torch_state_dict``."""
    grads = model.copy()
    grads.load_state_dict(dict(model.named_grads()))
    return torch_state_dict(grads)


@pytest.mark.parametrize("make, kind", [m[1:] for m in MODELS], ids=[m[0] for m in MODELS])
def test_the_counterpart_computes_minseq_s_loss_and_gradients(torch, make, kind):
    from minseq.bench.torch_models import torch_model
    backend.manual_seed(0)
    model = make()
    model.astype("float64")
    data = batch(kind, model, np.random.default_rng(0))
    net = torch_model(model)
    loss = float(model.loss(tuple(backend.asarray(a) for a in data)))
    model.backward_loss()
    theirs = net.loss(tuple(torch.from_numpy(np.asarray(a)) for a in data))
    theirs.backward()
    assert theirs.item() == pytest.approx(loss, rel=1e-12)
    grads = torch_layout_grads(model)
    trained = {k: p for k, p in net.named_parameters() if p.requires_grad}
    # LSTM: bias_hh stands for nothing of minseq's (its b is bias_ih) and is not trained
    assert set(grads) - set(trained) <= {k for k in grads if k.endswith("bias_hh_l0")
                                         and isinstance(model, LSTMClassifier)}
    for name, p in trained.items():
        np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    assert sum(p.numel() for p in trained.values()) == model.num_parameters()


def test_a_model_without_a_counterpart_is_named(torch):
    from minseq.bench.torch_models import torch_model
    from minseq.models.mlp_counts import MLPCounts
    with pytest.raises(TypeError, match="no PyTorch counterpart of MLPCounts"):
        torch_model(MLPCounts(4, 4))


@pytest.mark.parametrize("model, task, kind, betas, clip", [
    ("sasrec", None, SASRec, (0.9, 0.98), None),
    ("lstm", "next-behaviour", LSTMClassifier, (0.9, 0.999), 5.0)])
def test_pytorch_trains_on_the_run_minseq_train_makes(torch, model, task, kind, betas, clip):
    """The TrainingRun of a run's settings is the model, batches, optimiser and clipping its
    task pipeline builds; PyTorch's epochs over it give one positive rate each."""
    from minseq.bench.torch_epochs import epoch_rates, training_run
    from minseq.bench.torch_models import torch_model
    run = RunSettings(model=model, task=task, model_settings=dict(
        maxlen=6, d_model=4, batch_size=16, epochs=2))
    training = training_run(run, generate(n_users=30, n_items=40, seed=0))
    net = training.net
    assert isinstance(net, kind)
    assert (net.lstms[0].hidden_size if kind is LSTMClassifier else net.d_model) == 4
    assert training.optimizer.betas == betas and training.clip == clip
    assert all(len(b[0]) <= 16 for b in training.batches) and len(training.batches) > 1
    rates = epoch_rates(torch, torch_model(net), training)
    assert len(rates) == 2 and all(r > 0 for r in rates)
