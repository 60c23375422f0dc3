"""A run's folder: which checkpoint a folder names, when a resume is refused or has nothing
left to do, the history it carries on, and the best checkpoint a branch takes along."""

import re

import pytest

from minseq import checkpoint, nn
from minseq.train import TrainingInterrupted
from minseq.tasks import RunSettings
from minseq.tasks.checks import SettingError
from minseq.tasks.folder import (carry_best, check_fresh, check_resume, checkpoint_in,
                                  left_to_do, read_history)


def saved(path, **config):
    checkpoint.save(path, nn.Linear(2, 2), None, config)
    return path


@pytest.mark.parametrize("files, best, last", [
    (["best.npz", "last.npz", "model.npz"], "best.npz", "last.npz"),
    (["best.npz", "model.npz"], "best.npz", "best.npz"),     # a counting baseline's run
    (["model.npz"], "model.npz", "model.npz")])                # an older minseq's folder
def test_a_folder_names_its_best_or_last_checkpoint(tmp_path, files, best, last):
    for name in files:
        (tmp_path / name).touch()
    assert checkpoint_in(tmp_path) == tmp_path / best
    assert checkpoint_in(tmp_path, "best") == tmp_path / best
    assert checkpoint_in(tmp_path, "last") == tmp_path / last
    assert checkpoint_in(tmp_path / "x.npz") == tmp_path / "x.npz"     # a file, as it is


def test_a_folder_without_a_checkpoint_says_what_it_looked_for(tmp_path):
    for which, names in (("best", "best.npz, model.npz"),
                         ("last", "last.npz, best.npz, model.npz")):
        with pytest.raises(checkpoint.CheckpointError, match=re.escape(
                f"checkpoint {tmp_path} is a folder without a checkpoint (looked for {names})")):
            checkpoint_in(tmp_path, which)


def test_resuming_an_epoch_its_own_run_went_past_is_refused(tmp_path):
    best, last = saved(tmp_path / "best.npz", epoch=2), saved(tmp_path / "last.npz", epoch=3)
    with pytest.raises(SettingError, match=re.escape(
            f"--resume {best} is epoch 2, but its run went on to epoch 3 ({last}); resume "
            f"from {tmp_path}, or give --out NEW to branch from epoch 2")):
        check_resume(best, tmp_path)
    check_resume(best, None)                        # no folder written: nothing lost
    check_resume(best, tmp_path / "branch")         # another folder: a branch
    check_resume(last, tmp_path)                    # the last epoch itself


def test_a_resume_is_refused_only_when_the_run_went_further(tmp_path):
    best = saved(tmp_path / "best.npz", epoch=3)
    check_resume(best, tmp_path)                    # no last.npz
    saved(tmp_path / "last.npz", epoch=3)
    check_resume(best, tmp_path)                    # the same epoch
    unnumbered = saved(tmp_path / "old.npz")        # a checkpoint without an epoch: epoch 0
    with pytest.raises(SettingError, match="is epoch 0, but its run went on to epoch 3"):
        check_resume(unnumbered, tmp_path)


def test_a_resume_has_nothing_left_after_its_last_epoch_or_its_patience():
    run = RunSettings(model="lstm", model_settings=dict(epochs=3, patience=2))
    assert left_to_do("p", {"epoch": 3}, run) == (
        "p finished epoch 3 of 3; give --epochs N above 3 to train on")
    assert left_to_do("p", {"epoch": 2, "waited": 2}, run) == (
        "early stopping ended the run at epoch 2 (2 epochs without a better validation "
        "metric); give --patience N above 2 to train on")
    assert left_to_do("p", {"epoch": 2, "waited": 1}, run) is None
    assert left_to_do("p", {}, run) is None                                   # epoch 0
    one = RunSettings(model="lstm", model_settings=dict(epochs=1, patience=1))
    assert left_to_do("p", {}, one) is None             # no epoch yet, none waited
    assert left_to_do("p", {"epoch": 0}, one) is None
    assert left_to_do("p", {"epoch": 0}, RunSettings(model="pop")) == (
        "pop is fitted in one pass, not by epochs, and p holds that fit")


def test_a_resume_carries_the_history_up_to_its_epoch(tmp_path):
    assert read_history(tmp_path, 2) == {}
    (tmp_path / "history.csv").write_text("epoch,train_loss\n1,0.5\n2,0.25\n3,0.125\n")
    assert read_history(tmp_path, 2) == {"epoch": [1, 2], "train_loss": [0.5, 0.25]}
    assert read_history(tmp_path, 3)["epoch"] == [1, 2, 3]
    assert read_history(tmp_path, 0) == {}
    assert all(type(e) is int for e in read_history(tmp_path, 3)["epoch"])
    (tmp_path / "history.csv").write_text("epoch,train_loss\n1,0.5\n")
    assert read_history(tmp_path, 1) == {"epoch": [1], "train_loss": [0.5]}


@pytest.mark.parametrize("name", ["best.npz", "model.npz"])
def test_a_branch_takes_its_runs_best_checkpoint_unless_it_has_one(tmp_path, name):
    source, out = tmp_path / "run", tmp_path / "branch"
    source.mkdir(), out.mkdir()
    carry_best(source, out)                         # the source holds none: nothing to carry
    assert not (out / "best.npz").exists()
    saved(source / name, epoch=2)
    carry_best(source, out)
    assert (out / "best.npz").read_bytes() == (source / name).read_bytes()
    saved(source / "last.npz", epoch=3)             # the run's best, never its last
    (out / "best.npz").unlink()
    carry_best(source, out)
    assert (out / "best.npz").read_bytes() == (source / name).read_bytes()
    (out / "best.npz").write_bytes(b"mine")
    carry_best(source, out)
    assert (out / "best.npz").read_bytes() == b"mine"


def test_a_folder_holding_another_runs_files_is_refused_unless_replaced_or_resumed(tmp_path):
    check_fresh(tmp_path / "new")                               # no folder yet
    check_fresh(tmp_path)                                       # an empty one
    (tmp_path / ".minseq-probe.123").touch()                    # another process's probe
    check_fresh(tmp_path)
    for name in ("a", "b", "c", "d"):
        (tmp_path / name).touch()
    with pytest.raises(SettingError, match=re.escape(
            f"--out {tmp_path} is not empty (it holds a, b, c, d); give a new folder, or "
            f"--overwrite to replace the run there")):
        check_fresh(tmp_path)
    (tmp_path / "e").touch()
    with pytest.raises(SettingError, match=re.escape("(it holds a, b, c, d, ...)")):
        check_fresh(tmp_path, overwrite=False, own=tmp_path / "other")
    check_fresh(tmp_path, overwrite=True)
    check_fresh(tmp_path, own=tmp_path / ".")                  # the folder a resume continues


# fit_epochs: what it hands the Trainer and what it writes, with the Trainer and the writers
# replaced by recorders (the real ones are tested in their own modules).

class _Comm:
    def __init__(self, leads):
        self.leads = leads


class _Run:
    def __init__(self, out, resume=None, leads=True):
        self.model_settings = {"clip": 2.5, "epochs": 7, "patience": 3}
        self.out, self.resume, self.comm = out, resume, _Comm(leads)
        self.reference, self.quiet = "the reference flag", False
        self.model, self.task = "gru4rec", "next-item"


class _FitWiring:
    """Recorders for every collaborator of fit_epochs; ``fit`` does what the test sets."""

    def __init__(self, monkeypatch, fit=None, best_epoch=None):
        from minseq.tasks import folder
        self.calls = {}
        rec = self.record
        monkeypatch.setattr(folder.checkpoint, "resume",
                            lambda *a: rec("resume", a) or (4, 0.5, 1))
        monkeypatch.setattr(folder.checkpoint, "load", lambda *a: rec("load", a))
        monkeypatch.setattr(folder, "read_history", lambda *a: rec("read_history", a) or
                            {"epoch": [1, 2, 3]})
        monkeypatch.setattr(folder, "carry_best", lambda *a: rec("carry_best", a))
        monkeypatch.setattr(folder, "tier", lambda *a: rec("tier", a) or "tiered net")
        monkeypatch.setattr(folder, "training_curves", lambda *a, **kw: rec("curves", (a, kw)))
        monkeypatch.setattr(folder, "write_csv", lambda *a: rec("write_csv", a))

        class Trainer:
            def __init__(self, *a, **kw):
                rec("Trainer", (a, kw))
                self.best_epoch = best_epoch

            def fit(self, *a, **kw):
                rec("fit", (a, kw))
                return fit(kw) if fit else {"epoch": [4], "best": 0.7}

        monkeypatch.setattr(folder, "Trainer", Trainer)
        self.fit_epochs = folder.fit_epochs

    def record(self, name, args):
        self.calls.setdefault(name, []).append(args)

    def __call__(self, run, **kw):
        return self.fit_epochs(run, "net", "optimizer", "batches", validate="validate",
                               monitor=kw.pop("monitor", "auc"), config={"c": 1},
                               vocab={"v": 2}, **kw)


def test_a_resumed_run_hands_the_trainer_its_settings_checkpoints_and_history(
        tmp_path, monkeypatch):
    out, source = tmp_path / "out", tmp_path / "before" / "last.npz"
    wiring = _FitWiring(monkeypatch, best_epoch=5)
    run = _Run(out, resume=str(source))
    net, history = wiring(run, label="fold 1: ")
    calls = wiring.calls
    assert calls["resume"] == [(str(source), "net", "optimizer", "auc")]
    assert calls["read_history"] == [(source.parent, 3)]       # up to the epoch before 4
    assert calls["carry_best"] == [(source.parent, out)]
    assert calls["tier"] == [("net", "the reference flag")]
    assert calls["Trainer"] == [(("tiered net", "optimizer"),
                                 {"clip_norm": 2.5, "progress": True, "label": "fold 1: ",
                                  "comm": run.comm})]
    (args, kw), = calls["fit"]
    on_epoch = kw.pop("on_epoch")
    assert args == ("batches", 7)
    assert kw == {"validate": "validate", "monitor": "auc", "patience": 3,
                  "checkpoint_path": out / "best.npz", "last_path": out / "last.npz",
                  "config": {"c": 1}, "vocab": {"v": 2}, "start_epoch": 4, "best": 0.5,
                  "waited": 1, "history": {"epoch": [1, 2, 3]}}
    on_epoch({"epoch": [4]})
    assert calls["write_csv"] == [(out / "history.csv", {"epoch": [4]})]
    assert (net, history) == ("tiered net", {"epoch": [4]})   # "best" is not a history column
    assert calls["curves"] == [(({"epoch": [4]}, out / "curves.png"),
                                {"title": "gru4rec (next-item)"})]
    assert "load" not in calls                                 # this run beat the saved best


def test_a_fresh_run_starts_an_empty_history_and_its_label_is_empty_by_default(
        tmp_path, monkeypatch):
    wiring = _FitWiring(monkeypatch, fit=lambda kw: {"epoch": [1]})
    net, history = wiring.fit_epochs(_Run(tmp_path), "net", "optimizer", "batches",
                                     validate=None, monitor=None, config={}, vocab={})
    assert history == {"epoch": [1]}                            # no "best" to drop is fine
    assert wiring.calls["Trainer"][0][1]["label"] == ""
    assert wiring.calls["fit"][0][1]["history"] == {}
    assert "read_history" not in wiring.calls and "carry_best" not in wiring.calls


def test_a_run_that_did_not_beat_the_saved_best_ends_on_the_saved_best(tmp_path, monkeypatch):
    (tmp_path / "best.npz").write_bytes(b"saved")
    wiring = _FitWiring(monkeypatch, best_epoch=None)
    wiring(_Run(tmp_path))
    assert wiring.calls["load"] == [(tmp_path / "best.npz", "tiered net")]


@pytest.mark.parametrize("monitor, best_epoch, saved", [
    ("auc", 2, True), (None, None, True), ("auc", None, False)])
def test_the_saved_best_is_loaded_only_when_monitored_saved_and_not_beaten(
        tmp_path, monkeypatch, monitor, best_epoch, saved):
    if saved:
        (tmp_path / "best.npz").write_bytes(b"saved")
    wiring = _FitWiring(monkeypatch, best_epoch=best_epoch)
    wiring(_Run(tmp_path), monitor=monitor)
    assert "load" not in wiring.calls


def test_a_process_that_does_not_lead_writes_nothing(tmp_path, monkeypatch):
    source = tmp_path / "before" / "last.npz"
    wiring = _FitWiring(monkeypatch)
    wiring(_Run(tmp_path / "out", resume=str(source), leads=False))
    assert wiring.calls["fit"][0][1]["on_epoch"] is None
    assert "carry_best" not in wiring.calls and "curves" not in wiring.calls
    assert wiring.calls["read_history"] == [(source.parent, 3)]   # every process carries it


def _interrupted(history):
    def fit(kw):
        raise TrainingInterrupted(3, "ckpt", history)
    return fit


def test_ctrl_c_keeps_the_history_and_curves_of_the_finished_epochs(tmp_path, monkeypatch):
    history = {"epoch": [1, 2], "train_loss": [0.9, 0.8]}
    wiring = _FitWiring(monkeypatch, fit=_interrupted(history))
    with pytest.raises(TrainingInterrupted) as caught:
        wiring(_Run(tmp_path))
    assert wiring.calls["write_csv"] == [(tmp_path / "history.csv", history)]
    assert wiring.calls["curves"] == [((history, tmp_path / "curves.png"),
                                       {"title": "gru4rec (next-item)"})]
    assert caught.value.kept == (
        f"history.csv and curves.png of the 2 finished epoch(s) in {tmp_path}",)
    assert caught.value.history == history


@pytest.mark.parametrize("leads, history", [(True, {}), (False, {"epoch": [1]})])
def test_ctrl_c_with_nothing_to_keep_or_no_right_to_write_passes_on_unchanged(
        tmp_path, monkeypatch, leads, history):
    wiring = _FitWiring(monkeypatch, fit=_interrupted(history))
    with pytest.raises(TrainingInterrupted) as caught:
        wiring(_Run(tmp_path, leads=leads))
    assert caught.value.kept == ()
    assert "write_csv" not in wiring.calls and "curves" not in wiring.calls
