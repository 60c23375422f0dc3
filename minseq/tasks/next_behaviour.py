"""Train and evaluate the next-behaviour classifiers and their baselines (tasks
``next-behaviour``, ``will-purchase`` and ``churn``).

Data: the users are split 70 / 15 / 15 into train, validation and test (by user, seeded), and
windows are cut inside each split (``minseq.data.windows``; ``minseq.data.churn`` for churn,
on one calendar grid of the whole log), so no window sees another user or the future. Models
train with ``minseq.train.Trainer`` (Adam, early stopping on the validation accuracy, or AUC
for the binary tasks) and are scored on the test users: accuracy and macro F1 (and AUC for
will-purchase; churn: see minseq.tasks.churn). The checkpoint's config holds the model's name,
task, constructor arguments, settings and split seed, so ``evaluate`` rebuilds everything.
Cross-validation and model selection over a grid: minseq.tasks.crossval, on top of ``fit``.
"""

import time

from .. import backend, checkpoint, metrics, optim
from ..backend import xp
from ..data import Batches, split_by_user
from ..data.windows import behaviour_windows
from ..fast import tier
from ..models.registry import CHURN, MODELS, NEXT_BEHAVIOUR
from ..plot import training_curves
from ..train import Trainer
from . import churn
from .provenance import data_of, vocab_arrays

HORIZON = 5  # will-purchase: a purchase among the next HORIZON events


def split(table, seed):
    """(train, valid, test) tables: 70 / 15 / 15 % of the users, seeded."""
    train, rest = split_by_user(table, 0.3, seed=seed)
    valid, test = split_by_user(rest, 0.5, seed=seed)
    return train, valid, test


def windows(table, task, s, clock=None):
    """(inputs, targets, mask) of ``table`` for ``task`` with settings ``s``."""
    if task == CHURN:
        data = churn.windows(table, s, clock)
    else:
        data = behaviour_windows(table, s["maxlen"], task, HORIZON)
    if len(data[0]) == 0:
        raise ValueError(f"next_behaviour: no {task} examples (users too short or too few for "
                         f"maxlen {s['maxlen']}"
                         + (f" and {s['churn_days']} churn days)" if task == CHURN else
                            f" and horizon {HORIZON})"))
    return data


def sizes(table, task):
    """The constructor sizes the data decides: behaviours, classes (and churn's age buckets)."""
    n_classes = table.n_behaviours if task == NEXT_BEHAVIOUR else 1
    extra = {"n_categories": churn.N_AGE_BUCKETS} if task == CHURN else {}
    return dict(n_behaviours=table.n_behaviours, n_classes=n_classes, **extra)


def monitor_of(task):
    return "accuracy" if task == NEXT_BEHAVIOUR else "auc"


def probabilities(model, data, batch_size=512):
    model.eval()
    return xp.concatenate([model.predict_proba(x, m) for x, _, m in
                           Batches(*data, batch_size=batch_size, shuffle=False)])


def score(model, data, task, threshold=None):
    """Metrics of ``model`` on ``data`` (inputs, targets, mask), in eval mode; ``threshold``:
    churn's validation threshold."""
    p, y = probabilities(model, data), data[1]
    if task == CHURN:
        return churn.score(y, p, threshold)
    if task == "will-purchase":
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


def fit(model, task, s, size, train, valid, seed, out, reference, quiet, epochs=None,
        provenance=(None, None), resume=None):
    """(model, history, seconds): a fresh ``model`` fitted on the ``train`` windows, early
    stopping on ``valid`` (None: ``epochs`` epochs, no validation); with ``out``, its
    checkpoint and curves are written there, the checkpoint with ``provenance`` (the data
    record and the vocabularies of minseq.tasks.provenance). ``resume``: a checkpoint to
    continue from."""
    spec = MODELS[model]
    backend.manual_seed(seed)
    kwargs = spec.kwargs(s, **size)
    net = spec.cls(**kwargs)
    path = out and out / "model.npz"
    config = dict(model=model, task=task, kwargs=kwargs, maxlen=s["maxlen"], horizon=HORIZON,
                  seed=seed, settings=s, data=provenance[0])
    vocab = provenance[1]
    t0 = time.perf_counter()
    if spec.fitted:
        net.fit(*(backend.asarray(a) for a in train))
        if path:
            checkpoint.save(path, net, None, dict(config, epoch=0), vocab)
        return net, {"epoch": [], "train_loss": [], "seconds": []}, time.perf_counter() - t0
    monitor = monitor_of(task) if valid is not None else None
    optimizer = optim.Adam(net, lr=s["lr"])
    start, best = checkpoint.resume(resume, net, optimizer, monitor)
    net = tier(net, reference)
    trainer = Trainer(net, optimizer, clip_norm=s["clip"], progress=not quiet)
    history = trainer.fit(Batches(*train, batch_size=s["batch_size"], seed=seed),
                          epochs or s["epochs"], monitor=monitor, patience=s["patience"],
                          validate=None if valid is None else lambda m: score(m, valid, task),
                          checkpoint_path=path, config=config, vocab=vocab, start_epoch=start,
                          best=best)
    if out:
        training_curves(history, out / "curves.png", title=f"{model} ({task})")
    return net, {k: v for k, v in history.items() if k != "best"}, time.perf_counter() - t0


def clock_of(table, task):
    """Churn's clock of the whole log (None for the other tasks); a table without times is an
    error here, right after loading, before any work."""
    return churn.check(table) if task == CHURN else None


def train(table, model, task, s, seed, out, reference, quiet, resume=None):
    """Train ``model`` for ``task`` with settings ``s`` on ``table``; see
    ``minseq.tasks.train`` (``resume``: a checkpoint to continue from)."""
    clock = clock_of(table, task)
    parts = [windows(t, task, s, clock) for t in split(table, seed)]
    net, history, seconds = fit(model, task, s, sizes(table, task), parts[0], parts[1], seed,
                                out, reference, quiet,
                                provenance=(data_of(table), vocab_arrays(table)), resume=resume)
    t = churn.threshold(parts[1][1], probabilities(net, parts[1])) if task == CHURN else None
    return finish(net, model, task, parts[2], out / "model.npz", t, seconds, history)


def finish(net, model, task, test, path, t, seconds, history):
    """The run's result: ``net``'s metrics on the ``test`` windows; churn's threshold ``t``
    is written into the checkpoint's config first, so ``evaluate`` applies the same one."""
    if t is not None:
        checkpoint.annotate(path, threshold=t)
    return {"metrics": score(net, test, task, t), "train_seconds": seconds,
            "epochs": len(history["epoch"]), "model": model, "checkpoint": str(path),
            "history": history}


def evaluate(table, path, config, seed, reference):
    """Re-score the checkpoint at ``path`` on the test users of ``table`` (split as in
    training, with the seed saved in the checkpoint; ``seed`` is not used)."""
    task = config["task"]
    clock = clock_of(table, task)
    net = MODELS[config["model"]].cls(**config["kwargs"])
    if net.n_behaviours != table.n_behaviours:
        raise ValueError(f"evaluate: the checkpoint's model knows {net.n_behaviours} "
                         f"behaviours, the data has {table.n_behaviours}")
    checkpoint.load(path, net)
    net = tier(net, reference)
    test = split(table, config["seed"])[2]
    data = windows(test, task, dict(config["settings"], maxlen=config["maxlen"]), clock)
    return {"metrics": score(net, data, task, config.get("threshold")),
            "model": config["model"], "checkpoint": str(path)}
