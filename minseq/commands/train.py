"""``python -m minseq train``: train a model of the registry on a behaviour log.

    python -m minseq train --model sasrec --data synthetic --epochs 20 --metrics-out m.json
    python -m minseq train --model lstm --task next-behaviour --data synthetic

Every run prints progress and a metrics table, saves the checkpoint and the curves under
``--out`` (default out/train/MODEL); minseq.tasks runs the pipeline.
"""

from .. import tasks
from ..models.registry import MODELS
from .runs import add_data_arguments, run_task

#: the settings flags; a flag left out keeps the model's default (minseq.models.registry)
SETTINGS = ("epochs", "batch_size", "lr", "maxlen", "d_model", "num_heads", "num_layers",
            "dropout", "patience", "clip")


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
    p.add_argument("--out", default=None,
                   help="folder for the checkpoint and curves (default out/train/MODEL)")


def run(args):
    settings = {k: getattr(args, k) for k in SETTINGS}
    return run_task(args, "train", lambda table: tasks.train(
        table, args.model, args.task, settings, seed=args.seed, out=args.out,
        reference=args.reference, quiet=args.quiet))
