"""The training loop: epochs, clipping, validation, early stopping, checkpoints, a loss curve.

A trainable model follows a two-method protocol on top of the Module contract:

- ``model.loss(batch)``: forward a training batch (the tuple a batch iterator yields, e.g.
  ``(inputs, targets, mask)`` from ``minseq.data.Batches``) through the model and its loss,
  caching what backward needs, and return the 0-d loss;
- ``model.backward_loss()``: backpropagate that loss into every parameter gradient.

Validation is any callable ``validate(model) -> {metric: value}`` (run in eval mode); early
stopping watches one of its metrics. Training stops with FloatingPointError naming the epoch and
step as soon as a loss is NaN or infinite.

On several processes (``mpiexec -n N``; ``comm``, a communicator of minseq.parallel.comm) the
loop is the same: one hook, ``backprop``, gives the loss and gradients of the whole batch
(minseq.parallel.processes.DataParallel: each process its rows, one all-reduce), and only the
leading process (rank 0) prints and saves. While ``fit`` runs there, Ctrl-C is held to the
next step's all-reduce, so every process stops after the same step (minseq.parallel.interrupts);
once it returns or raises, Ctrl-C stops at once again.
"""

from contextlib import nullcontext
import math
import sys
import time

from tqdm import tqdm

from . import backend
from .optim import clip_grad_norm
from .parallel.comm import SingleProcess
from .parallel.interrupts import holding_ctrl_c
from .parallel.processes import DataParallel


class TrainingInterrupted(Exception):
    """Ctrl-C during ``Trainer.fit``: the epoch it stopped in, the best checkpoint saved so far
    (None when none was) and the ``history`` of the finished epochs, in one line; ``kept``:
    what else was kept (said after the checkpoint)."""

    def __init__(self, epoch, checkpoint_path, history=None, kept=()):
        self.epoch, self.checkpoint_path = epoch, checkpoint_path
        self.history, self.kept = history or {}, tuple(kept)
        where = f"best checkpoint at {checkpoint_path}" if checkpoint_path else \
            "no checkpoint saved yet"
        super().__init__("; ".join((f"interrupted at epoch {epoch}", where, *self.kept)))

    def keeping(self, what):
        """The same interruption, saying that ``what`` was kept too."""
        return TrainingInterrupted(self.epoch, self.checkpoint_path, self.history,
                                   (*self.kept, what))


def _clock(seconds):
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def backprop(model, batch):
    """The loss of ``batch`` and, when it is finite, every parameter's gradient of it: the
    Trainer's step in one process."""
    loss = float(model.loss(batch))
    if math.isfinite(loss):
        model.backward_loss()
    return loss


class Progress:
    """Progress of one epoch: a tqdm bar with elapsed time, ETA, loss and examples/s on a
    terminal; then (on a terminal or not) one line for the epoch, with the run's elapsed time
    and an ETA for the remaining epochs. Examples/s is the training pass's: the examples over
    the time from the epoch's start to its last step, so the validation and the checkpoints
    after it do not count."""

    def __init__(self, total, epoch, epochs, run, stream=None, enabled=True, label="",
                 processes=1):
        """run: (first epoch of this run, its start time by time.perf_counter); label: what
        each line begins with (``fold 2/5  ``); processes: how many train it (said in the line
        when more than one)."""
        self.epoch, self.epochs, self.run, self.label = epoch, epochs, run, label
        self.processes = processes
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.loss, self.examples, self.seconds = float("nan"), 0, 0.0
        self.bar = tqdm(total=total, desc=f"{label}epoch {epoch}/{epochs}", unit="batch",
                        file=self.stream, leave=False, dynamic_ncols=True,
                        disable=not (enabled and self.stream.isatty()))

    def update(self, done, loss, examples):
        self.bar.update(done - self.bar.n)
        self.loss, self.examples = loss, examples
        self.seconds = time.perf_counter() - self.t0
        self.bar.set_postfix_str(f"loss {loss:.4f}, {self.rate():,.0f} examples/s", refresh=False)

    def rate(self):
        """Examples/s of the training pass so far (up to the last ``update``)."""
        return self.examples / max(self.seconds, 1e-9)

    def close(self, extra=""):
        """Close the bar and print the epoch's line (``extra``: its validation metrics); the
        ETA assumes the remaining epochs take the mean time of those done."""
        self.bar.close()
        if not self.enabled:
            return
        now = time.perf_counter()
        first, t_run = self.run
        elapsed = now - t_run
        eta = elapsed / (self.epoch - first + 1) * (self.epochs - self.epoch)
        on = f" on {self.processes} processes" if self.processes > 1 else ""
        print(f"{self.label}epoch {self.epoch}/{self.epochs}  loss {self.loss:.4f}  "
              f"{self.rate():,.0f} examples/s{on}  elapsed {_clock(elapsed)}  "
              f"ETA {_clock(eta)}{extra}",
              file=self.stream, flush=True)

    def note(self, text):
        if self.enabled:
            print(f"{self.label}{text}", file=self.stream, flush=True)


class Trainer:
    """Fit ``model`` with ``optimizer``.

    clip_norm: rescale gradients to this global L2 norm before each step (None: no clipping).
    progress: print a progress line per epoch (to stderr), each beginning with ``label``.
    comm: the processes training this model together (minseq.parallel.comm; None: this one).
    """

    def __init__(self, model, optimizer, clip_norm=None, progress=True, label="", comm=None):
        for name in ("loss", "backward_loss"):
            if not callable(getattr(model, name, None)):
                raise TypeError(f"Trainer: {model.name()} has no {name}() method "
                                "(see minseq.train for the protocol)")
        self.model, self.optimizer = model, optimizer
        self.comm = comm or SingleProcess()
        self.clip_norm, self.label = clip_norm, label
        self.progress = progress and self.comm.leads
        self.backprop = backprop if self.comm.size == 1 else \
            DataParallel(model, self.comm).backprop

    def train_epoch(self, batches, epoch=1, bar=None):
        """One pass over ``batches``; returns the mean training loss."""
        self.model.train()
        total, count, examples = 0.0, 0, 0
        for step, batch in enumerate(batches, 1):
            loss = self.backprop(self.model, batch)
            if not math.isfinite(loss):
                raise FloatingPointError(f"Trainer: the loss is {loss} at epoch {epoch}, step "
                                         f"{step}; lower the learning rate or clip gradients")
            if self.clip_norm is not None:
                clip_grad_norm(self.model, self.clip_norm)
            self.optimizer.step()
            total, count = total + loss, count + 1
            examples += len(batch[0])
            if bar is not None:
                bar.update(step, total / count, examples)
        return total / max(count, 1)

    def fit(self, train_batches, epochs, validate=None, monitor=None, mode="max", patience=None,
            restore_best=True, checkpoint_path=None, config=None, vocab=None, start_epoch=1,
            best=None, waited=0, last_path=None, history=None, on_epoch=None):
        """Train for up to ``epochs`` epochs; return the history.

        history: {"epoch": [...], "train_loss": [...], "seconds": [...], and one list per
        validation metric}. With ``monitor`` (a metric name) and ``patience``, training stops
        after ``patience`` epochs without improvement (``mode`` "max" or "min"), with a line
        naming the best epoch; with ``restore_best`` the best epoch's parameters are put back at
        the end. With ``checkpoint_path`` the best model (or the last, without a monitor) is
        saved there, with ``config`` and the ``vocab`` arrays; with ``last_path`` every epoch's
        model and optimiser are saved there, with the best value so far and the epochs waited
        (``best`` and ``waited`` in its config: what a resume needs). A resumed run starts at
        ``start_epoch`` with the monitored value ``best`` to beat, ``waited`` epochs already
        without improvement, and the ``history`` of its earlier epochs, which the returned
        history extends. ``on_epoch(history)`` is called after each epoch's checkpoints are
        saved and before its progress line. Ctrl-C raises TrainingInterrupted with the history
        of the finished epochs (the checkpoints saved so far are whole: saves are atomic).
        """
        if mode not in ("max", "min"):
            raise ValueError(f"Trainer.fit: mode must be 'max' or 'min', got {mode!r}")
        if monitor is not None and validate is None:
            raise ValueError("Trainer.fit: monitor needs a validate function")
        history = {k: list(v) for k, v in (history or {}).items()} or \
            {"epoch": [], "train_loss": [], "seconds": []}
        self.saved, self.best_epoch, best_epoch = None, None, None
        best_state = None
        run = (start_epoch, time.perf_counter())
        epoch = start_epoch
        try:
            with holding_ctrl_c(self.comm):
                for epoch in range(start_epoch, epochs + 1):
                    t0 = time.perf_counter()
                    bar = Progress(len(train_batches), epoch, epochs, run, enabled=self.progress,
                                   label=self.label, processes=self.comm.size)
                    # the first epoch checked every row (ids in range, ...): later epochs see the
                    # same rows, so their steps skip the checks that read device data
                    checked = backend.inputs_checked() if epoch > start_epoch else nullcontext()
                    try:
                        with checked:
                            loss = self.train_epoch(train_batches, epoch, bar)
                            metrics = {}
                            if validate is not None:
                                self.model.eval()
                                metrics = dict(validate(self.model))
                    finally:
                        bar.bar.close()
                    seconds = time.perf_counter() - t0
                    for key, value in (("epoch", epoch), ("train_loss", loss), ("seconds", seconds),
                                       *metrics.items()):
                        history.setdefault(key, []).append(value)
                    self._check_monitor(monitor, metrics, epoch)
                    improved = monitor is None or best is None or (
                        metrics[monitor] > best if mode == "max" else metrics[monitor] < best)
                    if improved:
                        if monitor is not None:
                            best, best_epoch, waited = metrics[monitor], epoch, 0
                            best_state = self.model.state_dict()
                        if checkpoint_path:
                            self._save_checkpoint(checkpoint_path, config, vocab, epoch, metrics)
                            self.saved = checkpoint_path
                    else:
                        waited += 1
                    if last_path:
                        self._save_checkpoint(last_path, dict(config or {}, best=best,
                                                              waited=waited),
                                              vocab, epoch, metrics)
                    if on_epoch is not None:
                        on_epoch(history)
                    # the epoch's line after its checkpoint is saved: Ctrl-C once it shows keeps it
                    bar.close("".join(f"  valid {k} {v:.4f}" for k, v in metrics.items()))
                    if patience is not None and waited >= patience:
                        bar.note(f"early stopping at epoch {epoch}: valid {monitor} has not "
                                 f"improved for {patience} epochs; best epoch "
                                 f"{best_epoch or 'before this run'} ({monitor} {best:.4f})")
                        break
        except KeyboardInterrupt:
            # an epoch's row is whole, or left out (Ctrl-C may land while it is appended)
            n = min(len(v) for v in history.values())
            raise TrainingInterrupted(epoch, self.saved, {k: v[:n] for k, v in history.items()}
                                      ) from None
        if restore_best and best_state is not None:
            self.model.load_state_dict(best_state)
        history["best"] = best
        self.best_epoch = best_epoch
        return history

    @staticmethod
    def _check_monitor(monitor, metrics, epoch):
        """Raise unless the monitored metric is there and finite (NaN never compares better:
        it would stop training silently)."""
        if monitor is None:
            return
        if monitor not in metrics:
            raise KeyError(f"Trainer.fit: monitor {monitor!r} is not among the validation "
                           f"metrics {sorted(metrics)}")
        if not math.isfinite(metrics[monitor]):
            raise FloatingPointError(f"Trainer.fit: monitor {monitor!r} is {metrics[monitor]} "
                                     f"at epoch {epoch}")

    def _save_checkpoint(self, path, config, vocab, epoch, metrics):
        from . import checkpoint
        if self.comm.leads:
            checkpoint.save(path, self.model, self.optimizer,
                            dict(config or {}, epoch=epoch, metrics=metrics), vocab)
