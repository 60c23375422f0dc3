"""The task vocabulary: each task one object, named in minseq.data.tasks and nowhere else, read
by the registry, the windows, the pipelines and the command line."""

import argparse
from pathlib import Path

import numpy as np
import pytest

import minseq
from minseq.commands import flags
from minseq.data import generate
from minseq.data.tasks import CHURN, NEXT_BEHAVIOUR, NEXT_ITEM, TASKS, WILL_PURCHASE, task_of
from minseq.models import registry
from minseq.tasks import evaluation, next_behaviour
from minseq.tasks.settings import RunSettings

from source_strings import string_constants

PACKAGE = Path(minseq.__file__).parent


def test_a_task_by_name():
    assert task_of("will-purchase") is WILL_PURCHASE and task_of(CHURN) is CHURN
    assert NEXT_ITEM == "next-item" != NEXT_BEHAVIOUR and "churn" in {CHURN}
    assert str(NEXT_ITEM) == "next-item" and list(TASKS) == [
        "next-item", "next-behaviour", "will-purchase", "churn"]
    with pytest.raises(ValueError, match="unknown task 'buy'; known: next-item, next-behaviour"):
        task_of("buy")


def test_a_task_name_is_written_in_the_vocabulary_only():
    found = {str(p.relative_to(PACKAGE)): hits for p in PACKAGE.rglob("*.py")
             if p.relative_to(PACKAGE) != Path("data/tasks.py")
             for hits in [[s for s in string_constants(p) if s in TASKS]] if hits}
    assert not found


def test_the_registry_and_the_command_line_read_the_vocabulary():
    assert {t for spec in registry.MODELS.values() for t in spec.tasks} == set(TASKS.values())
    assert registry.MODELS["recency"].tasks == (CHURN,)
    assert registry.task_for("lstm") is NEXT_BEHAVIOUR
    assert registry.task_for("lstm", "will-purchase") is WILL_PURCHASE
    parser = argparse.ArgumentParser()
    flags.add_output_arguments(parser)
    task = next(a for a in parser._actions if a.dest == "task")
    assert list(task.choices) == list(TASKS)


def test_next_item_metrics_are_the_tasks_at_each_cutoff():
    got = evaluation.ranking_metrics(np.array([0, 3, 12]), ks=(5, 10))
    assert set(got) == {NEXT_ITEM.metric(m, k) for m in NEXT_ITEM.metrics for k in (5, 10)}
    assert evaluation.monitored((5, 10), 100) == "sampled ndcg@10"
    assert evaluation.monitored((5, 20), 0) == "full ndcg@20"


@pytest.mark.parametrize("task", [NEXT_BEHAVIOUR, WILL_PURCHASE])
def test_a_classifiers_metrics_and_monitor_are_its_tasks(task):
    table = generate(n_users=40, n_items=30, events_per_user=20, seed=0)
    run = RunSettings(model="popular-class", task=task)
    data = next_behaviour.windows(table, task, run.model_settings)
    net = next_behaviour.fit(run, next_behaviour.sizes(table, task), data, None).net
    metrics = next_behaviour.score(net, data, task)
    assert set(metrics) <= set(task.metrics) and task.monitor in task.metrics
    assert net.n_classes == (1 if task.binary else table.n_behaviours)
