"""What a run says before it trains, and the class balance it checks there.

A classifier run (next-behaviour, will-purchase, churn) windows each split of users, then
checks that every split holds at least two classes: a validation split of one class leaves
early stopping without its AUC, a test split of one class leaves the test metrics without
theirs. So a log too small for its task fails here, in one line that names the counts and what
to change, before any training. Then the run prints (unless quiet) what it is about to do:

    data      ub.csv: 40 users, 812 events, 300 items
    split     train 28 users, valid 6, test 6 (by user, seeded)
    windows   train 45 (38 stay, 7 churn); valid 9 (8 stay, 1 churn); test 10 (9 stay, 1 churn)
    model     lstm: 4,321 parameters
"""

import numpy as np

from .. import backend
from ..data.tasks import CHURN
from .checks import SettingError


def class_counts(targets, task, behaviour_names):
    """{class name: number of windows} of window ``targets``: a binary task's two classes
    (``task.classes``), else one per behaviour (class id = behaviour id - 1)."""
    names = task.classes if task.binary else behaviour_names[1:]
    y = np.asarray(backend.to_numpy(targets)).astype(np.int64)
    return dict(zip(names, np.bincount(y, minlength=len(names)).tolist()))


def balance(counts):
    """``45 (38 stay, 7 churn)``: the windows and their classes (those of none left out)."""
    shown = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    return f"{sum(counts.values())} ({shown})"


def check_balance(splits, task, settings):
    """A SettingError when a split's windows hold fewer than two classes. ``splits``: {name:
    (users, {class: count})}; ``settings``: the model's (churn names its --churn-days)."""
    for name, (users, counts) in splits.items():
        if sum(1 for n in counts.values() if n) >= 2:
            continue
        days = f", or other --churn-days (now {settings['churn_days']:g})" \
            if task is CHURN else ""
        shown = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise SettingError(f"--task {task}: the {name} split ({users} users) has "
                           f"{sum(counts.values())} windows: {shown}; every split needs two "
                           f"classes or more: use a log with more users{days}")


def users_of(table):
    """The number of users with at least one event in ``table``."""
    return int((table.lengths() > 0).sum())


def data_line(table):
    """``data      SOURCE: U users, E events, I items``."""
    source = table.meta.get("source", "the data")
    return (f"data      {source}: {users_of(table)} users, {len(table)} events, "
            f"{table.n_items} items")


def say(lines, quiet):
    """Print ``lines`` unless ``quiet``."""
    if not quiet:
        for line in lines:
            print(line, flush=True)
