"""Checks made before any work: every setting in its range, and the task against the data.

A run that would fail after an epoch (or succeed with nothing to show) fails here first, with
one line that names the option as the command line spells it and what it accepts:

    check_settings({"epochs": 0})           # SettingError: --epochs must be an integer >= 1, got 0
    check_fits(table, "will-purchase")      # SettingError: ... has no 'purchase' behaviour ...
"""

import math

from ..data.churn import units_per_day
from ..models.registry import CHURN, MODELS, NEXT_ITEM


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
    "threads": _int(1), "users": _int(1), "items": _int(1), "top": _int(1),
    "lr": _POSITIVE, "clip": _POSITIVE, "churn_days": _POSITIVE,
    "dropout": (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a number in [0, 1)"),
    "k": (lambda v: len(v) > 0 and all(_int(1)[0](x) for x in v),
          "one or more integers >= 1"),
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


def check_fits(table, task):
    """Raise SettingError, naming what is missing, when ``table`` cannot serve ``task``."""
    source = table.meta.get("source", "the data")
    if task == CHURN:
        try:
            units_per_day(table)
        except ValueError as exc:
            raise SettingError(str(exc)) from None
    if task == NEXT_ITEM:
        if not (table.lengths() >= 3).any():
            raise SettingError(f"--task {task} needs users with at least 3 events (train, "
                               f"validation, test); {source} has none")
        return
    present = [name for name, n in table.counts()["behaviours"].items() if n]
    if len(present) < 2:
        raise SettingError(f"--task {task} needs at least 2 behaviour types; {source} has only "
                           f"{', '.join(map(repr, present))} (for a log of one behaviour use "
                           f"--model sasrec or gru4rec)")
    if task == "will-purchase" and "purchase" not in present:
        raise SettingError(f"--task will-purchase needs a 'purchase' behaviour; {source} has "
                           f"{', '.join(map(repr, present))}")
