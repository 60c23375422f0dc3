"""The training pipelines: what ``minseq train`` and ``minseq evaluate`` run.

Models are trained; they do not train. A run's settings are one RunSettings
(minseq.tasks.settings: the model's name of minseq.models.registry, its task of
minseq.data.tasks, its settings, seed, output folder ...), built once and checked; every
pipeline takes it, and the checkpoint keeps it. Each pipeline takes an event table and the
settings, and returns a result dict with ``metrics`` (a flat dict, or one dict per evaluation
protocol) and whatever else the run reports:

    from minseq import tasks
    result = tasks.train(table, "sasrec", settings={"epochs": 5}, seed=0, out="out/sasrec")
    result = tasks.train(table, tasks.RunSettings(model="sasrec", out="out/sasrec"))  # the same
    again = tasks.evaluate(table, result["checkpoint"])

Tasks: ``next-item`` (minseq.tasks.next_item: leave-one-out, sampled and full ranking) and
``next-behaviour`` / ``will-purchase`` / ``churn`` (minseq.tasks.next_behaviour: windows per
user; churn's labels and metrics in minseq.tasks.churn). A model's task is the registry's; a
classifier may also be trained for ``will-purchase`` and ``churn``, the ``recency`` baseline for
churn only. The classifier tasks also take ``folds`` (K-fold cross-validation by user) and a
``grid`` of settings to select from (minseq.tasks.crossval).

On several processes (``run.comm``) a pipeline runs in one ``holding_ctrl_c`` block
(minseq.parallel.interrupts): Ctrl-C, in training or in the evaluations after it, stops every
process after the same sum, never one while the others wait for it.
"""

from pathlib import Path

import numpy as np

from .. import checkpoint
from ..data.tasks import NEXT_ITEM
from ..files import next_run_folder
from ..models.registry import MODELS
from ..parallel.interrupts import holding_ctrl_c
from . import crossval, next_behaviour, next_item
from .folder import CURVES, FOLDS, HISTORY, clear
from .settings import RunSettings, settings_for

__all__ = ["RunSettings", "settings_for", "train", "evaluate", "check_vocabulary"]

#: the pipeline of each kind of examples (minseq.data.tasks)
PIPELINES = {"sequences": next_item, "windows": next_behaviour}


def train(table, run, task=None, settings=None, **options):
    """Train a model on ``table`` and score it on the held-out part.

    ``run``: a RunSettings, alone; or a model name, with ``task`` (None: the model's own),
    ``settings`` (the model's settings; None values keep the default) and ``options``, the
    other fields of RunSettings (seed, out, reference, quiet, folds, grid, resume). Without an
    ``out`` folder the run writes to a new out/train/MODEL/run-N; what it writes there:
    minseq.tasks.folder (a run that does not resume replaces the files of a run there before;
    the command line refuses such a folder unless --overwrite). The test metrics are added to
    the best checkpoint's config (``test_metrics``)."""
    if isinstance(run, RunSettings):
        if task is not None or settings is not None or options:
            raise TypeError("train: give a RunSettings alone, or a model name with its "
                            "task, settings and options")
    else:
        run = RunSettings(model=run, task=task, model_settings=settings, **options)
    if run.out is None:
        run = run.replace(out=next_run_folder(Path("out") / "train" / run.model))
    if run.resume is None and run.comm.leads:
        clear(run.out)          # a fresh run: no file of a run there before stays beside it
    with holding_ctrl_c(run.comm):
        # every process has chosen the folder, checked it and cleared it before any writes there
        run.comm.barrier()
        if run.folds != 1 or run.grid:
            result = crossval.cross_validate(table, run)
        else:
            result = PIPELINES[run.task.examples].train(table, run)
    result = dict(result, task=str(run.task))
    if run.comm.leads:
        checkpoint.annotate(result["checkpoint"], test_metrics=result["metrics"])
    written = {"history_csv": HISTORY, "curves": CURVES, "folds_csv": FOLDS}
    return dict(result, **{key: str(run.out / name) for key, name in written.items()
                           if (run.out / name).is_file()})


def evaluate(table, path, seed=None, reference=False, settings=None, comm=None):
    """Re-score the checkpoint at ``path`` (written by ``train``) on ``table``, with the
    settings it was trained with, each of ``settings`` that is not None in place of the saved
    one (the evaluation options: k, negatives, exclude_seen); ``reference``: the plain layers.
    ``seed`` draws the sampled negatives of a next-item model in place of the checkpoint's; a
    classifier's test users are always those of its training split. ``comm``: the processes
    that share the scoring, each its batches (default this process's ``world()``: under
    ``mpiexec -n N``, the N processes); the metrics are those of one process, exactly."""
    config = checkpoint.read(path)[2]
    if config.get("model") not in MODELS:
        raise checkpoint.CheckpointError(f"checkpoint {path}: unknown model "
                                         f"{config.get('model')!r}; known: {', '.join(MODELS)}")
    run = RunSettings.from_config(config, reference=reference,
                                  **({} if comm is None else {"comm": comm}))
    run = run.replace(model_settings={k: v for k, v in (settings or {}).items()
                                      if v is not None})
    if seed is not None and run.task is NEXT_ITEM:
        run = run.replace(seed=seed)
    check_vocabulary(table, path, checkpoint.vocabularies(path))
    with holding_ctrl_c(run.comm):
        result = PIPELINES[run.task.examples].evaluate(table, path, run, config)
    return dict(result, task=str(run.task))


def check_vocabulary(table, path, vocab):
    """A CheckpointError when the data's items or behaviours are not the checkpoint's: the
    dense ids would mean other things."""
    for name, mine in (("item", table.item_vocab), ("behaviour", table.behaviour_names)):
        saved = vocab.get(name)
        if saved is None:
            continue
        if len(saved) != len(mine):
            raise checkpoint.CheckpointError(f"checkpoint {path} was trained on {len(saved) - 1} "
                                             f"{name}s, the data has {len(mine) - 1}")
        if (saved[1:].astype(str) != np.asarray(mine)[1:].astype(str)).any():
            raise checkpoint.CheckpointError(f"checkpoint {path} was trained on other {name}s "
                                             f"than the data's (the same number, other ids)")
