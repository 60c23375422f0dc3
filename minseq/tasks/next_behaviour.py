"""Train and evaluate the next-behaviour classifiers and their baselines (tasks
``next-behaviour``, ``will-purchase`` and ``churn``).

Data: the users are split 70 / 15 / 15 into train, validation and test (by user, seeded), and
windows are cut inside each split (``minseq.data.windows``; ``minseq.data.churn`` for churn,
on one calendar grid of the whole log), so no window sees another user or the future. Models
train with ``minseq.train.Trainer`` (Adam, early stopping on the validation accuracy, or AUC
for the binary tasks) and are scored on the test users: accuracy and macro F1 (and AUC for
will-purchase; churn: see minseq.tasks.churn). The checkpoint's config holds the model's name,
task, constructor arguments, settings and split seed (minseq.tasks.settings), so ``evaluate``
rebuilds everything. Cross-validation and model selection over a grid: minseq.tasks.crossval,
on top of ``fit``. Every function takes the run's settings (a RunSettings) as ``run``.

Right after windowing, every split must hold both classes (minseq.tasks.report: a log too small
for its task fails there, in one line, before training), and the run says what it is about to
do: the data, the split, each split's windows and classes, the model's size.
"""

import time
from typing import NamedTuple

from .. import backend, checkpoint, metrics, optim
from ..backend import xp
from ..data import Batches, split_by_user
from ..data.tasks import CHURN, task_of
from ..data.windows import behaviour_windows
from ..fast import tier
from ..models.registry import MODELS
from ..parallel.comm import SingleProcess
from ..parallel.processes import shared_rows
from . import churn
from .folder import BEST, fit_epochs
from .provenance import data_of, vocab_arrays
from .report import balance, check_balance, class_counts, data_line, say, users_of


class Fitted(NamedTuple):
    """A fitted model, its training history and the seconds training took."""
    net: object
    history: dict
    seconds: float


def split(table, seed):
    """(train, valid, test) tables: 70 / 15 / 15 % of the users, seeded."""
    train, rest = split_by_user(table, 0.3, seed=seed)
    valid, test = split_by_user(rest, 0.5, seed=seed)
    return train, valid, test


def windows(table, task, s, clock=None):
    """(inputs, targets, mask) of ``table`` for ``task`` (a Task or its name) with model
    settings ``s`` (maxlen; churn_days for churn, whose ``clock`` is the whole log's)."""
    task = task_of(task)
    if task is CHURN:
        data = churn.windows(table, s, clock)
    else:
        data = behaviour_windows(table, s["maxlen"], task)
    if len(data[0]) == 0:
        raise ValueError(f"next_behaviour: no {task} examples (users too short or too few for "
                         f"maxlen {s['maxlen']}"
                         + (f" and {s['churn_days']} churn days)" if task is CHURN else
                            f" and horizon {task.horizon})" if task.horizon else ")"))
    return data


def checked_windows(tables, run, clock, behaviour_names):
    """The windows of each of ``tables`` ({split name: table}) for ``run``, every split's class
    balance checked (a SettingError naming the counts); unless ``run.quiet``, each split's
    windows and classes said."""
    parts = {name: windows(t, run.task, run.model_settings, clock) for name, t in tables.items()}
    counts = {name: (users_of(tables[name]), class_counts(p[1], run.task, behaviour_names))
              for name, p in parts.items()}
    check_balance(counts, run.task, run.model_settings)
    say(["windows   " + "; ".join(f"{name} {balance(c)}" for name, (_, c) in counts.items())],
        run.quiet)
    return list(parts.values())


def sizes(table, task):
    """The constructor sizes the data decides: behaviours, classes (and churn's age buckets)."""
    n_classes = 1 if task.binary else table.n_behaviours
    extra = {"n_categories": churn.N_AGE_BUCKETS} if task is CHURN else {}
    return dict(n_behaviours=table.n_behaviours, n_classes=n_classes, **extra)


def probabilities(model, data, batch_size=512, comm=None):
    """P of every window of ``data``, in batches of ``batch_size`` (dealt out to the processes
    of ``comm``, minseq.parallel.processes.shared_rows), in eval mode."""
    model.eval()
    inputs, _, mask = data

    def rows(lo, hi):
        return model.predict_proba(backend.asarray(inputs[lo:hi]), backend.asarray(mask[lo:hi]))

    tail = () if model.n_classes == 1 else (model.n_classes,)
    dtype = next(p for _, p in model.named_parameters()).dtype
    return shared_rows(comm or SingleProcess(), len(inputs), batch_size, rows, tail, dtype)


def score(model, data, task, threshold=None, comm=None):
    """Metrics of ``model`` on ``data`` (inputs, targets, mask), in eval mode; ``threshold``:
    churn's validation threshold; ``comm``: the processes that share the work."""
    p, y = probabilities(model, data, comm=comm), data[1]
    if task is CHURN:
        return churn.score(y, p, threshold)
    if task.binary:
        pred = metrics.threshold(p)
        out = {"accuracy": metrics.accuracy(y, pred),
               "macro_f1": metrics.precision_recall_f1(y.astype("int64"), pred, "macro",
                                                       n_classes=2)[2]}
        positives = y.sum()
        if 0 < positives < len(y):
            out["auc"] = metrics.roc_auc(y, p)
        return out
    pred = backend.to_numpy(xp.argmax(p, axis=1))
    return {"accuracy": metrics.accuracy(y, pred),
            "macro_f1": metrics.precision_recall_f1(y, pred, "macro",
                                                    n_classes=model.n_classes)[2]}


def optimizer_for(net, s):
    """The optimiser a classifier trains with: Adam at the learning rate of settings ``s``."""
    return optim.Adam(net, lr=s["lr"])


def training_batches(train, s, seed):
    """The shuffled batches of the ``train`` windows (inputs, targets, mask), of the batch
    size of settings ``s``, drawn by ``seed``."""
    return Batches(*train, batch_size=s["batch_size"], seed=seed)


def fit(run, size, train, valid, provenance=(None, None), label=""):
    """Fitted: a fresh ``run.model`` fitted on the ``train`` windows for at most
    ``run.model_settings["epochs"]`` epochs, early stopping on ``valid`` (None: no validation,
    every epoch). With ``run.out``, its checkpoints, history and curves are written there
    (minseq.tasks.folder), the checkpoints with the run's settings and ``provenance`` (the data
    record and the vocabularies of minseq.tasks.provenance), and the model's size is said
    first, unless quiet; with ``run.resume``, training continues from that checkpoint.
    ``size``: the constructor sizes of ``sizes``; ``label`` begins each progress line."""
    spec, s, task = MODELS[run.model], run.model_settings, run.task
    backend.manual_seed(run.seed)
    kwargs = spec.kwargs(s, **size)
    net = spec.cls(**kwargs)
    if not spec.fitted:
        net.astype(run.dtype)
    path = run.out and run.out / BEST
    say([f"model     {run.model}: {net.num_parameters():,} parameters"],
        run.quiet or not run.out)
    config = dict(run.to_config(), kwargs=kwargs, maxlen=s["maxlen"], horizon=task.horizon,
                  data=provenance[0])
    vocab = provenance[1]
    t0 = time.perf_counter()
    if spec.fitted:
        net.fit(*(backend.asarray(a) for a in train))
        if path and run.comm.leads:
            checkpoint.save(path, net, None, dict(config, epoch=0), vocab)
        return Fitted(net, {"epoch": [], "train_loss": [], "seconds": []},
                      time.perf_counter() - t0)
    net, history = fit_epochs(
        run, net, optimizer_for(net, s), training_batches(train, s, run.seed),
        validate=None if valid is None else lambda m: score(m, valid, task, comm=run.comm),
        monitor=task.monitor if valid is not None else None, config=config, vocab=vocab,
        label=label)
    return Fitted(net, history, time.perf_counter() - t0)


def clock_of(table, task):
    """Churn's clock of the whole log (None for the other tasks); a table without times is an
    error here, right after loading, before any work."""
    return churn.check(table) if task is CHURN else None


def train(table, run):
    """Train ``run.model`` for ``run.task`` on ``table``; see ``minseq.tasks.train``."""
    clock = clock_of(table, run.task)
    tables = dict(zip(("train", "valid", "test"), split(table, run.seed)))
    say([data_line(table), "split     by user: " + ", ".join(
        f"{name} {users_of(t)}" for name, t in tables.items()) + " users"], run.quiet)
    parts = checked_windows(tables, run, clock, table.behaviour_names)
    fitted = fit(run, sizes(table, run.task), parts[0], parts[1],
                 provenance=(data_of(table), vocab_arrays(table)))
    t = churn.threshold(parts[1][1], probabilities(fitted.net, parts[1], comm=run.comm)) \
        if run.task is CHURN else None
    return finish(run, fitted, parts[2], t)


def finish(run, fitted, test, t=None):
    """The run's result: the ``fitted`` model's metrics on the ``test`` windows; churn's
    threshold ``t`` is written into the checkpoint's config first, so ``evaluate`` applies the
    same one."""
    path = run.out / BEST
    if t is not None and run.comm.leads:
        checkpoint.annotate(path, threshold=t)
    return {"metrics": score(fitted.net, test, run.task, t, run.comm),
            "train_seconds": fitted.seconds, "epochs": len(fitted.history["epoch"]),
            "model": run.model,
            "checkpoint": str(path), "history": fitted.history}


def evaluate(table, path, run, config):
    """Re-score the checkpoint at ``path`` (its ``config``) on the test users of ``table``.
    The users are split with ``run.seed``, which ``minseq.tasks.evaluate`` keeps at the
    training run's, so the test users are those training never saw; scoring draws nothing
    at random, and the processes of ``run.comm`` share it."""
    clock = clock_of(table, run.task)
    net = MODELS[run.model].cls(**config["kwargs"])
    if not MODELS[run.model].fitted:
        net.astype(run.dtype)
    if net.n_behaviours != table.n_behaviours:
        raise ValueError(f"evaluate: the checkpoint's model knows {net.n_behaviours} "
                         f"behaviours, the data has {table.n_behaviours}")
    checkpoint.load(path, net)
    net = tier(net, run.reference)
    test = split(table, run.seed)[2]
    run = run.replace(model_settings={"maxlen": config["maxlen"]}, quiet=True)
    data = checked_windows({"test": test}, run, clock, table.behaviour_names)[0]
    return {"metrics": score(net, data, run.task, config.get("threshold"), run.comm),
            "model": run.model, "checkpoint": str(path)}
