"""A run's folder: which checkpoint a folder names, when a resume is refused or has nothing
left to do, the history it carries on, and the best checkpoint a branch takes along."""

import re

import pytest

from minseq import checkpoint, nn
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
