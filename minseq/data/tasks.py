"""The four tasks, one object each: its name, the examples it cuts from the data, its metrics
and the validation metric it watches. Everything else reads them: the model registry (which
tasks a model trains for), the pipelines (minseq.tasks), the windows (minseq.data.windows) and
the command line (``--task`` choices). A task is named here and nowhere else.

    task_of("churn")             # CHURN
    CHURN.binary, CHURN.monitor  # True, "auc"

The examples of each task (N examples, ``maxlen`` steps):

    next-item       sequences: inputs (N, maxlen) item ids, targets (N, maxlen) the next item
    next-behaviour  windows:   inputs (N, maxlen) behaviour ids, targets (N,) class ids
    will-purchase   windows:   inputs (N, maxlen) behaviour ids, targets (N,) 0/1
    churn           windows:   inputs (N, maxlen, 2) [behaviour, age bucket], targets (N,) 0/1

Next-item metrics are named per cutoff K (``hit@10``) and per protocol (minseq.tasks.evaluation).
"""

from dataclasses import dataclass


@dataclass(frozen=True, eq=False)
class Task:
    """One prediction task.

    name: as ``--task`` spells it; examples: "sequences" (per-user item sequences, split leave
    one out) or "windows" (per-user windows of behaviour, split by user); binary: one output, a
    probability of the positive class (else one score per class or item); metrics: the names of
    the test metrics (``@K``: one per cutoff); monitor: the validation metric that early stopping
    and model selection watch; horizon: the events after a window whose behaviour its target
    reads (will-purchase only); classes: the names of a binary task's classes 0 and 1 (the
    other tasks' classes are the data's behaviours). A task equals its name, so a name read
    from a checkpoint's config or written by a caller compares as the task itself."""
    name: str
    examples: str
    metrics: tuple
    monitor: str
    binary: bool = False
    horizon: int = None
    classes: tuple = ()

    def __str__(self):
        return self.name

    def __eq__(self, other):
        if isinstance(other, (Task, str)):
            return self.name == str(other)
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def metric(self, name, k):
        """A metric's name at cutoff ``k``: ``ndcg@K`` -> ``ndcg@10``."""
        return name.replace("@K", f"@{k}")


NEXT_ITEM = Task("next-item", "sequences", ("hit@K", "recall@K", "ndcg@K", "mrr@K"), "ndcg@K")
NEXT_BEHAVIOUR = Task("next-behaviour", "windows", ("accuracy", "macro_f1"), "accuracy")
WILL_PURCHASE = Task("will-purchase", "windows", ("accuracy", "macro_f1", "auc"), "auc",
                     binary=True, horizon=5, classes=("no purchase", "purchase"))
CHURN = Task("churn", "windows", ("auc", "pr_auc", "f1@0.5", "f1@valid", "threshold"), "auc",
             binary=True, classes=("stay", "churn"))

#: every task by name, in the order the command line lists them
TASKS = {t.name: t for t in (NEXT_ITEM, NEXT_BEHAVIOUR, WILL_PURCHASE, CHURN)}


def task_of(task):
    """The Task named ``task`` (a Task is returned as it is); a ValueError lists the names."""
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    return TASKS[task]
