"""The model registry: one home for every model's name, class, task and default settings."""

import argparse
from pathlib import Path

import pytest

import minseq
from minseq.commands import train as train_command
from minseq.models import registry

from source_strings import string_constants

PACKAGE = Path(minseq.__file__).parent


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_each_model_builds_from_its_defaults(xp, name):
    spec = registry.MODELS[name]
    assert set(spec.model_args) <= set(spec.settings) | {"seed"}
    sizes = {"n_items": 7} if spec.task == registry.NEXT_ITEM else {"n_behaviours": 3,
                                                                    "n_classes": 3}
    if spec.task == registry.CHURN:
        sizes.update(n_classes=1, n_categories=4)
    model = spec.build(dict(spec.settings, seed=0), **sizes)
    assert type(model) is spec.cls
    assert spec.task in spec.tasks


def test_every_class_has_one_name_and_the_baselines_one_per_task():
    classes = [spec.cls for spec in registry.MODELS.values()]
    assert len(set(classes)) == len(classes)
    assert {n for n, s in registry.MODELS.items() if s.fitted} == {
        "pop", "markov", "popular-class", "markov-behaviour", "recency"}


def test_the_command_line_offers_exactly_the_registry():
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    model = next(a for a in parser._actions if a.dest == "model")
    assert list(model.choices) == list(registry.MODELS)


def test_a_model_name_is_written_in_the_registry_only():
    """No other module of the package spells a model's name as a string: the command line,
    the pipelines, evaluate, checkpoints and the benchmark all read the registry."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "registry.py":
            hits = [s for s in string_constants(path) if s in registry.MODELS]
            if hits:
                found[str(path.relative_to(PACKAGE))] = hits
    assert not found


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'bert'; known: gru4rec, sasrec"):
        registry.spec_of("bert")
