"""Re-scoring a classifier's checkpoint: the model rebuilt in its dtype and tier, the test
users' windows at the checkpoint's maxlen, nothing printed."""

import re

import numpy as np
import pytest

from minseq import checkpoint, tasks
from minseq.data import generate
from minseq.tasks import next_behaviour

SMALL = dict(epochs=1, batch_size=64, maxlen=6, d_model=8, dropout=0.0)


@pytest.fixture(scope="module")
def log():
    return generate(n_users=60, seed=3)


@pytest.fixture(scope="module")
def trained(log, tmp_path_factory):
    out = tmp_path_factory.mktemp("lstm")
    result = tasks.train(log, "lstm", "next-behaviour", SMALL, out=out, quiet=True)
    return out / "best.npz", result


def test_evaluate_gives_the_training_runs_test_metrics_and_says_nothing(log, trained, capsys):
    path, result = trained
    capsys.readouterr()
    again = tasks.evaluate(log, path)
    assert again["metrics"] == pytest.approx(result["metrics"])
    assert again["model"] == "lstm" and again["checkpoint"] == str(path)
    assert capsys.readouterr().out == ""
    # the windows are cut at the checkpoint's maxlen, whatever the settings say
    assert tasks.evaluate(log, path, settings={"maxlen": 3})["metrics"] == again["metrics"]


def test_evaluate_rebuilds_the_model_in_its_dtype_and_tier(log, trained, tmp_path, monkeypatch):
    path, _ = trained
    seen, score = [], next_behaviour.score
    monkeypatch.setattr(next_behaviour, "score",
                        lambda net, *a, **kw: seen.append(net) or score(net, *a, **kw))
    checked, checked_windows = [], next_behaviour.checked_windows
    monkeypatch.setattr(next_behaviour, "checked_windows", lambda tables, *a: checked.append(
        list(tables)) or checked_windows(tables, *a))
    wide = tmp_path / "wide.npz"
    wide.write_bytes(path.read_bytes())
    checkpoint.annotate(wide, dtype="float64")
    for p, reference in ((path, False), (wide, False), (path, True)):
        tasks.evaluate(log, p, reference=reference)
    dtypes = [{str(v.dtype) for m in net.modules() for v in m.params.values()} for net in seen]
    assert dtypes == [{"float32"}, {"float64"}, {"float32"}]
    fast = [any(type(m).__module__.startswith("minseq.fast") for m in net.modules())
            for net in seen]
    assert fast == [True, True, False]
    assert checked == [["test"]] * 3


def test_a_checkpoint_of_other_behaviours_is_refused(log, trained):
    path, _ = trained
    config = checkpoint.read(path)[2]
    run = tasks.RunSettings.from_config(config)
    kwargs = dict(config["kwargs"], n_behaviours=log.n_behaviours + 1)
    with pytest.raises(ValueError, match=re.escape(
            f"evaluate: the checkpoint's model knows {log.n_behaviours + 1} behaviours, the "
            f"data has {log.n_behaviours}")):
        next_behaviour.evaluate(log, path, run, dict(config, kwargs=kwargs))


def test_training_validates_on_the_valid_users_and_keeps_the_data_in_the_checkpoint(
        log, tmp_path, monkeypatch, capsys):
    fits, fit = [], next_behaviour.fit
    monkeypatch.setattr(next_behaviour, "fit", lambda run, size, train, valid, **kw: fits.append(
        (valid, kw)) or fit(run, size, train, valid, **kw))
    chosen, threshold = [], next_behaviour.churn.threshold
    monkeypatch.setattr(next_behaviour.churn, "threshold",
                        lambda y, p: chosen.append(y) or threshold(y, p))
    capsys.readouterr()
    tasks.train(log, "mlp", "churn", SMALL, out=tmp_path, quiet=False)
    printed = capsys.readouterr().out.splitlines()
    parts = next_behaviour.split(log, 0)
    users = [int((t.lengths() > 0).sum()) for t in parts]
    assert printed[1] == f"split     by user: train {users[0]}, valid {users[1]}, test " \
                         f"{users[2]} users"
    task = next_behaviour.task_of("churn")
    s = tasks.RunSettings(model="mlp", task=task, model_settings=SMALL).model_settings
    valid = next_behaviour.windows(parts[1], task, s, next_behaviour.clock_of(log, task))
    (validated, kw), = fits
    assert np.array_equal(validated[1], valid[1]) and np.array_equal(chosen[0], valid[1])
    config = checkpoint.read(tmp_path / "best.npz")[2]
    assert config["data"] == {"source": "synthetic(seed=3)"} and "threshold" in config
    assert "item" in checkpoint.vocabularies(tmp_path / "best.npz")


def test_a_quiet_classifier_run_says_nothing_and_keeps_no_threshold(log, tmp_path, capsys):
    capsys.readouterr()
    tasks.train(log, "mlp", "next-behaviour", SMALL, out=tmp_path, quiet=True)
    assert capsys.readouterr().out == ""
    assert "threshold" not in checkpoint.read(tmp_path / "best.npz")[2]
