"""Cross-validation by user and model selection over a grid: folds never split a user, every
fold reports, the best mean wins, and --folds 1 is the single split of today."""

import re

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
    assert grid["cross_validation"]["final"] == "trained on the training users, as without --grid"
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


@pytest.fixture
def churn_grid_run(table, tmp_path_factory):
    """A churn run over four candidates (two --churn-days, two widths) on two folds, with
    every call of windows (and the targets it made), check_balance, fit and churn.threshold
    recorded, and what it printed. Made for each test that reads it (0.4 s), so that a
    mutation tool which runs only the tests reaching a function sees every one of them."""
    calls = {"windows": [], "targets": [], "balance": [], "fit": [], "threshold": []}
    mp = pytest.MonkeyPatch()
    windows, check_balance, fit = crossval.windows, crossval.check_balance, crossval.fit
    threshold = crossval.churn.threshold

    def windows_spy(t, task, s, *clock):
        made = windows(t, task, s, *clock)
        calls["windows"].append((s["churn_days"], clock))
        calls["targets"].append(made[1])
        return made

    mp.setattr(crossval, "windows", windows_spy)
    mp.setattr(crossval, "check_balance", lambda parts, task, s: calls["balance"].append(
        (list(parts), task, s["churn_days"])) or check_balance(parts, task, s))
    mp.setattr(crossval, "fit", lambda c, size, tr, va, label="": calls["fit"].append(
        (label, c.out, c.model_settings["d_model"], c.model_settings["churn_days"],
         va is not None)) or fit(c, size, tr, va, label=label))
    mp.setattr(crossval.churn, "threshold", lambda y, p: calls["threshold"].append(y)
               or threshold(y, p))
    import contextlib
    import io
    printed = io.StringIO()
    out = tmp_path_factory.mktemp("churn-grid")
    try:
        with contextlib.redirect_stdout(printed):
            result = tasks.train(table, "mlp", "churn", SMALL, quiet=False, folds=2, out=out,
                                 grid={"churn_days": [7.0, 14.0], "d_model": [4, 8]})
    finally:
        mp.undo()
    return result, calls, printed.getvalue().splitlines(), out


def test_each_churn_days_is_checked_once_before_training_and_said_once(churn_grid_run):
    _, calls, printed, _ = churn_grid_run
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
    _, calls, _, _ = churn_grid_run
    clock = crossval.clock_of(table, tasks.next_behaviour.task_of("churn"))
    assert len(calls["windows"]) == 10 + 8 * 2 + 2
    assert all(given == (clock,) for _, given in calls["windows"])


def test_each_fold_fits_its_candidate_on_validation_writing_no_model(churn_grid_run):
    result, calls, _, _ = churn_grid_run
    labels = [f"candidate {j}/4 fold {i}/2  " for j in (1, 2, 3, 4) for i in (1, 2)]
    settings = [(days, width) for days in (7.0, 14.0) for width in (4, 8) for _ in (1, 2)]
    assert calls["fit"][:8] == [(label, None, width, days, True)
                                for label, (days, width) in zip(labels, settings)]
    # one epoch, validated: each fold's best epoch is its first, and the refit trains one
    assert [c["epochs"] for c in result["cross_validation"]["candidates"]] == [[1, 1]] * 4
    assert result["epochs"] == 1


def test_the_best_mean_not_the_steadiest_is_refitted_with_its_settings(churn_grid_run):
    result, calls, _, _ = churn_grid_run
    cv = result["cross_validation"]
    mean, std = ([c["summary"]["auc"][i] for c in cv["candidates"]] for i in (0, 1))
    best = cv["candidates"][mean.index(max(mean))]["settings"]
    assert cv["best"] == best and best != cv["candidates"][std.index(max(std))]["settings"]
    assert cv["monitor"] == "auc"
    label, out, width, days, validated = calls["fit"][8]                       # the refit
    assert (label, width, days, validated) == ("", best["d_model"], best["churn_days"], False)
    assert out is not None


def test_each_folds_churn_threshold_is_chosen_on_its_validation_targets(churn_grid_run):
    result, calls, _, _ = churn_grid_run
    # in the fitting, each fold's validation windows are made first, then its training ones
    valid_targets = calls["targets"][10:26:2]
    assert len(calls["threshold"]) == 8
    for y, targets in zip(calls["threshold"], valid_targets):
        assert np.array_equal(y, targets)
    thresholds = [t for c in result["cross_validation"]["candidates"] for t in c["thresholds"]]
    assert len(thresholds) == 8


def test_every_finished_fold_is_a_row_of_folds_csv(churn_grid_run):
    import csv
    result, _, _, out = churn_grid_run
    with open(out / "folds.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["settings"], r["fold"]) for r in rows] == [
        (f"churn_days={days} d_model={width}", str(i))
        for days in (7.0, 14.0) for width in (4, 8) for i in (1, 2)]
    folds = [f for c in result["cross_validation"]["candidates"] for f in c["folds"]]
    assert list(rows[0]) == ["settings", "fold", *folds[0]]
    for row, fold in zip(rows, folds):
        assert {k: float(row[k]) for k in fold} == pytest.approx(fold)


def test_the_run_says_its_data_and_how_it_deals_the_users(churn_grid_run):
    _, _, printed, _ = churn_grid_run
    assert printed[:2] == ["data      synthetic(seed=6): 90 users, 4797 events, 500 items",
                           "split     by user: test 14 users; the other 76 dealt into 2 folds"]


class Checked(Exception):
    """Raised in place of the class checks: the run got that far."""


@pytest.fixture
def stop_at_the_checks(monkeypatch):
    """Stops a cross-validation at its class checks; returns the folds it would check."""
    seen = []

    def check_folds(run, pairs, *args):
        seen.append(pairs)
        raise Checked

    monkeypatch.setattr(crossval, "check_folds", check_folds)
    return seen


def test_folds_may_be_as_many_as_the_users_outside_the_test_split(table, stop_at_the_checks):
    pool = tasks.next_behaviour.split(table, 0)
    n = pool[0].lengths().astype(bool).sum() + pool[1].lengths().astype(bool).sum()
    assert n == 76
    with pytest.raises(Checked):
        tasks.train(table, "mlp", "churn", SMALL, out=None, quiet=True, folds=76)
    with pytest.raises(tasks.checks.SettingError, match=re.escape(
            "--folds 77 is more than the 76 users outside the test split (each fold validates "
            "users of its own); give --folds 76 or fewer")):
        tasks.train(table, "mlp", "churn", SMALL, quiet=True, folds=77)


def test_the_folds_are_dealt_by_the_runs_seed(table, stop_at_the_checks):
    from minseq.data import user_folds, without_users
    with pytest.raises(Checked):
        tasks.train(table, "mlp", "churn", SMALL, quiet=True, folds=3, seed=1)
    test_users = tasks.next_behaviour.split(table, 1)[2]
    pool = without_users(table, test_users)
    expected = [set(p.user.tolist()) for p in user_folds(pool, 3, 1)]
    got = [set(valid.user.tolist()) for _, valid in stop_at_the_checks[0]]
    assert got == expected


def test_a_grid_on_one_fold_says_the_usual_split_and_a_quiet_run_says_nothing(
        table, stop_at_the_checks, capsys):
    with pytest.raises(Checked):
        tasks.train(table, "mlp", "churn", SMALL, quiet=False, grid={"d_model": [4]})
    split = tasks.next_behaviour.split(table, 0)
    users = [int((t.lengths() > 0).sum()) for t in split]
    assert capsys.readouterr().out.splitlines()[1] == (
        f"split     by user: test {users[2]} users; train {users[0]}, valid {users[1]}")
    with pytest.raises(Checked):
        tasks.train(table, "mlp", "churn", SMALL, quiet=True, folds=2)
    assert capsys.readouterr().out == ""


def test_folds_without_a_folder_write_nothing(table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tasks.RunSettings(model="mlp", task="will-purchase", model_settings=SMALL,
                            quiet=True, folds=2)
    train_users, valid_users, _ = tasks.next_behaviour.split(table, 0)
    runs = crossval.run_folds(run, [(train_users, valid_users)], None,
                              tasks.next_behaviour.sizes(table, run.task), None)
    assert len(runs) == 1 and len(runs[0]["folds"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_baselines_folds_have_no_best_epoch(table, tmp_path):
    result = tasks.train(table, "popular-class", "will-purchase", out=tmp_path, quiet=True,
                         folds=2)
    assert result["cross_validation"]["candidates"][0]["epochs"] == [0, 0]


def test_each_folds_best_epoch_is_read_from_its_validation_curve(table, tmp_path, monkeypatch):
    curves, fit = [], crossval.fit

    def fit_spy(*a, **kw):
        fitted = fit(*a, **kw)
        curves.append(fitted[1].get("auc", []))
        return fitted

    monkeypatch.setattr(crossval, "fit", fit_spy)
    result = tasks.train(table, "mlp", "will-purchase", dict(SMALL, epochs=4, patience=4),
                         out=tmp_path, quiet=True, folds=2)
    cv = result["cross_validation"]
    epochs = cv["candidates"][0]["epochs"]
    assert epochs == [1 + int(np.argmax(c)) for c in curves[:2]]
    assert max(epochs) > 1
    # the refit trains for the folds' mean best epoch count, rounded
    n = round(np.mean(epochs))
    assert len(curves[2]) == 0 and result["epochs"] == n < 4
    assert cv["final"] == f"refitted on all 2 folds for {n} epochs; test metrics of the refit model"


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


def test_grid_names_take_dashes_and_aliases_and_a_term_needs_a_value():
    defaults = {"d_model": 8, "lr": 0.1, "heads": None}
    assert crossval.parse_grid("d-model=4,8 hidden-size=16", defaults,
                               {"hidden_size": "d_model"}) == {"d_model": [16]}
    assert crossval.parse_grid("d-model=4,8", defaults) == {"d_model": [4, 8]}
    for bad, why in (("lr=", "--grid: 'lr=' is not NAME=VALUE[,VALUE...]"),
                     ("lr=1=2", "--grid: lr takes float values, got '1=2'"),
                     ("heads=2", "--grid: 'heads' is not a setting of this model; its "
                                 "settings: d_model, lr")):
        with pytest.raises(ValueError, match=re.escape(why)):
            crossval.parse_grid(bad, defaults)
