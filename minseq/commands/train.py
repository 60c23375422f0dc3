"""``python -m minseq train``: train a model of the registry on a behaviour log.

    python -m minseq train --model sasrec --data synthetic --epochs 20 --metrics-out m.json
    python -m minseq train --model lstm --task next-behaviour --data synthetic
    python -m minseq train --model lstm --task churn --folds 5 --grid "d_model=16,32 lr=1e-3,5e-3"
    python -m minseq train --resume out/train/sasrec/run-1 --epochs 40
    mpiexec -n 2 .venv/bin/minseq train --model lstm --batch-size 64    # one model, 2 processes

Every setting is checked before any data is read; every run says what it trains on, prints
progress and a metrics table, and saves its checkpoints (best.npz, last.npz), history.csv and
curves in a folder of its own (``--out``, default out/train/MODEL/run-N; minseq.tasks.folder).
An ``--out`` folder that holds files is refused unless ``--overwrite``. minseq.tasks runs the
pipeline. The flags become one RunSettings (minseq.tasks.settings), checked as it is built.
``--resume RUN`` (the folder, or a checkpoint in it) continues that run in its folder, from its
last epoch, with its model, data and settings (flags given override them); with nothing left
to do, it says so. Started by ``mpiexec -n N``, the N processes train one model
(minseq.parallel.processes), and process 0 alone prints and writes.
"""

import sys

from .. import checkpoint, tasks
from ..models.registry import MODELS, spec_of
from ..models.sasrec import LOSSES
from ..parallel.comm import MPIMissing, leads
from ..tasks.checks import check_fits
from ..tasks.crossval import parse_grid
from ..tasks.folder import check_fresh, check_resume, checkpoint_in, left_to_do
from ..tasks.settings import RunSettings
from .flags import add_data_arguments, add_output_arguments, add_ranking_arguments
from .loading import data_settings
from .runner import fail, run_task, start

#: the settings flags; a flag left out keeps the model's default (minseq.models.registry),
#: which --help shows
SETTINGS = ("epochs", "batch_size", "lr", "maxlen", "d_model", "num_heads", "num_layers",
            "dropout", "patience", "clip", "churn_days", "k", "negatives", "exclude_seen",
            "loss", "loss_negatives", "gbce_t")
#: --grid takes the settings' names, and these aliases of the flags
GRID_ALIASES = {"hidden": "d_model", "heads": "num_heads", "layers": "num_layers"}


def model_defaults(setting):
    """Each model's default of ``setting``, as --help shows it: "10 for mlp, lstm; 50 for
    sasrec" (models with the same default together; "none": the setting is off)."""
    models = {}
    for name, spec in MODELS.items():
        if setting in spec.settings:
            models.setdefault(spec.settings[setting], []).append(name)
    return "; ".join(f"{'none' if value is None else value} for {', '.join(names)}"
                     for value, names in models.items())


def add_arguments(p):
    p.add_argument("--model", choices=list(MODELS), default=None,
                   help="the model to train (required unless --resume)")
    p.add_argument("--resume", default=None, metavar="RUN",
                   help="continue a run (its folder, or a checkpoint in it: default its "
                        "last.npz) in its folder, with its model, data and settings")
    add_data_arguments(p)
    add_output_arguments(p)
    p.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs (default {model_defaults('epochs')})")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"examples per step (default {model_defaults('batch_size')})")
    p.add_argument("--lr", type=float, default=None,
                   help=f"learning rate (default {model_defaults('lr')})")
    p.add_argument("--maxlen", type=int, default=None,
                   help=f"longest history a model reads (default {model_defaults('maxlen')})")
    p.add_argument("--d-model", "--hidden", dest="d_model", type=int, default=None,
                   help=f"model width (default {model_defaults('d_model')})")
    p.add_argument("--num-heads", "--heads", dest="num_heads", type=int, default=None,
                   help=f"attention heads (default {model_defaults('num_heads')})")
    p.add_argument("--num-layers", "--layers", dest="num_layers", type=int, default=None,
                   help=f"stacked layers (default {model_defaults('num_layers')})")
    p.add_argument("--dropout", type=float, default=None,
                   help=f"dropout rate (default {model_defaults('dropout')})")
    p.add_argument("--patience", type=int, default=None,
                   help="early stopping: epochs without validation improvement (default "
                        f"{model_defaults('patience')})")
    p.add_argument("--clip", type=float, default=None,
                   help=f"clip gradients to this global norm (default {model_defaults('clip')})")
    p.add_argument("--churn-days", type=float, default=None, metavar="D",
                   help=f"churn: silent for D days after the cut (default "
                        f"{model_defaults('churn_days')})")
    p.add_argument("--folds", type=int, default=1, metavar="K",
                   help="classifier tasks: K-fold cross-validation by user (default 1: the "
                        "single split)")
    p.add_argument("--grid", default=None, metavar='"NAME=V1,V2 ..."',
                   help="classifier tasks: select the settings by mean validation metric, "
                        'e.g. "d_model=32,64 lr=1e-3,3e-3"; the best is refitted and tested')
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="the parameters' and the arithmetic's float type (default float32; "
                        "float64 to compare runs to 1e-10)")
    add_ranking_arguments(p)
    add_loss_arguments(p)
    p.add_argument("--out", default=None,
                   help="folder for the checkpoints, curves and history.csv (default a new "
                        "out/train/MODEL/run-N; with --resume, the run's own)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in an --out folder that holds one")


def add_loss_arguments(p):
    """The next-item training loss (minseq.models.sasrec; minseq.nn.item_losses)."""
    p.add_argument("--loss", choices=list(LOSSES), default=None,
                   help="sasrec's training loss: bce (the paper's, one negative), gbce "
                        "(gSASRec), sampled-ce (softmax over sampled negatives), ce (softmax over "
                        f"every item) (default {model_defaults('loss')})")
    p.add_argument("--loss-negatives", type=int, default=None, metavar="K",
                   help="negatives per position the bce, gbce and sampled-ce losses draw; "
                        "none: 1 for bce, 256 for gbce and sampled-ce; not --negatives, which "
                        f"the evaluation samples (default {model_defaults('loss_negatives')})")
    p.add_argument("--gbce-t", type=float, default=None, metavar="T",
                   help=f"gbce's calibration t in [0, 1] (default {model_defaults('gbce_t')})")


def run(args):
    settings = {k: getattr(args, k) for k in SETTINGS}
    saved, resume, own = {}, None, None
    if args.resume:
        try:
            resume = checkpoint_in(args.resume, "last")
            saved = checkpoint.read(resume)[2]
        except checkpoint.CheckpointError as exc:
            return fail("train", exc, 1)
        own = resume.parent
        settings = dict(saved.get("settings", {}), **{k: v for k, v in settings.items()
                                                       if v is not None})
    model = args.model or saved.get("model")
    if model is None:
        return fail("train", "--model is required (or --resume CHECKPOINT)", 2)
    try:
        run = RunSettings(model=model, task=args.task or saved.get("task"),
                          model_settings=settings,
                          seed=args.seed if args.seed is not None else saved.get("seed", 0),
                          out=args.out or own, reference=args.reference, quiet=args.quiet,
                          folds=args.folds, resume=resume and str(resume),
                          dtype=args.dtype or saved.get("dtype", "float32"))
        grid = parse_grid(args.grid or "", spec_of(model).settings, GRID_ALIASES)
        run = run.replace(grid=grid) if grid else run
        if resume:
            check_resume(resume, run.out)
        if run.out is not None:
            check_fresh(run.out, args.overwrite, own)
    except (ValueError, MPIMissing) as exc:
        return fail("train", exc, 2)
    if resume and left_to_do(resume, saved, run):
        if leads():
            print(f"minseq train: nothing to do: {left_to_do(resume, saved, run)}",
                  file=sys.stderr)
        return 0
    status = start(args, "train", [(args.metrics_out, "--metrics-out", False)])
    if status is not None:
        return status

    def work(table):
        check_fits(table, run.task)
        return tasks.train(table, run)

    return run_task(args, "train", work, data_settings(args, saved.get("data")), run.seed)
