"""A run's settings: one RunSettings, checked as it is built, read by every pipeline, stored in
the checkpoint and read back from it; and no function of minseq.tasks with a long list of
positional parameters."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import minseq.tasks
from minseq.data.tasks import CHURN, NEXT_BEHAVIOUR, NEXT_ITEM
from minseq.models.registry import MODELS
from minseq.parallel.comm import SingleProcess
from minseq.tasks import checks
from minseq.tasks.checks import SettingError, check_settings, check_writable
from minseq.tasks.settings import RunSettings


def test_built_with_the_models_defaults_and_its_own_task():
    run = RunSettings(model="lstm", model_settings={"epochs": 3, "lr": None, "k": [5]})
    assert run.task is NEXT_BEHAVIOUR and run.seed == 0 and run.out is None
    # a None keeps the default; a setting the model does not have is left out
    assert run.model_settings == dict(MODELS["lstm"].settings, epochs=3)
    assert RunSettings(model="lstm", task="churn").task is CHURN


@pytest.mark.parametrize("fields, why", [
    (dict(model="bert"), "unknown model 'bert'"),
    (dict(model="sasrec", task="churn"), "sasrec is a next-item model"),
    (dict(model="lstm", task="next-purchase"), "unknown task 'next-purchase'"),
    (dict(model="pop", model_settings={"epochs": 0}), "--epochs must be an integer >= 1"),
    (dict(model="transformer", model_settings={"num_heads": 3}), "--num-heads 3 must divide"),
    (dict(model="lstm", seed=-1), "--seed must be an integer >= 0, got -1"),
    (dict(model="lstm", seed=None), "--seed must be an integer >= 0, got None"),
    (dict(model="lstm", folds=0), "--folds must be at least 1, got 0"),
    (dict(model="pop", folds=2), "serve the classifier tasks"),
    (dict(model="lstm", grid={"lr": [0.1]}, resume="model.npz"), "without --resume"),
    (dict(model="transformer", grid={"d_model": [32, 31]}), "--num-heads 2 must divide"),
])
def test_a_bad_run_is_refused_as_it_is_built(fields, why):
    with pytest.raises(ValueError, match=why):
        RunSettings(**fields)


def test_replace_merges_model_settings_and_checks_again():
    run = RunSettings(model="lstm", model_settings={"epochs": 3})
    assert run.replace(model_settings={"lr": 0.1}).model_settings == dict(
        MODELS["lstm"].settings, epochs=3, lr=0.1)
    with pytest.raises(SettingError, match="--dropout must be"):
        run.replace(model_settings={"dropout": 1.5})


def test_fields_are_keywords_only():
    with pytest.raises(TypeError):
        RunSettings("lstm")


def test_the_checkpoint_keeps_what_rebuilds_the_run(tmp_path):
    run = RunSettings(model="sasrec", model_settings={"d_model": 16}, seed=4, out=tmp_path,
                      quiet=True)
    config = run.to_config()
    assert config == {"model": "sasrec", "task": "next-item", "seed": 4,
                      "settings": run.model_settings, "dtype": "float32"}
    again = RunSettings.from_config(config)
    assert (again.model, again.task, again.seed, again.model_settings) == (
        "sasrec", NEXT_ITEM, 4, run.model_settings)
    assert again.out is None and not again.quiet      # how to run, not what was trained


def test_an_older_checkpoints_config_still_reads():
    """Next-item checkpoints kept the seed among their settings; a setting the model no longer
    has is left out, and a key the config lacks takes the field's default."""
    old = {"model": "gru4rec", "task": "next-item", "settings": dict(
        MODELS["gru4rec"].settings, seed=7, k=[10], retired=1), "kwargs": {}, "maxlen": 50}
    run = RunSettings.from_config(old)
    assert run.seed == 0 and "seed" not in run.model_settings and "retired" not in \
        run.model_settings
    with pytest.raises(ValueError, match="names no model"):
        RunSettings.from_config({"settings": {}})


def functions_of_the_tasks_package():
    """(qualified name, function) of every function and method defined in minseq.tasks."""
    for info in pkgutil.iter_modules(minseq.tasks.__path__, "minseq.tasks."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    member = getattr(member, "__func__", member)
                    if inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}", member


def positional(function):
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in inspect.signature(function).parameters.values() if p.kind in kinds
            and p.name not in ("self", "cls")]


def test_no_function_of_the_tasks_takes_more_than_six_positional_parameters():
    found = dict(functions_of_the_tasks_package())
    assert "minseq.tasks.settings.RunSettings.__init__" in found   # the check sees methods
    assert "minseq.tasks.next_behaviour.fit" in found
    assert {name: len(positional(f)) for name, f in found.items() if len(positional(f)) > 6} \
        == {}


def test_the_positional_count_sees_a_long_list():
    def long(a, b, c, d, e, f, g, *, h=None):
        return a, b, c, d, e, f, g, h
    assert len(positional(long)) == 7


def test_a_setting_is_named_by_its_command_line_flag():
    from minseq.tasks.checks import flag
    assert flag("d_model") == "--d-model" and flag("churn_days") == "--churn-days"
    assert flag("lr") == "--lr"


def log_of(users, behaviours, source="tiny.csv"):
    """A log of one event per entry: ``users`` (dense ids, sorted) and ``behaviours`` (names)."""
    import numpy as np
    from minseq.data.events import BEHAVIOURS, EventTable, behaviour_vocab
    n = len(users)
    return EventTable(user=np.array(users), item=np.ones(n, np.int64), category=None,
                      behaviour=np.array([BEHAVIOURS.index(b) + 1 for b in behaviours]),
                      timestamp=np.arange(n) * 86_400, user_vocab=np.arange(max(users) + 1),
                      item_vocab=np.arange(2), category_vocab=None,
                      behaviour_names=behaviour_vocab(BEHAVIOURS),
                      meta={"source": source} if source else {})


def test_a_log_that_cannot_serve_its_task_is_named_with_what_it_lacks():
    from minseq.tasks.checks import check_fits
    short = log_of([1, 1, 2, 2], ["click"] * 4)
    nameless = log_of([1, 1], ["click"] * 2, source=None)
    for table, where in ((short, "tiny.csv"), (nameless, "the data")):
        with pytest.raises(SettingError, match=re.escape(
                f"--task next-item needs users with at least 3 events (train, validation, "
                f"test); {where} has none")):
            check_fits(table, "next-item")
    check_fits(log_of([1, 1, 2, 2, 2], ["click"] * 5), "next-item")     # one user of 3
    with pytest.raises(SettingError, match=re.escape(
            "--task next-behaviour needs at least 2 behaviour types; tiny.csv has only 'click' "
            "(for a log of one behaviour use --model sasrec or gru4rec)")):
        check_fits(short, "next-behaviour")
    two = log_of([1, 1, 2, 2], ["click", "cart", "click", "cart"])
    check_fits(two, "next-behaviour")                                   # no purchase needed
    with pytest.raises(SettingError, match=re.escape(
            "--task will-purchase needs a 'purchase' behaviour; tiny.csv has 'click', 'cart'")):
        check_fits(two, "will-purchase")
    check_fits(log_of([1, 1, 2, 2], ["click", "purchase", "click", "cart"]), "will-purchase")


def test_a_config_without_settings_gives_the_models_defaults():
    run = RunSettings.from_config({"model": "lstm"})
    assert run.model_settings == MODELS["lstm"].settings
    with pytest.raises(ValueError, match="^the checkpoint's config names no model$"):
        RunSettings.from_config({"settings": {}})


def test_a_run_stores_its_model_task_settings_seed_and_dtype():
    run = RunSettings(model="lstm", model_settings={"d_model": 8}, seed=3, dtype="float64")
    assert run.to_config() == {"model": "lstm", "task": "next-behaviour", "seed": 3,
                               "settings": dict(MODELS["lstm"].settings, d_model=8),
                               "dtype": "float64"}
    assert RunSettings.from_config(run.to_config()) == run


def test_a_run_is_built_in_its_normal_forms():
    grid = {"lr": [0.1, 0.2]}
    run = RunSettings(model="lstm", model_settings=None, out="runs/a", grid=grid, quiet=1)
    assert run.out == Path("runs/a") and isinstance(run.out, Path)
    assert run.grid == grid and run.grid is not grid and run.quiet is True
    assert run.model_settings == MODELS["lstm"].settings
    assert RunSettings(model="lstm", grid=None).grid == {}
    assert RunSettings(model="lstm").quiet is False


def test_a_process_that_does_not_lead_is_always_quiet():
    follower = SingleProcess()
    follower.rank = 1
    assert not follower.leads
    assert RunSettings(model="lstm", comm=follower).quiet is True
    assert RunSettings(model="lstm", comm=SingleProcess()).quiet is False


def test_a_folder_or_a_file_to_write_is_checked_for_its_kind_and_its_nearest_folder(tmp_path):
    (tmp_path / "f").write_text("")
    (tmp_path / "d").mkdir()
    with pytest.raises(SettingError, match=re.escape(f"--out {tmp_path / 'f'} is a file, "
                                                     f"expected a folder")):
        check_writable(tmp_path / "f", "--out", folder=True)
    with pytest.raises(SettingError, match=re.escape(f"--metrics-out {tmp_path / 'd'} is a "
                                                     f"folder, expected a file")):
        check_writable(tmp_path / "d", "--metrics-out")
    check_writable(tmp_path / "d", "--out", folder=True)
    check_writable(tmp_path / "f", "--metrics-out")
    check_writable(str(tmp_path / "new" / "deeper" / "m.json"), "--metrics-out")
    check_writable(tmp_path / "new" / "run", "--out", folder=True)
    with pytest.raises(SettingError, match=re.escape(
            f"--out {tmp_path / 'f' / 'run'}: cannot write there ({tmp_path / 'f'} is not a "
            f"writable folder)")):
        check_writable(tmp_path / "f" / "run", "--out", folder=True)


def test_a_global_batch_needs_a_row_for_each_process(tmp_path):
    two = SingleProcess()
    two.size = 2
    with pytest.raises(SettingError, match=re.escape(
            "--batch-size 1 is the global batch: it must be at least the 2 processes, one row "
            "each")):
        RunSettings(model="lstm", model_settings={"batch_size": 1}, comm=two)
    assert RunSettings(model="lstm", model_settings={"batch_size": 2}, comm=two).comm is two
    with pytest.raises(SettingError, match=re.escape(f"--out {tmp_path / 'f'} is a file")):
        (tmp_path / "f").write_text("")
        RunSettings(model="lstm", out=tmp_path / "f")


@pytest.mark.parametrize("value, ok", [(1, True), (0, False), (True, False), (2.0, False)])
def test_a_count_setting_is_an_int_at_its_bound_or_above_never_a_bool_or_float(value, ok):
    if ok:
        check_settings({"epochs": value})
    else:
        with pytest.raises(SettingError, match=re.escape(
                f"--epochs must be an integer >= 1, got {value}")):
            check_settings({"epochs": value})


def test_every_setting_is_checked_past_a_default_and_a_list_is_shown_as_typed():
    """A None (the model's default) or a name without a rule is passed over, not the end of
    the checks; a list of cutoffs is shown as it is typed on the command line."""
    with pytest.raises(SettingError, match=re.escape("--batch-size must be an integer >= 1, "
                                                     "got 0")):
        check_settings({"epochs": None, "shuffle": True, "batch_size": 0})
    with pytest.raises(SettingError, match=re.escape("--k must be one or more integers >= 1, "
                                                     "got 5 0")):
        check_settings({"k": [5, 0]})


def test_a_grids_candidate_is_checked_with_the_runs_own_settings():
    """--d-model 30 with the grid's --num-heads 4: the candidate is the run's settings with the
    grid's values, so 4 heads do not divide 30 (they would divide the default 32)."""
    with pytest.raises(SettingError, match=re.escape("--num-heads 4 must divide --d-model 30")):
        RunSettings(model="transformer", model_settings={"d_model": 30},
                    grid={"num_heads": [2, 4]})


@pytest.mark.parametrize("resume, said", [(None, "with folds 2"),
                                          ("model.npz", "with folds 2 and --resume")])
def test_folds_outside_the_classifier_tasks_say_the_resume_only_when_given(resume, said):
    with pytest.raises(SettingError) as refused:
        RunSettings(model="pop", folds=2, resume=resume)
    assert str(refused.value).endswith(said)


def test_the_folder_written_into_is_the_one_asked_for_or_its_nearest_ancestor(tmp_path,
                                                                               monkeypatch):
    """An existing folder is itself the place to write; a new one, its nearest existing
    ancestor; a folder not writable is refused, named."""
    asked = []
    monkeypatch.setattr(checks, "can_write_in", lambda folder: asked.append(folder) or True)
    (tmp_path / "run").mkdir()
    check_writable(tmp_path / "run", "--out", folder=True)
    check_writable(tmp_path / "new" / "run", "--out", folder=True)
    assert asked == [tmp_path / "run", tmp_path]
    monkeypatch.setattr(checks, "can_write_in", lambda folder: False)
    with pytest.raises(SettingError, match=re.escape(f"({tmp_path / 'run'} is not a writable "
                                                     "folder)")):
        check_writable(tmp_path / "run", "--out", folder=True)
