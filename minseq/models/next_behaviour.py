"""Train and evaluate the next-behaviour classifiers and their baselines (``minseq train
--task next-behaviour | will-purchase``).

Data: the users are split 70 / 15 / 15 into train, validation and test (by user, seeded), and
windows are cut inside each split (``minseq.data.windows``), so no window sees another user or
the future. Models train with ``minseq.train.Trainer`` (Adam, early stopping on the validation
accuracy, or AUC for will-purchase) and are scored on the test users: accuracy and macro F1
(and AUC for will-purchase). The checkpoint's config holds the model's name, task, constructor
arguments, window length, horizon and split seed, so ``evaluate`` rebuilds everything from it.
"""

import time
from pathlib import Path

from .. import backend, checkpoint, metrics, optim
from ..fast import tier
from ..backend import xp
from ..data import Batches, split_by_user
from ..data.windows import behaviour_windows
from ..plot import training_curves
from ..train import Trainer
from .behaviour_baselines import MarkovBehaviour, PopularClass
from .lstm_attention import LSTMAttentionClassifier
from .lstm_classifier import LSTMClassifier
from .mlp_counts import MLPCounts
from .transformer_classifier import TransformerClassifier

HORIZON = 5  # will-purchase: a purchase among the next HORIZON events
DEFAULTS = dict(epochs=10, batch_size=128, lr=5e-3, maxlen=20, hidden=32, heads=2, layers=1,
                dropout=0.1, patience=3, clip=5.0)
MODEL_DEFAULTS = {"transformer": dict(lr=1e-3, layers=2)}
BASELINES = {"pop": PopularClass, "markov": MarkovBehaviour}


def settings(args):
    """The run's hyper-parameters: each ``args`` field, or the model's default where None."""
    s = dict(DEFAULTS, **MODEL_DEFAULTS.get(args.model, {}))
    return {k: v if getattr(args, k, None) is None else getattr(args, k) for k, v in s.items()}


def build(name, task, n_behaviors, s):
    """A fresh model ``name`` for ``task`` with the settings ``s``."""
    C = 1 if task == "will-purchase" else n_behaviors
    if name in BASELINES:
        return BASELINES[name](n_behaviors, C)
    common = dict(hidden=s["hidden"], dropout=s["dropout"])
    if name == "mlp":
        return MLPCounts(n_behaviors, C, **common)
    if name == "lstm":
        return LSTMClassifier(n_behaviors, C, layers=s["layers"], **common)
    if name == "lstm-attn":
        return LSTMAttentionClassifier(n_behaviors, C, **common)
    if name == "transformer":
        return TransformerClassifier(n_behaviors, C, heads=s["heads"], layers=s["layers"],
                                     maxlen=s["maxlen"], **common)
    raise ValueError(f"next_behaviour: unknown model {name!r}")


def rebuild(config):
    """The model a checkpoint's config describes (untrained; load the parameters next)."""
    kinds = dict(BASELINES, mlp=MLPCounts, lstm=LSTMClassifier, transformer=TransformerClassifier)
    kinds["lstm-attn"] = LSTMAttentionClassifier
    return kinds[config["model"]](**config["kwargs"])


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


def train(args, table):
    """Train ``args.model`` for ``args.task`` on ``table``; see ``minseq.models.command``."""
    task = args.task or "next-behaviour"
    s = settings(args)
    backend.manual_seed(args.seed)
    parts = [windows(t, task, s["maxlen"]) for t in split(table, args.seed)]
    model = build(args.model, task, table.n_behaviors, s)
    out = Path(args.out or Path("out") / "train" / args.model)
    path = out / "model.npz"
    config = dict(model=args.model, task=task, kwargs=model.kwargs, maxlen=s["maxlen"],
                  horizon=HORIZON, seed=args.seed, settings=s)
    t0 = time.perf_counter()
    if args.model in BASELINES:
        model.fit(*(backend.asarray(a) for a in parts[0]))
        checkpoint.save(path, model, None, config)
        history = {"epoch": [], "train_loss": [], "seconds": []}
    else:
        monitor = "auc" if task == "will-purchase" else "accuracy"
        model = tier(model, args.reference)
        trainer = Trainer(model, optim.Adam(model, lr=s["lr"]), clip_norm=s["clip"],
                          progress=not args.quiet)
        history = trainer.fit(Batches(*parts[0], batch_size=s["batch_size"], seed=args.seed),
                              s["epochs"], validate=lambda m: score(m, parts[1], task),
                              monitor=monitor, patience=s["patience"], checkpoint_path=path,
                              config=config)
        training_curves(history, out / "curves.png", title=f"{args.model} ({task})")
    seconds = time.perf_counter() - t0
    return {"metrics": score(model, parts[2], task), "train_seconds": seconds,
            "epochs": len(history["epoch"]), "model": args.model, "checkpoint": str(path),
            "history": {k: v for k, v in history.items() if k != "best"}}


def evaluate(args, table, path):
    """Re-score the checkpoint at ``path`` on the test users of ``table`` (split as in
    training, with the seed saved in the checkpoint)."""
    _, _, config = checkpoint.read(path)
    model = rebuild(config)
    if model.n_behaviors != table.n_behaviors:
        raise ValueError(f"evaluate: the checkpoint's model knows {model.n_behaviors} "
                         f"behaviours, the data has {table.n_behaviors}")
    checkpoint.load(path, model)
    model = tier(model, args.reference)
    test = split(table, config["seed"])[2]
    data = windows(test, config["task"], config["maxlen"])
    return {"metrics": score(model, data, config["task"]), "model": config["model"],
            "checkpoint": str(path)}
