"""``python -m minseq train`` and ``python -m minseq evaluate``: train and evaluate every model.

    python -m minseq train --model sasrec --data synthetic --epochs 20 --metrics-out m.json
    python -m minseq train --model sasrec --data ratings.txt --format user-item
    python -m minseq train --model lstm --task next-behaviour --data synthetic
    python -m minseq evaluate out/train/sasrec/model.npz --data ratings.txt --format user-item

Two tasks share the command line: next-item recommendation (``gru4rec``, ``sasrec`` and the
``pop`` / ``markov`` baselines; minseq.models.next_item) and next-behaviour classification
(``mlp``, ``lstm``, ``lstm-attn``, ``transformer``, with ``pop`` / ``markov`` baselines too;
minseq.models.next_behaviour). Each task module provides ``train(args, table) -> result`` and
``evaluate(args, table, path) -> result``; a result is a dict with ``metrics`` (a flat dict, or
one dict per evaluation protocol) and whatever else the run reports. This module loads the data,
prints the metrics table and writes ``--metrics-out``.
"""

import json
import sys

from .. import backend
from ..cli import command
from ..data import FORMATS, DataFormatError, generate, load
from ..files import atomic_write

RECOMMENDERS = ("gru4rec", "sasrec")
CLASSIFIERS = ("mlp", "lstm", "lstm-attn", "transformer")
BASELINES = ("pop", "markov")
TASKS = ("next-item", "next-behaviour", "will-purchase")


def _data_args(p):
    p.add_argument("--data", default="synthetic",
                   help="'synthetic' (a generated log) or the PATH of a behaviour log")
    p.add_argument("--format", choices=list(FORMATS), default="user-item",
                   help="file format of --data PATH (default user-item)")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip malformed rows, count them")
    p.add_argument("--users", type=int, default=2000, help="synthetic log: number of users")
    p.add_argument("--items", type=int, default=500, help="synthetic log: number of items")
    p.add_argument("--task", choices=TASKS, default=None,
                   help="next-item (default for gru4rec, sasrec, pop, markov) or next-behaviour "
                        "/ will-purchase (default next-behaviour for the classifiers)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, weights and batches")
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--metrics-out", default=None, metavar="FILE.json",
                   help="also write the final metrics and training time as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--reference", action="store_true",
                   help="run the plain reference layers of minseq.nn instead of their fast "
                        "twins (minseq.fast; the same function, tested equal)")


def _train_args(p):
    p.add_argument("--model", required=True, choices=RECOMMENDERS + CLASSIFIERS + BASELINES)
    _data_args(p)
    p.add_argument("--epochs", type=int, default=None, help="training epochs (model default)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--maxlen", type=int, default=None, help="longest history a model reads")
    p.add_argument("--hidden", type=int, default=None, help="hidden / model width")
    p.add_argument("--heads", type=int, default=None, help="attention heads (sasrec, transformer)")
    p.add_argument("--layers", type=int, default=None, help="stacked blocks (sasrec, transformer)")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--patience", type=int, default=None,
                   help="early stopping: epochs without validation improvement")
    p.add_argument("--clip", type=float, default=None, help="clip gradients to this global norm")
    p.add_argument("--out", default=None,
                   help="folder for the checkpoint and curves (default out/train/MODEL)")


def _evaluate_args(p):
    p.add_argument("checkpoint", help="a checkpoint written by 'minseq train'")
    _data_args(p)


def task_of(args):
    """The task a run trains for: --task, or the model's natural one."""
    if args.task:
        if args.task == "next-item" and getattr(args, "model", None) in CLASSIFIERS:
            raise SystemExit(f"minseq train: {args.model} is a next-behaviour classifier; "
                             "use --task next-behaviour or will-purchase")
        if args.task != "next-item" and getattr(args, "model", None) in RECOMMENDERS:
            raise SystemExit(f"minseq train: {args.model} is a next-item recommender")
        return args.task
    return "next-behaviour" if getattr(args, "model", None) in CLASSIFIERS else "next-item"


def load_table(args):
    """The event table named by --data / --format (a generated log for 'synthetic')."""
    if args.data == "synthetic":
        return generate(n_users=args.users, n_items=args.items, seed=args.seed)
    return load(args.data, args.format, args.skip_bad_rows)


def task_module(task):
    if task == "next-item":
        from . import next_item
        return next_item
    from . import next_behaviour
    return next_behaviour


def print_metrics(metrics, stream=None):
    """A table: one row per metric, one column per protocol (or one column of values)."""
    stream = stream or sys.stdout  # looked up per call: a default bound at import goes stale
    if metrics and all(isinstance(v, dict) for v in metrics.values()):
        protocols = list(metrics)
        names = list(dict.fromkeys(k for p in protocols for k in metrics[p]))
        print(f"{'metric':<14}" + "".join(f"{p:>14}" for p in protocols), file=stream)
        for n in names:
            cells = [metrics[p].get(n) for p in protocols]
            print(f"{n:<14}" + "".join(f"{'-' if c is None else format(c, '.4f'):>14}"
                                       for c in cells), file=stream)
    else:
        for n, v in metrics.items():
            print(f"{n:<14}{v:>14.4f}", file=stream)


def write_json(path, payload):
    """Write ``payload`` as JSON atomically (temporary file, then rename)."""
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=True)


def _run(args, action):
    if args.backend:
        backend.use_backend(args.backend)
    try:
        table = load_table(args)
    except (DataFormatError, FileNotFoundError, ValueError) as exc:
        print(f"minseq {action}: {exc}", file=sys.stderr)
        return 1
    if action == "train":
        task = task_of(args)
        result = task_module(task).train(args, table)
    else:
        from ..checkpoint import CheckpointError, read
        try:
            task = read(args.checkpoint)[2].get("task", "next-item")
        except CheckpointError as exc:
            print(f"minseq evaluate: {exc}", file=sys.stderr)
            return 1
        result = task_module(task).evaluate(args, table, args.checkpoint)
    result = dict(result, task=task, data=args.data, seed=args.seed, backend=backend.get_backend(),
                  layers="reference" if args.reference else "fast")
    print()
    print_metrics(result["metrics"])
    if args.metrics_out:
        write_json(args.metrics_out, result)
        print(f"\nmetrics written to {args.metrics_out}")
    return 0


@command("train", "train a model on a behaviour log and report its metrics")(_train_args)
def train(args):
    return _run(args, "train")


@command("evaluate", "re-evaluate a saved checkpoint on a behaviour log")(_evaluate_args)
def evaluate(args):
    return _run(args, "evaluate")
