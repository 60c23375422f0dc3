"""A run's settings: one validated object, built once from the command line or from Python,
read by every pipeline and stored in the checkpoint.

    run = RunSettings(model="lstm", task="churn", model_settings={"epochs": 5}, seed=1)
    run.task.monitor, run.model_settings["lr"]      # "auc", the registry's 5e-3
    RunSettings.from_config(checkpoint.read(path)[2])   # the run a checkpoint was trained by

Built, it is already checked (minseq.tasks.checks): a setting out of its range, a task the model
is not made for, a grid or folds the pipeline cannot serve are a SettingError naming the option,
before any data is read. ``model_settings`` holds every setting of the model: the registry's
defaults, each given one (not None) in place; a setting the model does not have is checked, then
left out (``epochs`` means nothing to a counting baseline), so one dict serves every model of a
comparison.

The fields marked ``stored`` go into the checkpoint's config under their key (``to_config``) and
come back from it (``from_config``; a key an older checkpoint lacks takes the field's default).
A new field is one line here, with a rule in checks.py; mark it stored when it changes what the
checkpoint's model is.
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..data.tasks import Task
from ..models.registry import spec_of, task_for
from ..parallel.comm import world
from .checks import check_run, check_settings


def stored(key, default=dataclasses.MISSING, **kwargs):
    """A field kept in the checkpoint's config under ``key``."""
    return field(default=default, metadata={"stored": key}, **kwargs)


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """One run of a pipeline.

    model: a name of minseq.models.registry; task: a Task or its name (None: the model's own);
    model_settings: the model's settings, given ones over the registry's defaults; seed: data
    split, weights and batches; out: folder of the checkpoint, the curves and history.csv (None:
    nothing written); reference: the plain layers of minseq.nn instead of the fast tier;
    quiet: no progress lines or reports (always so on a process that does not lead); folds,
    grid: K-fold cross-validation by user and model selection over {setting: [values]}
    (minseq.tasks.crossval); resume: a checkpoint to continue from;
    dtype: "float32" or "float64", the parameters' and the arithmetic's; comm: the processes
    training together (minseq.parallel.comm; default this process's ``world()``), each taking
    its rows of every batch of ``batch_size`` rows.
    """
    model: str = stored("model")
    task: Optional[Task] = stored("task", None)
    model_settings: dict = stored("settings", default_factory=dict)
    seed: int = stored("seed", 0)
    out: Optional[Path] = None
    reference: bool = False
    quiet: bool = False
    folds: int = 1
    grid: dict = field(default_factory=dict)
    resume: Optional[str] = None
    dtype: str = stored("dtype", "float32")
    comm: object = field(default_factory=world, compare=False, repr=False)

    def __post_init__(self):
        task = task_for(self.model, self.task)
        given = dict(self.model_settings or {})
        check_settings(given, self.model)
        # frozen: the normal forms are set once, here, before the checks of the whole run
        normal = dict(task=task, model_settings=settings_for(self.model, given),
                      out=None if self.out is None else Path(self.out), grid=dict(self.grid or {}),
                      quiet=bool(self.quiet) or not self.comm.leads)
        for name, value in normal.items():
            object.__setattr__(self, name, value)
        check_run(self)

    @property
    def spec(self):
        """The model's registry entry."""
        return spec_of(self.model)

    def replace(self, **changes):
        """A copy with ``changes`` (checked again); ``model_settings`` changes are merged."""
        if "model_settings" in changes:
            changes["model_settings"] = dict(self.model_settings, **changes["model_settings"])
        return dataclasses.replace(self, **changes)

    def to_config(self):
        """The stored fields as the checkpoint's config keeps them (JSON)."""
        return {f.metadata["stored"]: str(v) if isinstance(v, Task) else v
                for f in dataclasses.fields(self) if "stored" in f.metadata
                for v in [getattr(self, f.name)]}

    @classmethod
    def from_config(cls, config, **fields):
        """The settings a checkpoint's ``config`` was trained with, and ``fields`` in place.
        Saved settings the model no longer has are left out."""
        saved = {f.name: config[f.metadata["stored"]] for f in dataclasses.fields(cls)
                 if "stored" in f.metadata and f.metadata["stored"] in config}
        if "model" not in saved:
            raise ValueError("the checkpoint's config names no model")
        spec = spec_of(saved["model"])
        saved["model_settings"] = {k: v for k, v in saved.get("model_settings", {}).items()
                                   if k in spec.settings}
        return cls(**dict(saved, **fields))


def settings_for(model, settings=None):
    """The model's default settings, with each of ``settings`` that is not None in place of
    the default; settings the model does not have are left out."""
    spec = spec_of(model)
    given = {k: v for k, v in (settings or {}).items() if v is not None and k in spec.settings}
    return dict(spec.settings, **given)
