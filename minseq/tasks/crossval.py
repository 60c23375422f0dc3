"""K-fold cross-validation by user, and model selection over a small grid (document 001, §3.2).

The users (never single events) are dealt into K folds, so no user is on both sides of a fold:
fold i validates a model trained on the other K - 1. A grid such as

    "d_model=32,64 lr=1e-3,3e-3"

names settings of the model (as in minseq.models.registry; dashes or underscores, and the
command line's aliases) and comma-separated values; every combination is one candidate. Each
candidate is scored by the mean of its K validation metrics, and the best one wins.

``cross_validate`` runs it on the classifier pipeline (minseq.tasks.next_behaviour): the test
users are those of the usual 70 / 15 / 15 split, and the other 85 % are dealt into the folds.
The winner is refitted on all K folds for the mean of its folds' best epoch counts (churn: at
the mean of their validation thresholds) and scored on the test users. With ``folds`` 1 (a grid
alone), the one fold is the usual train / validation split and the winner is trained as
without a grid.

Before any training, ``--folds`` is bounded by the users it deals (each fold validates its own)
and every fold's windows are checked to hold both classes (minseq.tasks.report). Each fold's
progress lines begin ``fold i/K``; with an ``out`` folder, each finished fold's validation
metrics are written to its folds.csv at once, so Ctrl-C keeps them.
"""

import itertools
import statistics

from ..data import user_folds, without_users
from ..data.tasks import CHURN
from ..files import write_csv
from ..train import TrainingInterrupted
from . import churn
from .checks import SettingError
from .folder import FOLDS
from .next_behaviour import (clock_of, finish, fit, probabilities, score, sizes, split, train,
                             windows)
from .report import balance, check_balance, class_counts, data_line, say, users_of


def parse_grid(text, defaults, aliases=None):
    """{setting: [values]} from ``"name=v1,v2 name=v3"``. Each name must be one of
    ``defaults`` (a model's settings; ``aliases`` maps other spellings to them) and each
    value parses as the type of its default. A ValueError names what is wrong."""
    aliases = aliases or {}
    grid = {}
    for term in text.split():
        name, eq, values = term.partition("=")
        key = aliases.get(name.replace("-", "_"), name.replace("-", "_"))
        if not eq or not values:
            raise ValueError(f"--grid: {term!r} is not NAME=VALUE[,VALUE...]")
        if key not in defaults or defaults[key] is None:
            raise ValueError(f"--grid: {name!r} is not a setting of this model; its settings: "
                             f"{', '.join(k for k, v in defaults.items() if v is not None)}")
        kind = type(defaults[key])
        try:
            grid[key] = [kind(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"--grid: {name} takes {kind.__name__} values, got "
                             f"{values!r}") from None
    return grid


def candidates(grid):
    """Every combination of a grid's values, as settings dicts ([{}] for an empty grid)."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


def mean_std(runs):
    """{metric: (mean, standard deviation)} over a list of metric dicts (population std)."""
    return {k: (statistics.fmean(r[k] for r in runs), statistics.pstdev(r[k] for r in runs))
            for k in runs[0]}


def lines(cv):
    """The printed report of a cross-validation result (``cross_validation`` of a run)."""
    out = [f"cross-validation: {cv['folds']} folds by user, selecting on mean {cv['monitor']}"]
    for c in cv["candidates"]:
        out.append("settings " + (" ".join(f"{k}={v}" for k, v in c["settings"].items())
                                  or "(the model's)"))
        for i, m in enumerate(c["folds"], 1):
            out.append(f"  fold {i:<5}" + "".join(f"  {k} {v:.4f}" for k, v in m.items()))
        out.append("  mean ± std" + "".join(f"  {k} {m:.4f} ± {s:.4f}"
                                            for k, (m, s) in c["summary"].items()))
    out.append(f"best: {' '.join(f'{k}={v}' for k, v in cv['best'].items()) or 'the only one'}"
               f"; {cv['final']}")
    return out


def check_folds(run, pairs, test, clock, names):
    """Check, before any training, that every fold's training and validation windows (and the
    test users') hold both classes, for the windows of each candidate; say each fold's."""
    task, shown = run.task, set()
    for candidate in candidates(run.grid):
        s = run.replace(model_settings=candidate).model_settings
        key = (s["maxlen"], s.get("churn_days"))
        if key in shown:
            continue

        def counted(t):
            return users_of(t), class_counts(windows(t, task, s, clock)[1], task, names)

        test_counts = counted(test)
        check_balance({"test": test_counts}, task, s)
        lines = []
        for i, (train_part, valid_part) in enumerate(pairs, 1):
            parts = {f"fold {i}/{len(pairs)} training": counted(train_part),
                     f"fold {i}/{len(pairs)} validation": counted(valid_part)}
            check_balance(parts, task, s)
            lines.append(f"fold {i}/{len(pairs)}  train " + " | valid ".join(
                balance(c) for _, c in parts.values()))
        say([f"windows   test {balance(test_counts[1])}", *lines] if not shown else [],
            run.quiet)
        shown.add(key)


def run_folds(run, pairs, clock, size, out):
    """Every candidate of ``run.grid`` fitted and validated on each fold: one dict per
    candidate (settings, each fold's metrics, their summary, best epochs, thresholds). With an
    ``out`` folder, every finished fold's metrics are written to its folds.csv at once; Ctrl-C
    says they were kept."""
    task, runs, rows = run.task, [], []
    grid = candidates(run.grid)
    for j, candidate in enumerate(grid, 1):
        c = run.replace(model_settings=candidate, out=None)        # a fold writes no model
        scores, epochs, thresholds = [], [], []
        for i, (train_part, valid_part) in enumerate(pairs, 1):
            label = (f"candidate {j}/{len(grid)} " if len(grid) > 1 else "") + \
                f"fold {i}/{len(pairs)}  "
            valid = windows(valid_part, task, c.model_settings, clock)
            try:
                net, history, _ = fit(c, size, windows(train_part, task, c.model_settings,
                                                       clock), valid, label=label)
            except TrainingInterrupted as exc:
                if out is None or not rows:
                    raise
                raise exc.keeping(f"the metrics of the {len(rows)} finished fold(s) in "
                                  f"{out / FOLDS}") from None
            scores.append(score(net, valid, task, comm=c.comm))
            curve = history.get(task.monitor, [])               # a fitted baseline has none
            epochs.append(1 + curve.index(max(curve)) if curve else 0)
            if task is CHURN:
                thresholds.append(churn.threshold(valid[1],
                                                  probabilities(net, valid, comm=c.comm)))
            rows.append(dict(settings=" ".join(f"{k}={v}" for k, v in candidate.items()),
                             fold=i, **scores[-1]))
            if out is not None and run.comm.leads:
                write_csv(out / FOLDS, {k: [r.get(k, "") for r in rows]
                                        for k in dict.fromkeys(k for r in rows for k in r)})
        runs.append(dict(settings=candidate, folds=scores, summary=mean_std(scores),
                         epochs=epochs, thresholds=thresholds))
    return runs


def cross_validate(table, run):
    """Select among the candidates of ``run.grid`` by ``run.folds``-fold validation by user,
    refit the best, score it on the test users; the result's ``cross_validation`` holds every
    fold's metrics."""
    task, folds = run.task, run.folds
    clock = clock_of(table, task)
    train_users, valid_users, test_users = split(table, run.seed)
    pool = without_users(table, test_users)
    if folds > users_of(pool):
        raise SettingError(f"--folds {folds} is more than the {users_of(pool)} users outside "
                           f"the test split (each fold validates users of its own); give "
                           f"--folds {users_of(pool)} or fewer")
    pairs = [(train_users, valid_users)] if folds == 1 else \
        [(without_users(pool, p), p) for p in user_folds(pool, folds, run.seed)]
    say([data_line(table), f"split     by user: test {users_of(test_users)} users; "
         + (f"train {users_of(train_users)}, valid {users_of(valid_users)}" if folds == 1 else
            f"the other {users_of(pool)} dealt into {folds} folds")], run.quiet)
    check_folds(run, pairs, test_users, clock, table.behaviour_names)
    size = sizes(table, task)
    runs = run_folds(run, pairs, clock, size, run.out)
    best = max(runs, key=lambda r: r["summary"][task.monitor][0])
    c = run.replace(model_settings=best["settings"], grid={}, folds=1)
    if folds == 1:
        result, final = train(table, c), "trained on the training users, as without --grid"
    else:
        n = max(1, round(statistics.fmean(best["epochs"])))
        c = c.replace(model_settings={"epochs": n})
        fitted = fit(c, size, windows(pool, task, c.model_settings, clock), None)
        t = statistics.fmean(best["thresholds"]) if task is CHURN else None
        result = finish(c, fitted, windows(test_users, task, c.model_settings, clock), t)
        final = f"refitted on all {folds} folds for {n} epochs; test metrics of the refit model"
    cv = dict(folds=folds, monitor=task.monitor, candidates=runs, best=best["settings"],
              final=final)
    return dict(result, cross_validation=cv)
