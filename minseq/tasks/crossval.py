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
"""

import itertools
import statistics

from ..data import user_folds, without_users
from ..models.registry import CHURN
from . import churn
from .next_behaviour import (clock_of, finish, fit, monitor_of, probabilities, score, sizes,
                             split, train, windows)


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


def cross_validate(table, model, task, s, seed, out, reference, quiet, folds, grid):
    """Select among the grid's candidates by K-fold validation by user, refit the best, score
    it on the test users; the result's ``cross_validation`` holds every fold's metrics."""
    clock = clock_of(table, task)
    train_users, valid_users, test_users = split(table, seed)
    pool = without_users(table, test_users)
    pairs = [(train_users, valid_users)] if folds == 1 else \
        [(without_users(pool, p), p) for p in user_folds(pool, folds, seed)]
    monitor, size = monitor_of(task), sizes(table, task)
    runs = []
    for candidate in candidates(grid or {}):
        c = dict(s, **candidate)
        scores, epochs, thresholds = [], [], []
        for train_part, valid_part in pairs:
            valid = windows(valid_part, task, c, clock)
            net, history, _ = fit(model, task, c, size, windows(train_part, task, c, clock),
                                  valid, seed, None, reference, quiet)
            scores.append(score(net, valid, task))
            curve = history.get(monitor, [])                # a fitted baseline has none
            epochs.append(1 + curve.index(max(curve)) if curve else 0)
            if task == CHURN:
                thresholds.append(churn.threshold(valid[1], probabilities(net, valid)))
        runs.append(dict(settings=candidate, folds=scores, summary=mean_std(scores),
                         epochs=epochs, thresholds=thresholds))
    best = max(runs, key=lambda r: r["summary"][monitor][0])
    c = dict(s, **best["settings"])
    if folds == 1:
        result, final = (train(table, model, task, c, seed, out, reference, quiet),
                         "trained on the training users, as without --grid")
    else:
        n = max(1, round(statistics.fmean(best["epochs"])))
        net, history, seconds = fit(model, task, c, size, windows(pool, task, c, clock), None,
                                    seed, out, reference, quiet, epochs=n)
        t = statistics.fmean(best["thresholds"]) if task == CHURN else None
        result = finish(net, model, task, windows(test_users, task, c, clock),
                        out / "model.npz", t, seconds, history)
        final = f"refitted on all {folds} folds for {n} epochs; test metrics of the refit model"
    cv = dict(folds=folds, monitor=monitor, candidates=runs, best=best["settings"], final=final)
    return dict(result, cross_validation=cv)
