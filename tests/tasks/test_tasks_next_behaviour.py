"""Re-scoring a classifier's checkpoint: the model rebuilt in its dtype and tier, the test
users' windows at the checkpoint's maxlen, nothing printed."""

import re
import time

import numpy as np
import pytest
from built_nets import dtypes_of, fast_tier

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
    assert dtypes_of(seen) == [{"float32"}, {"float64"}, {"float32"}]
    assert fast_tier(seen) == [True, True, False]
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


# -- the pieces of a classifier run, one by one ---------------------------------------------

class Fixed:
    """A stand-in classifier whose probabilities are given: ``n_classes`` 1 (binary) or K."""

    def __init__(self, p, n_classes=1, dtype="float32"):
        self.p, self.n_classes, self.dtype, self.mode = p, n_classes, dtype, "train"

    def eval(self):
        self.mode = "eval"

    def predict_proba(self, inputs, mask):
        return next_behaviour.xp.asarray(self.p[:len(inputs)])

    def named_parameters(self):
        yield "w", next_behaviour.xp.zeros(1, dtype=self.dtype)


def windows_of(y):
    """(inputs, targets, mask) of len(y) one-step windows with targets ``y``."""
    n = len(y)
    return np.ones((n, 1), dtype=np.int64), np.asarray(y), np.ones((n, 1), dtype=bool)


def test_the_users_are_split_70_15_15_by_the_runs_seed(log):
    parts = next_behaviour.split(log, 5)
    assert [int((t.lengths() > 0).sum()) for t in parts] == [42, 9, 9]
    train, rest = next_behaviour.split_by_user(log, 0.3, seed=5)
    valid, test = next_behaviour.split_by_user(rest, 0.5, seed=5)
    for got, want in zip(parts, (train, valid, test)):
        assert np.array_equal(got.user, want.user)
    assert not np.array_equal(next_behaviour.split(log, 0)[2].user, test.user)


def test_a_split_without_windows_names_the_task_and_the_settings_that_cut_them(log):
    first = log.select(log.position() == 0)         # one event a user: no window at all
    s = dict(maxlen=6, churn_days=7.0)
    for task, end in ((next_behaviour.task_of("next-behaviour"), ")"),
                      (next_behaviour.task_of("will-purchase"), " and horizon 5)")):
        with pytest.raises(ValueError, match=re.escape(
                f"next_behaviour: no {task} examples (users too short or too few for maxlen 6"
                f"{end}")) as e:
            next_behaviour.windows(first, task, s)
        assert str(e.value).endswith("maxlen 6" + end)
    churn = next_behaviour.task_of("churn")
    with pytest.raises(ValueError, match=re.escape(
            "next_behaviour: no churn examples (users too short or too few for maxlen 6 and "
            "7.0 churn days)")):
        next_behaviour.windows(log.select(log.user < 0), churn, s, next_behaviour.clock_of(
            log, churn))


def test_churn_windows_are_cut_on_the_clock_given(log, monkeypatch):
    seen, windows = [], next_behaviour.churn.windows
    monkeypatch.setattr(next_behaviour.churn, "windows",
                        lambda table, s, clock: seen.append(clock) or windows(table, s, clock))
    task = next_behaviour.task_of("churn")
    clock = next_behaviour.clock_of(log, task)
    next_behaviour.windows(next_behaviour.split(log, 0)[1], task, dict(maxlen=6, churn_days=7.0),
                           clock)
    assert seen == [clock] and clock is not None


def test_only_churn_has_a_clock_and_it_is_the_whole_logs(log):
    task = next_behaviour.task_of("churn")
    assert next_behaviour.clock_of(log, task) == next_behaviour.churn.check(log)
    assert next_behaviour.clock_of(log, next_behaviour.task_of("next-behaviour")) is None
    assert next_behaviour.clock_of(log, next_behaviour.task_of("will-purchase")) is None


def test_checked_windows_checks_each_split_for_its_task_and_says_their_classes(log, monkeypatch,
                                                                                capsys):
    checked, check = [], next_behaviour.check_balance
    monkeypatch.setattr(next_behaviour, "check_balance", lambda counts, task, s: checked.append(
        (list(counts), task, s)) or check(counts, task, s))
    run = tasks.RunSettings(model="mlp", task="next-behaviour", model_settings=SMALL)
    train, valid, _ = next_behaviour.split(log, 0)
    capsys.readouterr()
    parts = next_behaviour.checked_windows({"train": train, "valid": valid}, run, None,
                                           log.behaviour_names)
    assert checked == [(["train", "valid"], run.task, run.model_settings)]
    counts = [next_behaviour.class_counts(p[1], run.task, log.behaviour_names) for p in parts]
    assert capsys.readouterr().out == (f"windows   train {next_behaviour.balance(counts[0])}; "
                                       f"valid {next_behaviour.balance(counts[1])}\n")
    next_behaviour.checked_windows({"train": train}, run.replace(quiet=True), None,
                                   log.behaviour_names)
    assert capsys.readouterr().out == ""


def test_probabilities_of_no_windows_have_the_models_shape_and_dtype():
    none = windows_of(np.zeros(0))
    for model, shape, dtype in ((Fixed([]), (0,), "float32"),
                                (Fixed([], n_classes=4), (0, 4), "float32"),
                                (Fixed([], dtype="float64"), (0,), "float64")):
        p = next_behaviour.probabilities(model, none)
        assert p.shape == shape and str(p.dtype) == dtype and model.mode == "eval"


def test_a_binary_score_is_accuracy_macro_f1_over_both_classes_and_auc_with_both():
    task = next_behaviour.task_of("will-purchase")
    # predicted 1, 1, 1, 0 for 1, 0, 1, 1: class 1's F1 2/3, class 0's 0
    got = next_behaviour.score(Fixed([0.9, 0.6, 0.7, 0.2]), windows_of([1.0, 0.0, 1.0, 1.0]),
                               task)
    assert got == pytest.approx({"accuracy": 0.5, "macro_f1": 1 / 3, "auc": 2 / 3})
    # all 0, predicted 0: class 1 is there, with F1 0
    assert next_behaviour.score(Fixed([0.1, 0.2]), windows_of([0.0, 0.0]), task) == {
        "accuracy": 1.0, "macro_f1": 0.5}
    assert set(next_behaviour.score(Fixed([0.1, 0.2]), windows_of([1.0, 1.0]), task)) == {
        "accuracy", "macro_f1"}
    assert set(next_behaviour.score(Fixed([0.1, 0.2, 0.3]), windows_of([1.0, 0.0, 0.0]),
                                    task)) == {"accuracy", "macro_f1", "auc"}


def test_a_behaviour_score_averages_f1_over_every_class_of_the_model():
    p = np.array([[0.8, 0.1, 0.1, 0.0], [0.1, 0.8, 0.1, 0.0], [0.1, 0.1, 0.8, 0.0]])
    got = next_behaviour.score(Fixed(p, n_classes=4), windows_of(np.array([0, 1, 1])),
                               next_behaviour.task_of("next-behaviour"))
    # class 0: 1; class 1: P 1, R 1/2, F1 2/3; classes 2 and 3: 0
    assert got == pytest.approx({"accuracy": 2 / 3, "macro_f1": (1 + 2 / 3) / 4})


def test_a_classifier_trains_with_adam_at_its_rate_on_batches_of_its_size_and_seed():
    net = next_behaviour.MODELS["mlp"].cls(n_behaviours=5, n_classes=5, d_model=4)
    assert next_behaviour.optimizer_for(net, {"lr": 0.0125}).lr == 0.0125
    train = windows_of(np.arange(10))
    batches = next_behaviour.training_batches(train, {"batch_size": 3}, 7)
    assert batches.batch_size == 3 and len(batches) == 4
    assert np.array_equal(batches.rng.permutation(10), np.random.default_rng(7).permutation(10))


def parts_for(log, run):
    """The train, valid and test windows of ``log`` for ``run``."""
    tables = dict(zip(("train", "valid", "test"), next_behaviour.split(log, run.seed)))
    return next_behaviour.checked_windows(tables, run.replace(quiet=True), None,
                                          log.behaviour_names)


def test_fit_says_the_models_size_only_for_a_run_that_writes_a_folder(log, tmp_path, capsys):
    run = tasks.RunSettings(model="mlp", task="will-purchase", model_settings=SMALL)
    train, valid, _ = parts_for(log, run)
    size = next_behaviour.sizes(log, run.task)
    capsys.readouterr()
    fitted = next_behaviour.fit(run.replace(out=tmp_path), size, train, valid)
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"model     mlp: {fitted.net.num_parameters():,} parameters"
    next_behaviour.fit(run, size, train, valid)
    next_behaviour.fit(run.replace(out=tmp_path / "quiet", quiet=True), size, train, valid)
    assert not any(line.startswith("model") for line in capsys.readouterr().out.splitlines())


def test_fit_trains_in_the_runs_dtype_and_keeps_its_task_data_and_vocabularies(log, tmp_path,
                                                                                monkeypatch):
    calls, fit_epochs = [], next_behaviour.fit_epochs
    monkeypatch.setattr(next_behaviour, "fit_epochs", lambda *a, **kw: calls.append(kw) or
                        fit_epochs(*a, **kw))
    run = tasks.RunSettings(model="mlp", task="will-purchase", model_settings=SMALL,
                            dtype="float64", out=tmp_path, quiet=True)
    train, valid, _ = parts_for(log, run)
    vocab = next_behaviour.vocab_arrays(log)
    before = time.perf_counter()
    fitted = next_behaviour.fit(run, next_behaviour.sizes(log, run.task), train, valid,
                                provenance=({"source": "here"}, vocab), label="fold 1/2 ")
    elapsed = time.perf_counter() - before
    assert 0 < fitted.seconds <= elapsed
    assert {str(v.dtype) for m in fitted.net.modules() for v in m.params.values()} == {"float64"}
    (kw,), = [calls]
    assert kw["label"] == "fold 1/2 " and kw["monitor"] == "auc" and kw["vocab"] is vocab
    assert kw["config"]["horizon"] == 5 and kw["config"]["data"] == {"source": "here"}
    assert kw["validate"](fitted.net) == next_behaviour.score(fitted.net, valid, run.task)
    config = checkpoint.read(tmp_path / "best.npz")[2]
    assert config["horizon"] == 5 and config["data"] == {"source": "here"}
    assert "item" in checkpoint.vocabularies(tmp_path / "best.npz")
    # without validation: no monitor, every epoch
    next_behaviour.fit(run.replace(out=None), next_behaviour.sizes(log, run.task), train, None)
    assert calls[1]["monitor"] is None and calls[1]["validate"] is None
    assert calls[1]["label"] == ""


def test_a_fit_is_made_again_by_its_runs_seed_and_not_by_another(log):
    """The seed sets both the first weights and the order of the batches: the same seed gives
    the same trained weights, another seed other ones."""
    def weights(seed):
        run = tasks.RunSettings(model="mlp", task="will-purchase", model_settings=SMALL,
                                seed=seed, quiet=True)
        train, valid, _ = parts_for(log, run.replace(seed=0))      # the same windows each time
        net = next_behaviour.fit(run, next_behaviour.sizes(log, run.task), train, valid).net
        return [np.asarray(v) for m in net.modules() for v in m.params.values()]

    first, again, other = weights(5), weights(5), weights(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_a_fitted_baseline_is_saved_at_epoch_0_with_its_data_and_has_no_epochs(log, tmp_path):
    run = tasks.RunSettings(model="popular-class", task="will-purchase", quiet=True)
    train, valid, _ = parts_for(log, run)
    size = next_behaviour.sizes(log, run.task)
    vocab = next_behaviour.vocab_arrays(log)
    before = time.perf_counter()
    fitted = next_behaviour.fit(run.replace(out=tmp_path), size, train, valid,
                                provenance=({"source": "here"}, vocab))
    assert 0 < fitted.seconds <= time.perf_counter() - before
    assert fitted.history == {"epoch": [], "train_loss": [], "seconds": []}
    config = checkpoint.read(tmp_path / "best.npz")[2]
    assert config["epoch"] == 0 and config["horizon"] == 5 and config["data"] == {
        "source": "here"}
    assert "item" in checkpoint.vocabularies(tmp_path / "best.npz")
    # without a folder nothing is written
    assert next_behaviour.fit(run, size, train, valid).history["epoch"] == []


def test_finish_gives_the_test_metrics_and_the_runs_record_and_keeps_no_threshold(log, tmp_path):
    run = tasks.RunSettings(model="mlp", task="will-purchase", model_settings=SMALL,
                            out=tmp_path, quiet=True)
    train, valid, test = parts_for(log, run)
    fitted = next_behaviour.fit(run, next_behaviour.sizes(log, run.task), train, valid)
    result = next_behaviour.finish(run, fitted, test)
    assert result == {"metrics": next_behaviour.score(fitted.net, test, run.task),
                      "train_seconds": fitted.seconds, "epochs": 1, "model": "mlp",
                      "checkpoint": str(tmp_path / "best.npz"), "history": fitted.history}
    assert "threshold" not in checkpoint.read(tmp_path / "best.npz")[2]
