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


def test_the_printed_report_names_every_setting_fold_mean_and_the_winner():
    fold = {"auc": 0.5, "f1": 0.25}
    cv = dict(folds=2, monitor="auc", best={"d_model": 4, "lr": 0.01}, final="refitted",
              candidates=[dict(settings={}, folds=[fold, fold],
                               summary={"auc": (0.5, 0.0), "f1": (0.25, 0.125)}),
                          dict(settings={"d_model": 4, "lr": 0.01}, folds=[fold],
                               summary={"auc": (0.5, 0.0)})])
    assert crossval.lines(cv) == [
        "cross-validation: 2 folds by user, selecting on mean auc",
        "settings (the model's)",
        "  fold 1      auc 0.5000  f1 0.2500",
        "  fold 2      auc 0.5000  f1 0.2500",
        "  mean ± std  auc 0.5000 ± 0.0000  f1 0.2500 ± 0.1250",
        "settings d_model=4 lr=0.01",
        "  fold 1      auc 0.5000  f1 0.2500",
        "  mean ± std  auc 0.5000 ± 0.0000",
        "best: d_model=4 lr=0.01; refitted"]
    assert crossval.lines(dict(cv, best={}))[-1] == "best: the only one; refitted"


@pytest.fixture(scope="module")
def churn_grid_run(table, tmp_path_factory):
    """A churn run over four candidates (two --churn-days, two widths) on two folds, with
    every call of windows, check_balance and fit recorded, and what it printed."""
    calls = {"windows": [], "balance": [], "fit": []}
    mp = pytest.MonkeyPatch()
    windows, check_balance, fit = crossval.windows, crossval.check_balance, crossval.fit
    mp.setattr(crossval, "windows", lambda t, task, s, *clock: calls["windows"].append(
        (s["churn_days"], clock)) or windows(t, task, s, *clock))
    mp.setattr(crossval, "check_balance", lambda parts, task, s: calls["balance"].append(
        (list(parts), task, s["churn_days"])) or check_balance(parts, task, s))
    mp.setattr(crossval, "fit", lambda c, size, tr, va, label="": calls["fit"].append(
        (label, c.out, c.model_settings["d_model"], va is not None))
        or fit(c, size, tr, va, label=label))
    import contextlib
    import io
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            result = tasks.train(table, "mlp", "churn", SMALL, quiet=False, folds=2,
                                 out=tmp_path_factory.mktemp("churn-grid"),
                                 grid={"churn_days": [7.0, 14.0], "d_model": [4, 8]})
    finally:
        mp.undo()
    return result, calls, printed.getvalue().splitlines()


def test_each_churn_days_is_checked_once_before_training_and_said_once(churn_grid_run):
    _, calls, printed = churn_grid_run
    checked = [(parts, str(task), days) for parts, task, days in calls["balance"]]
    folds = [["fold 1/2 training", "fold 1/2 validation"],
             ["fold 2/2 training", "fold 2/2 validation"]]
    assert checked == [(["test"], "churn", 7.0), (folds[0], "churn", 7.0),
                       (folds[1], "churn", 7.0), (["test"], "churn", 14.0),
                       (folds[0], "churn", 14.0), (folds[1], "churn", 14.0)]
    # the windows of a candidate whose (maxlen, churn_days) was checked are not made again
    assert [days for days, _ in calls["windows"][:10]] == [7.0] * 5 + [14.0] * 5
    assert printed[2:5] == ["windows   test 470 (259 stay, 211 churn)",
                            "fold 1/2  train 1177 (583 stay, 594 churn) | valid 958 (526 stay, "
                            "432 churn)",
                            "fold 2/2  train 958 (526 stay, 432 churn) | valid 1177 (583 stay, "
                            "594 churn)"]
    assert sum(line.startswith(("windows", "fold")) for line in printed) == 3


def test_every_churn_window_is_cut_on_the_clock_of_the_whole_log(table, churn_grid_run):
    _, calls, _ = churn_grid_run
    clock = crossval.clock_of(table, tasks.next_behaviour.task_of("churn"))
    assert len(calls["windows"]) == 10 + 8 * 2 + 2
    assert all(given == (clock,) for _, given in calls["windows"])


def test_each_fold_fits_its_candidate_on_validation_writing_no_model(churn_grid_run):
    result, calls, _ = churn_grid_run
    labels = [f"candidate {j}/4 fold {i}/2  " for j in (1, 2, 3, 4) for i in (1, 2)]
    assert calls["fit"][:8] == [(label, None, (4, 8)[(j // 2) % 2], True)
                                for j, label in enumerate(labels)]
    assert calls["fit"][8][0] == "" and calls["fit"][8][1] is not None     # the refit
    # one epoch, validated: each fold's best epoch is its first
    assert [c["epochs"] for c in result["cross_validation"]["candidates"]] == [[1, 1]] * 4


@pytest.mark.parametrize("grid, labels", [
    ({}, ["fold 1/2  ", "fold 2/2  "]),
    ({"d_model": [4, 8]}, ["candidate 1/2 fold 1/2  ", "candidate 1/2 fold 2/2  ",
                           "candidate 2/2 fold 1/2  ", "candidate 2/2 fold 2/2  "])])
def test_progress_lines_name_the_candidate_only_when_there_are_several(
        table, tmp_path, monkeypatch, grid, labels):
    seen, fit = [], crossval.fit
    monkeypatch.setattr(crossval, "fit", lambda *a, label="": seen.append(label)
                        or fit(*a, label=label))
    tasks.train(table, "mlp", "will-purchase", SMALL, out=tmp_path, quiet=True, folds=2,
                grid=grid)
    assert seen == [*labels, ""]


@pytest.mark.parametrize("stop_at, kept", [(1, None), (2, "the metrics of the 1 finished "
                                                          "fold(s) in {}")])
def test_ctrl_c_in_a_fold_says_which_finished_folds_were_kept(
        table, tmp_path, monkeypatch, stop_at, kept):
    from minseq.train import TrainingInterrupted
    fits, fit = [], crossval.fit

    def interrupted(*a, **kw):
        fits.append(1)
        if len(fits) == stop_at:
            raise TrainingInterrupted(1, None)
        return fit(*a, **kw)

    monkeypatch.setattr(crossval, "fit", interrupted)
    with pytest.raises(TrainingInterrupted) as caught:
        tasks.train(table, "mlp", "will-purchase", SMALL, out=tmp_path, quiet=True, folds=2)
    folds_csv = tmp_path / "folds.csv"
    assert caught.value.kept == (() if kept is None else (kept.format(folds_csv),))
    if kept:
        assert folds_csv.read_text().count("\n") == 2           # the header and fold 1
