"""Checks made before any work: every setting in its range, a run's settings as a whole
(minseq.tasks.settings), and the task against the data.

A run that would fail after an epoch (or succeed with nothing to show) fails here first, with
one line that names the option as the command line spells it and what it accepts:

    check_settings({"epochs": 0})           # SettingError: --epochs must be an integer >= 1, got 0
    check_fits(table, WILL_PURCHASE)        # SettingError: ... has no 'purchase' behaviour ...
"""

import itertools
import math
from pathlib import Path

from ..data.churn import units_per_day
from ..data.tasks import CHURN, NEXT_ITEM, WILL_PURCHASE, task_of
from ..files import can_write_in
from ..models.registry import MODELS
from ..models.sasrec import LOSSES


class SettingError(ValueError):
    """A setting out of its range, or a task the data cannot serve."""


def _int(low):
    return (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low,
            f"an integer >= {low}")


_POSITIVE = (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v > 0,
             "a finite number > 0")

#: setting -> (accepts(value), what it accepts); None always passes (the model's default)
RULES = {
    "epochs": _int(1), "batch_size": _int(1), "maxlen": _int(1), "d_model": _int(1),
    "num_heads": _int(1), "num_layers": _int(1), "patience": _int(1), "negatives": _int(0),
    "threads": _int(1), "users": _int(1), "items": _int(1), "top": _int(1), "seed": _int(0),
    "lr": _POSITIVE, "clip": _POSITIVE, "churn_days": _POSITIVE,
    "dropout": (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a number in [0, 1)"),
    "dtype": (lambda v: v in ("float32", "float64"), "float32 or float64"),
    "k": (lambda v: len(v) > 0 and all(_int(1)[0](x) for x in v),
          "one or more integers >= 1"),
    "loss": (lambda v: v in LOSSES, f"one of {', '.join(LOSSES)}"),
    "loss_negatives": _int(1),
    "gbce_t": (lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "a number in [0, 1]"),
}


def flag(name):
    """The command-line spelling of a setting: ``d_model`` -> ``--d-model``."""
    return "--" + name.replace("_", "-")


def check_settings(settings, model=None):
    """Raise SettingError for the first setting outside its range; with ``model``, also when
    its number of heads does not divide its width (given or default)."""
    for name, value in settings.items():
        if value is None or name not in RULES:
            continue
        accepts, what = RULES[name]
        if not accepts(value):
            shown = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            raise SettingError(f"{flag(name)} must be {what}, got {shown}")
    if model is not None and "num_heads" in MODELS[model].settings:
        merged = dict(MODELS[model].settings, **{k: v for k, v in settings.items()
                                                  if v is not None})
        if merged["d_model"] % merged["num_heads"]:
            raise SettingError(f"--num-heads {merged['num_heads']} must divide --d-model "
                               f"{merged['d_model']} ({model} splits the width across heads)")


def check_run(run):
    """Raise SettingError for a run's settings (a RunSettings, its model settings already
    checked) that no pipeline can serve: a negative seed, a dtype other than float32 or
    float64, a global batch smaller than the processes, folds below 1, cross-validation or a
    grid outside the classifier tasks or with a resume, a grid's candidate out of range."""
    for name in ("seed", "dtype"):
        accepts, what = RULES[name]
        if not accepts(getattr(run, name)):
            raise SettingError(f"{flag(name)} must be {what}, got {getattr(run, name)}")
    batch, processes = run.model_settings.get("batch_size"), run.comm.size
    if batch is not None and batch < processes:
        raise SettingError(f"--batch-size {batch} is the global batch: it must be at least the "
                           f"{processes} processes, one row each")
    if not isinstance(run.folds, int) or run.folds < 1:
        raise SettingError(f"--folds must be at least 1, got {run.folds}")
    if (run.folds != 1 or run.grid) and (run.task.examples != "windows" or run.resume):
        raise SettingError(f"--folds and --grid serve the classifier tasks without --resume, "
                           f"not {run.model} ({run.task}) with folds {run.folds}"
                           + (" and --resume" if run.resume else ""))
    for values in itertools.product(*run.grid.values()):
        check_settings(dict(run.model_settings, **dict(zip(run.grid, values))), run.model)
    if run.out is not None:
        check_writable(run.out, "--out", folder=True)


def check_writable(path, what, folder=False):
    """A SettingError unless ``path`` (a file, or a ``folder``) can be written: a file can be
    created in the nearest existing ancestor (tried, minseq.files.can_write_in: permission bits
    say nothing of /proc), and the path itself is no folder (or no file)."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        raise SettingError(f"{what} {path} is a {'file' if folder else 'folder'}, "
                           f"expected a {'folder' if folder else 'file'}")
    parent = path if folder and path.exists() else path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not can_write_in(parent):
        raise SettingError(f"{what} {path}: cannot write there ({parent} is not a writable "
                           f"folder)")


def check_fits(table, task):
    """Raise SettingError, naming what is missing, when ``table`` cannot serve ``task``."""
    task = task_of(task)
    source = table.meta.get("source", "the data")
    if task is CHURN:
        try:
            units_per_day(table)
        except ValueError as exc:
            raise SettingError(str(exc)) from None
    if task is NEXT_ITEM:
        if not (table.lengths() >= 3).any():
            raise SettingError(f"--task {task} needs users with at least 3 events (train, "
                               f"validation, test); {source} has none")
        return
    present = [name for name, n in table.counts()["behaviours"].items() if n]
    if len(present) < 2:
        raise SettingError(f"--task {task} needs at least 2 behaviour types; {source} has only "
                           f"{', '.join(map(repr, present))} (for a log of one behaviour use "
                           f"--model sasrec or gru4rec)")
    if task is WILL_PURCHASE and "purchase" not in present:
        raise SettingError(f"--task will-purchase needs a 'purchase' behaviour; {source} has "
                           f"{', '.join(map(repr, present))}")
