"""``python -m minseq evaluate CHECKPOINT``: re-score a checkpoint written by ``minseq train``.

    python -m minseq evaluate out/train/sasrec/model.npz --data ratings.txt --format user-item

The checkpoint's config names the model (minseq.models.registry), its task and its constructor
arguments, so nothing but the data is given again.
"""

from .. import tasks
from .runs import add_data_arguments, run_task


def add_arguments(p):
    p.add_argument("checkpoint", help="a checkpoint written by 'minseq train'")
    add_data_arguments(p)


def run(args):
    return run_task(args, "evaluate", lambda table: tasks.evaluate(
        table, args.checkpoint, seed=args.seed, reference=args.reference))
