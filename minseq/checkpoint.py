"""Checkpoints: a model's parameters, optimiser state and config in one ``.npz`` file.

Layout of the archive (every entry a plain array, so loading never needs pickle):
- ``param/<dotted name>``: each parameter, as a host array;
- ``optim/<name>/<slot>`` and ``optim/steps``: the optimiser state, when one is given;
- ``vocab/<name>``: the data's vocabularies (raw id of each dense id), when given;
- ``config``: a JSON string (a 0-d unicode array) with whatever the caller needs to rebuild the
  model (its class name and constructor arguments, the epoch, the metrics ...).

Saving is atomic: the archive is written to a temporary file in the same folder, flushed to disk,
then renamed over the target, so a crash mid-write leaves the previous checkpoint intact.
Host arrays make a checkpoint saved on the GPU load on the CPU and the reverse.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from .files import atomic_write


#: the first bytes of a zip archive's first entry: every .npz file starts with them
ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, or does not fit the model."""


def save(path, model, optimizer=None, config=None, vocab=None):
    """Write ``model`` (and ``optimizer`` state, a JSON-serialisable ``config`` and the
    ``vocab`` arrays {"vocab/user": ..., ...}) to ``path``."""
    path = Path(path)
    arrays = {f"param/{name}": value for name, value in model.state_dict().items()}
    arrays.update(vocab or {})
    if optimizer is not None:
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    arrays["config"] = np.array(json.dumps(config or {}))
    with atomic_write(path) as f:
        np.savez(f, **arrays)
    return path


def read(path):
    """The raw contents: (params dict, optimiser-state dict, config dict). Never unpickles."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path}: no such file")
    _check_is_an_archive(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path}: unreadable, truncated or corrupted "
                              f"({exc})") from None
    if "config" not in data:
        raise CheckpointError(f"checkpoint {path}: not a minseq checkpoint (no 'config' entry)")
    params = {k[len("param/"):]: v for k, v in data.items() if k.startswith("param/")}
    optim = {k[len("optim/"):]: v for k, v in data.items() if k.startswith("optim/")}
    try:
        config = json.loads(str(data["config"]))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"checkpoint {path}: config is not valid JSON ({exc})") from None
    return params, optim, config


def _check_is_an_archive(path):
    """A CheckpointError unless ``path`` starts as a zip archive does (the ``.npz`` format):
    a folder, an empty file or another kind of file is named as such, not as a corrupted
    archive (and never reaches NumPy, whose advice for a non-archive is about pickles)."""
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file")
    try:
        with open(path, "rb") as f:
            start = f.read(len(ZIP_MAGIC))
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path}: cannot be read ({exc.strerror})") from None
    if not start:
        raise CheckpointError(f"checkpoint {path}: empty file")
    if start != ZIP_MAGIC:
        raise CheckpointError(f"checkpoint {path}: not a minseq checkpoint (a checkpoint is the "
                              f"best.npz or last.npz a 'minseq train' run writes)")


def vocabularies(path):
    """{"user": ..., "item": ..., ...}: the vocabulary arrays saved with the checkpoint."""
    read(path)  # the checks and their errors
    with np.load(Path(path), allow_pickle=False) as archive:
        return {k[len("vocab/"):]: archive[k] for k in archive.files if k.startswith("vocab/")}


def load(path, model, optimizer=None):
    """Load parameters (and optimiser state) from ``path`` into ``model``; return the config.

    Every name and shape must match the model: the first mismatch is named in the error."""
    params, optim, config = read(path)
    try:
        model.load_state_dict(params)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit {model.name()}: "
                              f"{exc.args[0] if exc.args else exc}") from None
    if optimizer is not None:
        if not optim:
            raise CheckpointError(f"checkpoint {path} holds no optimiser state")
        optimizer.load_state_dict(optim)
    return config


def resume(path, model, optimizer, monitor):
    """Load a checkpoint to continue training from: (first epoch to run, the monitored value
    to beat, the epochs already waited without improvement). ``path`` None: a fresh start,
    (1, None, 0). A run's last checkpoint keeps the best value so far and the epochs waited; a
    best checkpoint (or one of an older minseq) is its own best, waited for 0 epochs."""
    if path is None:
        return 1, None, 0
    config = load(path, model, optimizer)
    best = config["best"] if "best" in config else config.get("metrics", {}).get(monitor)
    return config.get("epoch", 0) + 1, best, config.get("waited", 0)


def annotate(path, **entries):
    """Add ``entries`` to the config of the checkpoint at ``path`` (rewritten atomically)."""
    read(path)  # the checks and their errors
    with np.load(Path(path), allow_pickle=False) as archive:
        data = {k: archive[k] for k in archive.files}
    data["config"] = np.array(json.dumps(dict(json.loads(str(data["config"])), **entries)))
    with atomic_write(path) as f:
        np.savez(f, **data)
