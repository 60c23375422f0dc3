"""The Trainer: the loop, clipping, NaN stop, early stopping, best-state restore, checkpoints."""

import math
import re

import numpy as np
import pytest

import minseq
from minseq import backend, checkpoint, nn, optim
from minseq.data import Batches
from minseq.plot import best_epoch, training_curves
from minseq.train import Trainer


class Regressor(nn.Sequential):
    """y = MLP(x), trained with MSE: the smallest model following the trainer protocol
    (with ``dropout`` > 0, a Dropout layer after the hidden one)."""

    def __init__(self, dropout=0.0):
        hidden = [nn.Linear(3, 8), nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else [])
        super().__init__(*hidden, nn.Linear(8, 1))
        self.criterion = nn.MSELoss()

    def loss(self, batch):
        x, y, _ = batch
        return self.criterion(self.forward(x), y)

    def backward_loss(self):
        self.backward(self.criterion.backward())


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    return x, y


def mse_on(model, x, y):
    return float(((backend.to_numpy(model(backend.asarray(x))) - y) ** 2).mean())


def test_training_lowers_the_loss(xp):
    minseq.manual_seed(0)
    model = Regressor()
    x, y = data()
    history = Trainer(model, optim.Adam(model, lr=0.02), progress=False).fit(
        Batches(x, y, batch_size=16, seed=0), epochs=20)
    assert history["train_loss"][-1] < 0.2 * history["train_loss"][0]
    assert history["epoch"] == list(range(1, 21))


def test_same_seed_same_history(xp):
    histories = []
    for _ in range(2):
        minseq.manual_seed(3)
        model = Regressor()
        x, y = data()
        histories.append(Trainer(model, optim.SGD(model, lr=0.05), progress=False).fit(
            Batches(x, y, batch_size=8, seed=1), epochs=3)["train_loss"])
    assert histories[0] == histories[1]


def test_nan_loss_names_epoch_and_step(xp):
    model = Regressor()
    x, y = data()
    y[20] = np.nan
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 1, step 2"):
        Trainer(model, optim.SGD(model, lr=0.1), progress=False).fit(
            Batches(x, y, batch_size=16, shuffle=False), epochs=1)


def test_early_stopping_restores_the_best_epoch(xp, tmp_path):
    minseq.manual_seed(0)
    model = Regressor()
    x, y = data()
    xv, yv = data(32, seed=1)
    scores = iter([0.5, 0.9, 0.4, 0.3, 0.2, 0.1])       # best at epoch 2, then worse
    snapshots = []

    def validate(m):
        snapshots.append(m.state_dict())
        return {"score": next(scores), "mse": mse_on(m, xv, yv)}

    history = Trainer(model, optim.Adam(model, lr=0.01), progress=False).fit(
        Batches(x, y, batch_size=16), epochs=6, validate=validate, monitor="score", patience=2,
        checkpoint_path=tmp_path / "best.npz", config={"kind": "regressor"})
    assert history["epoch"] == [1, 2, 3, 4] and history["best"] == 0.9
    for name, value in model.state_dict().items():
        assert np.array_equal(value, snapshots[1][name])
    config = checkpoint.load(tmp_path / "best.npz", Regressor())
    assert config["epoch"] == 2 and config["kind"] == "regressor"


def test_validation_runs_in_eval_mode(xp):
    """Dropout is on while training; validation must see every layer with training == False,
    so two validations of the same weights give the same metrics."""
    minseq.manual_seed(0)
    model = Regressor(dropout=0.5)
    x, y = data()
    xv, yv = data(32, seed=1)
    modes = []

    def validate(m):
        modes.extend(sub.training for sub in m.modules())
        return {"mse": mse_on(m, xv, yv), "mse again": mse_on(m, xv, yv)}

    history = Trainer(model, optim.SGD(model, lr=0.05), progress=False).fit(
        Batches(x, y, batch_size=16, seed=0), epochs=2, validate=validate)
    assert modes and not any(modes)
    assert history["mse"] == history["mse again"]


def test_clipping_bounds_the_update(xp):
    model = Regressor()
    x, y = data()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    Trainer(model, optim.SGD(model, lr=1.0), clip_norm=1e-3, progress=False).train_epoch(
        Batches(x, 1000 * y, batch_size=64))
    change = math.sqrt(sum(((model.state_dict()[k] - v) ** 2).sum() for k, v in before.items()))
    assert change <= 1e-3 * 1.0001


def test_model_without_the_protocol_is_a_clear_error(xp):
    with pytest.raises(TypeError, match="Trainer: Linear has no loss"):
        Trainer(nn.Linear(2, 2), optim.SGD(nn.Linear(2, 2), lr=0.1))


def test_unknown_monitor_is_a_clear_error(xp):
    model = Regressor()
    x, y = data()
    with pytest.raises(KeyError, match="monitor 'auc' is not among"):
        Trainer(model, optim.SGD(model, lr=0.1), progress=False).fit(
            Batches(x, y), epochs=1, validate=lambda m: {"mse": 1.0}, monitor="auc")


@pytest.mark.parametrize("kwargs, error", [
    ({"mode": "best"}, "Trainer.fit: mode must be 'max' or 'min', got 'best'"),
    ({"monitor": "mse"}, "Trainer.fit: monitor needs a validate function"),
], ids=["bad mode", "monitor without validate"])
def test_bad_fit_settings_are_clear_errors(xp, kwargs, error):
    model = Regressor()
    x, y = data()
    with pytest.raises(ValueError, match=error):
        Trainer(model, optim.SGD(model, lr=0.1), progress=False).fit(Batches(x, y), epochs=1,
                                                                     **kwargs)


def test_nan_monitor_is_a_clear_error(xp):
    model = Regressor()
    x, y = data()
    with pytest.raises(FloatingPointError, match="monitor 'mse' is nan at epoch 1"):
        Trainer(model, optim.SGD(model, lr=0.1), progress=False).fit(
            Batches(x, y), epochs=3, validate=lambda m: {"mse": float("nan")}, monitor="mse")


def test_training_curves_figure(xp, tmp_path):
    history = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "seconds": [0.1, 0.1], "hr@10": [0.2, 0.3],
               "best": 0.3}
    path = training_curves(history, tmp_path / "curves.png", "toy")
    assert path.exists() and path.stat().st_size > 1000


def test_progress_lines_and_the_early_stopping_line(xp, capsys):
    """Off a terminal: one line per epoch (loss, examples/s, elapsed, ETA, the validation
    metrics), and one line when early stopping fires, naming the best epoch and its value."""
    model = Regressor()
    scores = iter([0.5, 0.9, 0.4, 0.3])
    Trainer(model, optim.Adam(model, lr=0.01)).fit(
        Batches(*data(), batch_size=16), epochs=6, validate=lambda m: {"score": next(scores)},
        monitor="score", patience=2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 5 and lines[0].startswith("epoch 1/6  loss ")
    assert re.search(r"examples/s  elapsed \d+:\d\d  ETA \d+:\d\d", lines[0])
    assert lines[0].endswith("valid score 0.5000")
    assert lines[4] == ("early stopping at epoch 4: valid score has not improved for 2 epochs; "
                        "best epoch 2 (score 0.9000)")


def test_examples_per_second_are_the_training_pass(monkeypatch, capsys):
    """The epoch line's examples/s counts the training pass only: on a clock that moves 1 s
    per reading, a validation that takes 1000 s leaves the rate (64 examples over a few
    readings' seconds) far above the 64 / 1000 it would be if the validation counted."""
    clock = [0.0]

    def perf_counter():
        clock[0] += 1.0
        return clock[0]

    def validate(model):
        clock[0] += 1000.0
        return {"score": 0.5}

    monkeypatch.setattr("minseq.train.time.perf_counter", perf_counter)
    model = Regressor()
    Trainer(model, optim.SGD(model, lr=0.01)).fit(Batches(*data(), batch_size=64), epochs=1,
                                                  validate=validate)
    line = capsys.readouterr().err.splitlines()[0]
    rate = float(re.search(r"([\d,.]+) examples/s", line).group(1).replace(",", ""))
    assert 64 / 10 <= rate <= 64


def test_best_epoch_is_where_the_monitored_metric_reached_its_best():
    history = {"epoch": [1, 2, 3], "hr@10": [0.2, 0.4, 0.3], "best": 0.4}
    assert best_epoch(history, ["hr@10"]) == 2
    assert best_epoch(dict(history, best=None), ["hr@10"]) is None
