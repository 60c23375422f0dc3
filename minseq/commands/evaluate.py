"""``python -m minseq evaluate CHECKPOINT``: re-score a checkpoint written by ``minseq train``.

    python -m minseq evaluate out/train/sasrec/run-1
    python -m minseq evaluate out/train/sasrec/run-1/last.npz --data other.txt --k 5 10 20

A run folder means its best checkpoint (best.npz; minseq.tasks.folder).

The checkpoint holds the model (minseq.models.registry), its task, its constructor arguments,
its seed, its evaluation settings and where its data came from, so nothing need be given
again; a flag given overrides the checkpoint's. Data whose content differs from the file the
model was trained on is scored with a warning; data whose items do not match is an error.
Started by ``mpiexec -n N``, the N processes share the scoring (each its batches, one sum:
the metrics of one process, exactly), and process 0 alone prints and writes.

    mpiexec -n 2 .venv/bin/minseq evaluate out/train/sasrec/run-1
"""

import sys

from .. import checkpoint, tasks
from ..parallel.comm import leads
from ..tasks.checks import check_settings
from ..tasks.folder import checkpoint_in
from ..tasks.provenance import sha256
from .flags import add_data_arguments, add_output_arguments, add_ranking_arguments
from .loading import data_settings
from .runner import fail, run_task, start

RANKING = ("k", "negatives", "exclude_seen")


def add_arguments(p):
    p.add_argument("checkpoint", help="a run folder of 'minseq train' (its best.npz), or a "
                                      "checkpoint it wrote")
    add_data_arguments(p, defaults_from="the checkpoint's")
    add_output_arguments(p, task=False)
    add_ranking_arguments(p, defaults_from="the checkpoint's")


def warn_if_changed(d, saved):
    """A warning line (from the leading process) when --data is the checkpoint's file but its
    content changed."""
    if leads() and saved.get("sha256") and d["data"] != "synthetic" and sha256(d["data"]) != saved["sha256"]:
        print(f"warning: {d['data']} differs from the data the checkpoint was trained on "
              f"(its content hash changed); scoring it anyway", file=sys.stderr)


def run(args):
    try:
        args.checkpoint = str(checkpoint_in(args.checkpoint, "best"))
        config = checkpoint.read(args.checkpoint)[2]
    except checkpoint.CheckpointError as exc:
        return fail("evaluate", exc, 1)
    saved = config.get("data")
    if args.data is None and not saved:
        return fail("evaluate", f"checkpoint {args.checkpoint} does not record its data; "
                                "pass --data", 2)
    settings = {k: getattr(args, k) for k in RANKING}
    try:
        check_settings(settings)
    except ValueError as exc:
        return fail("evaluate", exc, 2)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    status = start(args, "evaluate", [(args.metrics_out, "--metrics-out", False)])
    if status is not None:
        return status
    d = data_settings(args, saved)

    def work(table):
        warn_if_changed(d, saved or {})
        return tasks.evaluate(table, args.checkpoint, seed=seed, reference=args.reference,
                              settings=settings)

    return run_task(args, "evaluate", work, d, seed)
