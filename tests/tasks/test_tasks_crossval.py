"""Cross-validation by user and model selection over a grid: folds never split a user, every
fold reports, the best mean wins, and --folds 1 is the single split of today."""

import numpy as np
import pytest

from minseq import tasks
from minseq.cli import main
from minseq.data import generate
from minseq.models.registry import MODELS
from minseq.tasks import crossval

SMALL = dict(epochs=1, batch_size=64, maxlen=6, d_model=8, dropout=0.0)


@pytest.fixture(scope="module")
def table():
    return generate(n_users=90, seed=6)


def test_grid_parses_names_aliases_and_types():
    grid = crossval.parse_grid("hidden=16,32 lr=1e-3,3e-3 epochs=2", MODELS["lstm"].settings,
                               {"hidden": "d_model"})
    assert grid == {"d_model": [16, 32], "lr": [0.001, 0.003], "epochs": [2]}
    assert len(crossval.candidates(grid)) == 4 and crossval.candidates({}) == [{}]
    for bad, why in (("heads=2", "not a setting of this model"), ("lr", "NAME=VALUE"),
                     ("d_model=1.5", "takes int values")):
        with pytest.raises(ValueError, match=why):
            crossval.parse_grid(bad, MODELS["lstm"].settings)


def test_training_and_validation_users_never_meet(table, tmp_path, monkeypatch):
    seen = []
    windows = crossval.windows
    monkeypatch.setattr(crossval, "windows", lambda t, *a: seen.append(set(t.user.tolist()))
                        or windows(t, *a))
    tasks.train(table, "mlp", "will-purchase", SMALL, out=tmp_path, quiet=True, folds=3)
    test_users = set(tasks.next_behaviour.split(table, 0)[2].user.tolist())
    # first the classes are checked: the test users', then each fold's (train, valid); then
    # each fold is fitted, (valid, train); then the refit
    checked = [(seen[i], seen[i + 1]) for i in range(1, 7, 2)]
    folds = [(seen[i + 1], seen[i]) for i in range(7, 13, 2)]       # (train, valid) per fold
    assert checked == folds and seen[0] == test_users
    assert all(tr.isdisjoint(va) and not (tr | va) & test_users for tr, va in folds)
    assert set().union(*(va for _, va in folds)) == seen[13]        # the refit: every fold


def test_cross_validation_reports_every_fold_and_picks_the_best_mean(table, tmp_path):
    result = tasks.train(table, "lstm", "churn", SMALL, out=tmp_path, quiet=True, folds=3,
                         grid={"d_model": [4, 8]})
    cv = result["cross_validation"]
    assert cv["folds"] == 3 and [c["settings"] for c in cv["candidates"]] == [
        {"d_model": 4}, {"d_model": 8}]
    for c in cv["candidates"]:
        assert len(c["folds"]) == 3
        assert c["summary"]["auc"] == pytest.approx(
            (np.mean([f["auc"] for f in c["folds"]]), np.std([f["auc"] for f in c["folds"]])))
    best = max(cv["candidates"], key=lambda c: c["summary"]["auc"][0])
    assert cv["best"] == best["settings"] and "f1@valid" in result["metrics"]
    again = tasks.evaluate(table, result["checkpoint"])
    assert again["metrics"] == pytest.approx(result["metrics"])


def test_folds_1_keeps_the_single_split(table, tmp_path):
    plain = tasks.train(table, "lstm", "next-behaviour", SMALL, out=tmp_path / "a", quiet=True)
    grid = tasks.train(table, "lstm", "next-behaviour", SMALL, out=tmp_path / "b", quiet=True,
                       grid={"lr": [SMALL.get("lr", MODELS["lstm"].settings["lr"])]})
    assert grid["metrics"] == plain["metrics"]
    assert len(grid["cross_validation"]["candidates"][0]["folds"]) == 1


def test_cli_prints_each_fold_then_mean_and_std(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--task", "churn", "--users", "60", "--epochs", "1",
                 "--folds", "2", "--grid", "hidden=4,8", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("fold 1") == 2 and out.count("fold 2") == 2
    assert out.count("mean ± std") == 2 and "refitted on all 2 folds" in out


@pytest.mark.parametrize("argv, status, why", [
    (["--model", "lstm", "--folds", "0"], 2, "--folds must be at least 1"),
    (["--model", "lstm", "--grid", "lr=fast"], 2, "--grid: lr takes float values"),
    (["--model", "pop", "--folds", "2"], 2, "serve the classifier tasks")])
def test_bad_folds_and_grids_are_one_line(tmp_path, capsys, argv, status, why):
    assert main(["train", *argv, "--users", "20", "--out", str(tmp_path)]) == status
    err = capsys.readouterr().err
    assert err.startswith("minseq train: ") and why in err and err.count("\n") == 1
