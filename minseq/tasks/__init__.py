"""The training pipelines: what ``minseq train`` and ``minseq evaluate`` run.

Models are trained; they do not train. Each pipeline takes an event table, a model name of
minseq.models.registry and plain settings (a dict), and returns a result dict with
``metrics`` (a flat dict, or one dict per evaluation protocol) and whatever else the run
reports:

    from minseq import tasks
    result = tasks.train(table, "sasrec", settings={"epochs": 5}, seed=0, out="out/sasrec")
    again = tasks.evaluate(table, result["checkpoint"])

Tasks: ``next-item`` (minseq.tasks.next_item: leave-one-out, sampled and full ranking) and
``next-behaviour`` / ``will-purchase`` / ``churn`` (minseq.tasks.next_behaviour: windows per
user; churn's labels and metrics in minseq.tasks.churn). A model's task is the registry's; a
classifier may also be trained for ``will-purchase`` and ``churn``, the ``recency`` baseline for
churn only. The classifier tasks also take ``folds`` (K-fold cross-validation by user) and a
``grid`` of settings to select from (minseq.tasks.crossval).
"""

from pathlib import Path

import numpy as np

from .. import checkpoint
from ..files import next_run_folder, write_csv
from ..models.registry import CHURN, MODELS, NEXT_BEHAVIOUR, NEXT_ITEM, spec_of
from . import crossval, next_behaviour, next_item

PIPELINES = {NEXT_ITEM: next_item, NEXT_BEHAVIOUR: next_behaviour, CHURN: next_behaviour}
TASKS = (NEXT_ITEM, NEXT_BEHAVIOUR, "will-purchase", CHURN)


def settings_for(model, settings=None):
    """The model's default settings, with each of ``settings`` that is not None in place of
    the default. Settings the model does not have are left out (``epochs`` means nothing to a
    counting baseline), so one set of settings serves every model of a comparison."""
    spec = spec_of(model)
    given = {k: v for k, v in (settings or {}).items() if v is not None and k in spec.settings}
    return dict(spec.settings, **given)


def task_for(model, task=None):
    """``task``, or the model's own when None; a task the model is not made for is an error."""
    spec = spec_of(model)
    if task is None:
        return spec.tasks[0]
    if task not in spec.tasks:
        raise ValueError(f"{model} is a {spec.task} model: its task(s) {', '.join(spec.tasks)}, "
                         f"not {task}")
    return task


def train(table, model, task=None, settings=None, seed=0, out=None, reference=False,
          quiet=False, folds=1, grid=None, resume=None):
    """Train ``model`` (a registry name) on ``table`` and score it on the held-out part.

    settings: overrides of the model's defaults (None values keep the default); seed: data
    split, weights and batches; out: folder of the checkpoint, the curves and history.csv
    (default a new out/train/MODEL/run-N); reference: the plain layers of minseq.nn instead of
    the fast twins; folds, grid: cross-validation by user and model selection ({setting:
    [values]}), for the classifier tasks (minseq.tasks.crossval); resume: a checkpoint of the
    same model to continue training from. The test metrics are added to the checkpoint's
    config (``test_metrics``)."""
    task = task_for(model, task)
    s = settings_for(model, settings)
    out = Path(out or next_run_folder(Path("out") / "train" / model))
    pipeline = PIPELINES[MODELS[model].task]
    if folds != 1 or grid:
        if pipeline is not next_behaviour or folds < 1 or resume:
            raise ValueError(f"folds must be a whole number >= 1 and, with a grid, serve the "
                             f"classifier tasks without --resume, not {model} ({task}) with "
                             f"folds {folds}")
        result = crossval.cross_validate(table, model, task, s, seed, out, reference, quiet,
                                         folds, grid)
    else:
        result = pipeline.train(table, model, task, s, seed, out, reference, quiet, resume)
    result = dict(result, task=task)
    checkpoint.annotate(result["checkpoint"], test_metrics=result["metrics"])
    if result.get("history", {}).get("epoch"):
        write_csv(out / "history.csv", result["history"])
        result.update(history_csv=str(out / "history.csv"), curves=str(out / "curves.png"))
    return result


def evaluate(table, path, seed=None, reference=False, settings=None):
    """Re-score the checkpoint at ``path`` (written by ``train``) on ``table``, with its seed
    (unless ``seed`` is given) and evaluation settings, each of ``settings`` that is not None in
    place of the saved one."""
    config = checkpoint.read(path)[2]
    seed = config.get("seed", 0) if seed is None else seed
    if config.get("model") not in MODELS:
        raise checkpoint.CheckpointError(f"checkpoint {path}: unknown model "
                                         f"{config.get('model')!r}; known: {', '.join(MODELS)}")
    config["settings"] = dict(config.get("settings", {}), **{
        k: v for k, v in (settings or {}).items() if v is not None})
    check_vocabulary(table, path, checkpoint.vocabularies(path))
    pipeline = PIPELINES[MODELS[config["model"]].task]
    return dict(pipeline.evaluate(table, path, config, seed, reference), task=config["task"])


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
