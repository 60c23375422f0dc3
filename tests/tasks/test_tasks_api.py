"""``minseq.tasks.evaluate``: a checkpoint re-scored with the settings it was trained with,
its vocabularies checked against the data's, the seed and processes given passed on."""

import re

import numpy as np
import pytest

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


class Tagged:
    """This process's communicator, as another object: to see that it is the one passed on."""

    def __getattr__(self, name):
        return getattr(world(), name)


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
