"""``minseq.tasks.evaluate``: a checkpoint re-scored with the settings it was trained with,
its vocabularies checked against the data's, the seed and processes given passed on."""

import re
from pathlib import Path

import numpy as np
import pytest
from tagged_comm import Tagged

from minseq import checkpoint, nn, tasks
from minseq.data import generate
from minseq.parallel.comm import world

SMALL = dict(epochs=1, batch_size=64, maxlen=6, d_model=8, dropout=0.0)


@pytest.fixture(scope="module")
def log():
    return generate(n_users=40, n_items=50, seed=2)


def test_a_checkpoint_of_an_unknown_model_is_refused(log, tmp_path):
    path = checkpoint.save(tmp_path / "x.npz", nn.Linear(2, 2), None, {"model": "nope"})
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(
            f"checkpoint {path}: unknown model 'nope'; known: gru4rec, sasrec, pop, markov, ")):
        tasks.evaluate(log, path)


def test_evaluate_passes_its_processes_and_reference_on_and_names_the_task(
        log, tmp_path, monkeypatch):
    tasks.train(log, "mlp", "will-purchase", SMALL, out=tmp_path, quiet=True)
    runs = []
    monkeypatch.setattr(tasks.next_behaviour, "evaluate",
                        lambda table, path, run, config: runs.append(run) or {})
    comm = Tagged()
    assert tasks.evaluate(log, tmp_path / "best.npz", comm=comm, reference=True) == {
        "task": "will-purchase"}
    assert runs[0].comm is comm and runs[0].reference is True
    tasks.evaluate(log, tmp_path / "best.npz")
    assert runs[1].comm is world() and runs[1].reference is False


def test_a_classifiers_test_users_are_its_training_splits_whatever_the_seed(log, tmp_path):
    result = tasks.train(log, "mlp", "will-purchase", SMALL, out=tmp_path, quiet=True, seed=3)
    again = tasks.evaluate(log, tmp_path / "best.npz", seed=0)
    assert again["metrics"] == pytest.approx(result["metrics"])


def test_the_datas_items_and_behaviours_must_be_the_checkpoints(log):
    items, names = log.item_vocab, np.array(log.behaviour_names)
    tasks.check_vocabulary(log, "p", {"item": items, "behaviour": names})
    tasks.check_vocabulary(log, "p", {})                    # an older checkpoint keeps none
    n = len(items) - 1
    for vocab, why in (
            ({"item": items[:-1]}, f"checkpoint p was trained on {n - 1} items, the data has {n}"),
            ({"item": items[::-1].copy()}, "checkpoint p was trained on other items than the "
                                           "data's (the same number, other ids)"),
            ({"behaviour": names[:-1]}, f"checkpoint p was trained on {len(names) - 2} "
                                        f"behaviours, the data has {len(names) - 1}"),
            ({"behaviour": names[::-1].copy()}, "trained on other behaviours")):
        with pytest.raises(checkpoint.CheckpointError, match=re.escape(why)):
            tasks.check_vocabulary(log, "p", vocab)


def test_evaluate_checks_the_vocabularies_of_the_checkpoint_it_reads(log, tmp_path):
    tasks.train(log, "pop", settings={"maxlen": 6}, out=tmp_path, quiet=True)
    other = generate(n_users=40, n_items=60, seed=2)
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(
            f"checkpoint {tmp_path / 'best.npz'} was trained on 50 items, the data has 60")):
        tasks.evaluate(other, tmp_path / "best.npz")


@pytest.mark.parametrize("extra", [dict(task="churn"), dict(settings={"epochs": 1}),
                                   dict(seed=1)])
def test_a_run_settings_is_given_alone_to_train(extra):
    run = tasks.RunSettings(model="lstm", task="next-behaviour")
    with pytest.raises(TypeError, match=re.escape(
            "train: give a RunSettings alone, or a model name with its task, settings and "
            "options")):
        tasks.train(None, run, **extra)


def test_train_by_model_name_takes_a_new_run_folder_and_notes_the_test_metrics(
        log, tmp_path, monkeypatch):
    """A model name with its task, settings and options is a run; without ``out`` it takes the
    next free out/train/MODEL/run-N; the best checkpoint keeps the test metrics, and the result
    names the task and the files written, those only."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out" / "train" / "mlp" / "run-1").mkdir(parents=True)
    got = tasks.train(log, "mlp", "will-purchase", dict(SMALL, epochs=2), seed=0, quiet=True)
    out = Path("out") / "train" / "mlp" / "run-2"
    assert got["checkpoint"] == str(out / "best.npz") and got["task"] == "will-purchase"
    assert got["epochs"] == 2
    assert checkpoint.read(out / "best.npz")[2]["test_metrics"] == got["metrics"]
    assert (got["history_csv"], got["curves"]) == (str(out / "history.csv"),
                                                 str(out / "curves.png"))
    assert "folds_csv" not in got


def test_a_fresh_run_replaces_the_files_of_a_run_before_it_and_folds_name_theirs(log, tmp_path):
    """A run that does not resume clears the files a run writes from its folder first (a
    baseline writes no history, so an old one would be left beside it); cross-validation's
    result names its folds.csv."""
    (tmp_path / "history.csv").write_text("epoch\n1\n")
    got = tasks.train(log, "popular-class", "will-purchase", out=tmp_path, quiet=True)
    assert not (tmp_path / "history.csv").exists() and "history_csv" not in got
    folds = tasks.train(log, "popular-class", "will-purchase", out=tmp_path / "cv", folds=2,
                        quiet=True)
    assert folds["folds_csv"] == str(tmp_path / "cv" / "folds.csv")
