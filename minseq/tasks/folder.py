"""A run's folder: what ``minseq train`` writes there, and how a resume goes on in it.

    best.npz     the best epoch's checkpoint (by the validation metric; a counting baseline:
                 its one fit): what ``evaluate`` and ``recommend`` read when given the folder
    last.npz     the last finished epoch's checkpoint, with the optimiser state, the best value
                 so far and the epochs waited without improvement: what ``--resume`` continues
    history.csv  one row per finished epoch, rewritten (atomically) as each epoch ends
    curves.png   the curves of history.csv, drawn at the end and when Ctrl-C stops the run
    folds.csv    cross-validation: one row per finished fold, rewritten as each fold ends

A resume continues in the folder of its checkpoint: its history.csv keeps the earlier epochs and
goes on, best.npz is replaced only by a better epoch. A resume into another folder (``--out``)
branches: the new folder starts with the history up to the checkpoint's epoch and its run's
best.npz. A folder of an older minseq holds one ``model.npz``, its best epoch: it is read as
best.npz, and a resume continues from it.
"""

import csv
import shutil
from pathlib import Path

from .. import checkpoint
from ..fast import tier
from ..files import PROBE_PREFIX, atomic_write, write_csv
from ..plot import training_curves
from ..train import Trainer, TrainingInterrupted
from .checks import SettingError

BEST, LAST, OLDER = "best.npz", "last.npz", "model.npz"
HISTORY, CURVES, FOLDS = "history.csv", "curves.png", "folds.csv"
#: every file a run writes (what --overwrite replaces)
WRITTEN = (BEST, LAST, OLDER, HISTORY, CURVES, FOLDS)


def checkpoint_in(path, which="best"):
    """The checkpoint ``path`` names: a file as it is; in a run folder, its best.npz (``which``
    "best": what evaluate and recommend read) or its last.npz ("last": what a resume continues;
    best.npz where there is none, as a counting baseline's run), else an older minseq's
    model.npz. A CheckpointError when the folder holds none."""
    path = Path(path)
    if not path.is_dir():
        return path
    names = (BEST, OLDER) if which == "best" else (LAST, BEST, OLDER)
    for name in names:
        if (path / name).is_file():
            return path / name
    raise checkpoint.CheckpointError(f"checkpoint {path} is a folder without a checkpoint "
                                     f"(looked for {', '.join(names)})")


def check_fresh(out, overwrite=False, own=None):
    """A SettingError when ``out`` is a folder that holds files (another run's), unless
    ``overwrite`` or it is ``own`` (the folder a resume continues in)."""
    out = Path(out)
    if not out.is_dir() or overwrite or (own is not None and out.resolve() == Path(own).resolve()):
        return
    # another process of the same run (mpiexec) may be probing the folder at this moment
    # (checks.check_writable): its probe is no run's file
    held = sorted(p.name for p in out.iterdir() if not p.name.startswith(PROBE_PREFIX))
    if held:
        shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
        raise SettingError(f"--out {out} is not empty (it holds {shown}); give a new folder, "
                           f"or --overwrite to replace the run there")


def clear(out):
    """Remove the files a run writes (WRITTEN) from the folder ``out``: --overwrite, so no
    checkpoint, history or curves of the run replaced stays beside the new one's."""
    for name in WRITTEN:
        (Path(out) / name).unlink(missing_ok=True)


def check_resume(path, out):
    """A SettingError for a resume, in its own run's folder ``out``, from a checkpoint that
    run went on past (best.npz before last.npz): the later epochs' history would be lost."""
    path, folder = Path(path), Path(path).parent
    last = folder / LAST
    if out is None or Path(out).resolve() != folder.resolve() or not last.is_file() \
            or last.resolve() == path.resolve():
        return
    mine, later = (checkpoint.read(p)[2].get("epoch", 0) for p in (path, last))
    if later > mine:
        raise SettingError(f"--resume {path} is epoch {mine}, but its run went on to epoch "
                           f"{later} ({last}); resume from {folder}, or give --out NEW to "
                           f"branch from epoch {mine}")


def left_to_do(path, config, run):
    """Why a resume from the checkpoint at ``path`` (its ``config``) by ``run`` (a
    RunSettings) has nothing to do, or None when it has epochs to train."""
    epoch, s = config.get("epoch", 0), run.model_settings
    if run.spec.fitted:
        return f"{run.model} is fitted in one pass, not by epochs, and {path} holds that fit"
    if epoch >= s["epochs"]:
        return (f"{path} finished epoch {epoch} of {s['epochs']}; give --epochs N above "
                f"{epoch} to train on")
    waited = config.get("waited", 0)
    if s["patience"] is not None and waited >= s["patience"]:
        return (f"early stopping ended the run at epoch {epoch} ({waited} epochs without a "
                f"better validation metric); give --patience N above {waited} to train on")
    return None


def read_history(folder, until):
    """{column: values} of the rows of ``folder``/history.csv up to epoch ``until`` ({} when
    there is no such file)."""
    path = Path(folder) / HISTORY
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= until]
    if not rows:
        return {}
    return {k: [int(r[k]) if k == "epoch" else float(r[k]) for r in rows] for k in rows[0]}


def carry_best(source, out):
    """Give the folder ``out`` the best checkpoint of the run folder ``source`` it continues,
    unless it has one: a resume that beats no epoch still ends with its run's best."""
    if (out / BEST).exists():
        return
    try:
        best = checkpoint_in(source, "best")
    except checkpoint.CheckpointError:
        return
    with open(best, "rb") as f, atomic_write(out / BEST) as g:
        shutil.copyfileobj(f, g)


def fit_epochs(run, net, optimizer, batches, *, validate, monitor, config, vocab, label=""):
    """Train ``net`` with ``optimizer`` by a Trainer for the epochs of ``run`` (a RunSettings:
    its model settings, ``resume`` and ``out`` folder), early stopping on ``monitor`` of
    ``validate(model)`` (None: none); return (the trained model: its best epoch, in the fast
    tier unless ``run.reference``; the history). With ``run.out``, best.npz and last.npz are
    saved there (``config`` and ``vocab`` with them), history.csv after every epoch, and the
    curves at the end, or at Ctrl-C, whose TrainingInterrupted then says so. ``label`` begins
    each progress line. The processes of ``run.comm`` train one model together, and the
    leading one alone writes."""
    s, out = run.model_settings, run.out
    start, best, waited = checkpoint.resume(run.resume, net, optimizer, monitor)
    history = {}
    if run.resume and out:
        history = read_history(Path(run.resume).parent, start - 1)
        if run.comm.leads:
            carry_best(Path(run.resume).parent, out)
    writes = out if run.comm.leads else None
    net = tier(net, run.reference)
    trainer = Trainer(net, optimizer, clip_norm=s["clip"], progress=not run.quiet, label=label,
                      comm=run.comm)
    title = f"{run.model} ({run.task})"
    try:
        history = trainer.fit(batches, s["epochs"], validate=validate, monitor=monitor,
                              patience=s["patience"], checkpoint_path=out and out / BEST,
                              last_path=out and out / LAST, config=config, vocab=vocab,
                              start_epoch=start, best=best, waited=waited, history=history,
                              on_epoch=writes and (lambda h: write_csv(out / HISTORY, h)))
    except TrainingInterrupted as exc:
        if not (writes and exc.history.get("epoch")):
            raise
        write_csv(out / HISTORY, exc.history)
        training_curves(exc.history, out / CURVES, title=title)
        raise exc.keeping(f"{HISTORY} and {CURVES} of the {len(exc.history['epoch'])} "
                          f"finished epoch(s) in {out}") from None
    history.pop("best", None)
    if writes:
        training_curves(history, out / CURVES, title=title)
    if out and monitor and trainer.best_epoch is None and (out / BEST).is_file():
        checkpoint.load(out / BEST, net)            # no epoch of this run beat the saved best
    return net, history
