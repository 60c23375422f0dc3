"""Train and evaluate the next-behaviour classifiers and their baselines (tasks
``next-behaviour`` and ``will-purchase``).

Data: the users are split 70 / 15 / 15 into train, validation and test (by user, seeded), and
windows are cut inside each split (``minseq.data.windows``), so no window sees another user or
the future. Models train with ``minseq.train.Trainer`` (Adam, early stopping on the validation
accuracy, or AUC for will-purchase) and are scored on the test users: accuracy and macro F1
(and AUC for will-purchase). The checkpoint's config holds the model's name, task, constructor
arguments, window length, horizon and split seed, so ``evaluate`` rebuilds everything from it.
"""

import time

from .. import backend, checkpoint, metrics, optim
from ..backend import xp
from ..data import Batches, split_by_user
from ..data.windows import behaviour_windows
from ..fast import tier
from ..models.registry import MODELS
from ..plot import training_curves
from ..train import Trainer
from .provenance import data_of, vocab_arrays

HORIZON = 5  # will-purchase: a purchase among the next HORIZON events


def split(table, seed):
    """(train, valid, test) tables: 70 / 15 / 15 % of the users, seeded."""
    train, rest = split_by_user(table, 0.3, seed=seed)
    valid, test = split_by_user(rest, 0.5, seed=seed)
    return train, valid, test


def windows(table, task, maxlen):
    inputs, targets, mask = behaviour_windows(table, maxlen, task, HORIZON)
    if len(inputs) == 0:
        raise ValueError(f"next_behaviour: no {task} examples (users too short for maxlen "
                         f"{maxlen} and horizon {HORIZON})")
    return inputs, targets, mask


def score(model, data, task, batch_size=512):
    """Metrics of ``model`` on ``data`` (inputs, targets, mask), in eval mode."""
    model.eval()
    probs = [model.predict_proba(x, m)
             for x, _, m in Batches(*data, batch_size=batch_size, shuffle=False)]
    p = xp.concatenate(probs)
    y = data[1]
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


def train(table, model, task, s, seed, out, reference, quiet, resume=None):
    """Train ``model`` for ``task`` with settings ``s`` on ``table``; see
    ``minseq.tasks.train`` (``resume``: a checkpoint to continue from)."""
    spec = MODELS[model]
    backend.manual_seed(seed)
    parts = [windows(t, task, s["maxlen"]) for t in split(table, seed)]
    kwargs = spec.kwargs(s, n_behaviours=table.n_behaviours,
                         n_classes=1 if task == "will-purchase" else table.n_behaviours)
    net = spec.cls(**kwargs)
    path = out / "model.npz"
    config = dict(model=model, task=task, kwargs=kwargs, maxlen=s["maxlen"], horizon=HORIZON,
                  seed=seed, settings=s, data=data_of(table))
    vocab = vocab_arrays(table)
    t0 = time.perf_counter()
    if spec.fitted:
        net.fit(*(backend.asarray(a) for a in parts[0]))
        checkpoint.save(path, net, None, dict(config, epoch=0), vocab)
        history = {"epoch": [], "train_loss": [], "seconds": []}
    else:
        monitor = "auc" if task == "will-purchase" else "accuracy"
        optimizer = optim.Adam(net, lr=s["lr"])
        start, best = checkpoint.resume(resume, net, optimizer, monitor)
        net = tier(net, reference)
        trainer = Trainer(net, optimizer, clip_norm=s["clip"], progress=not quiet)
        history = trainer.fit(Batches(*parts[0], batch_size=s["batch_size"], seed=seed),
                              s["epochs"], validate=lambda m: score(m, parts[1], task),
                              monitor=monitor, patience=s["patience"], checkpoint_path=path,
                              config=config, vocab=vocab, start_epoch=start, best=best)
        training_curves(history, out / "curves.png", title=f"{model} ({task})")
    seconds = time.perf_counter() - t0
    return {"metrics": score(net, parts[2], task), "train_seconds": seconds,
            "epochs": len(history["epoch"]), "model": model, "checkpoint": str(path),
            "history": {k: v for k, v in history.items() if k != "best"}}


def evaluate(table, path, config, seed, reference):
    """Re-score the checkpoint at ``path`` on the test users of ``table`` (split as in
    training, with the seed saved in the checkpoint; ``seed`` is not used)."""
    net = MODELS[config["model"]].cls(**config["kwargs"])
    if net.n_behaviours != table.n_behaviours:
        raise ValueError(f"evaluate: the checkpoint's model knows {net.n_behaviours} "
                         f"behaviours, the data has {table.n_behaviours}")
    checkpoint.load(path, net)
    net = tier(net, reference)
    test = split(table, config["seed"])[2]
    data = windows(test, config["task"], config["maxlen"])
    return {"metrics": score(net, data, config["task"]), "model": config["model"],
            "checkpoint": str(path)}
