"""``python -m minseq train``: train a model of the registry on a behaviour log.

    python -m minseq train --model sasrec --data synthetic --epochs 20 --metrics-out m.json
    python -m minseq train --model lstm --task next-behaviour --data synthetic
    python -m minseq train --model lstm --task churn --folds 5 --grid "d_model=16,32 lr=1e-3,5e-3"

Every run prints progress and a metrics table, saves the checkpoint and the curves under
``--out`` (default out/train/MODEL); minseq.tasks runs the pipeline.
"""

import sys

from .. import tasks
from ..models.registry import MODELS
from ..tasks.crossval import parse_grid
from .runs import add_data_arguments, run_task

#: the settings flags; a flag left out keeps the model's default (minseq.models.registry)
SETTINGS = ("epochs", "batch_size", "lr", "maxlen", "d_model", "num_heads", "num_layers",
            "dropout", "patience", "clip", "churn_days")
#: --grid takes the settings' names, and these aliases of the flags
GRID_ALIASES = {"hidden": "d_model", "heads": "num_heads", "layers": "num_layers"}


def add_arguments(p):
    p.add_argument("--model", required=True, choices=list(MODELS))
    add_data_arguments(p)
    p.add_argument("--epochs", type=int, default=None, help="training epochs (model default)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--maxlen", type=int, default=None, help="longest history a model reads")
    p.add_argument("--d-model", "--hidden", dest="d_model", type=int, default=None,
                   help="model width")
    p.add_argument("--num-heads", "--heads", dest="num_heads", type=int, default=None,
                   help="attention heads (sasrec, transformer)")
    p.add_argument("--num-layers", "--layers", dest="num_layers", type=int, default=None,
                   help="stacked layers (sasrec, lstm, transformer)")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--patience", type=int, default=None,
                   help="early stopping: epochs without validation improvement")
    p.add_argument("--clip", type=float, default=None, help="clip gradients to this global norm")
    p.add_argument("--churn-days", type=float, default=None, metavar="D",
                   help="churn: silent for D days after the cut (default 7)")
    p.add_argument("--folds", type=int, default=1, metavar="K",
                   help="classifier tasks: K-fold cross-validation by user (default 1: the "
                        "single split)")
    p.add_argument("--grid", default=None, metavar='"NAME=V1,V2 ..."',
                   help="classifier tasks: select the settings by mean validation metric, "
                        'e.g. "d_model=32,64 lr=1e-3,3e-3"; the best is refitted and tested')
    p.add_argument("--out", default=None,
                   help="folder for the checkpoint and curves (default out/train/MODEL)")


def run(args):
    settings = {k: getattr(args, k) for k in SETTINGS}
    try:
        if args.folds < 1:
            raise ValueError(f"--folds must be at least 1, got {args.folds}")
        grid = parse_grid(args.grid or "", MODELS[args.model].settings, GRID_ALIASES)
    except ValueError as exc:
        print(f"minseq train: {exc}", file=sys.stderr)
        return 2
    return run_task(args, "train", lambda table: tasks.train(
        table, args.model, args.task, settings, seed=args.seed, out=args.out,
        reference=args.reference, quiet=args.quiet, folds=args.folds, grid=grid))
