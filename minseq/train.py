"""The training loop: epochs, clipping, validation, early stopping, checkpoints, a loss curve.

A trainable model follows a two-method protocol on top of the Module contract:

- ``model.loss(batch)``: forward a training batch (the tuple a batch iterator yields, e.g.
  ``(inputs, targets, mask)`` from ``minseq.data.Batches``) through the model and its loss,
  caching what backward needs, and return the 0-d loss;
- ``model.backward_loss()``: backpropagate that loss into every parameter gradient.

Validation is any callable ``validate(model) -> {metric: value}`` (run in eval mode); early
stopping watches one of its metrics. Training stops with FloatingPointError naming the epoch and
step as soon as a loss is NaN or infinite.
"""

import contextlib
import math
import sys
import time

from . import backend
from .optim import clip_grad_norm


class Progress:
    """One line per epoch: batches done, mean loss, examples per second (redrawn on a terminal)."""

    def __init__(self, total, epoch, epochs, stream=None, enabled=True):
        self.total, self.epoch, self.epochs = total, epoch, epochs
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.t0 = time.perf_counter()
        self.done, self.loss, self.examples = 0, float("nan"), 0

    def line(self):
        rate = self.examples / max(time.perf_counter() - self.t0, 1e-9)
        filled = 20 * self.done // max(self.total, 1)
        return (f"epoch {self.epoch}/{self.epochs} [{'#' * filled}{'.' * (20 - filled)}] "
                f"{self.done}/{self.total}  loss {self.loss:.4f}  {rate:,.0f} examples/s")

    def update(self, done, loss, examples):
        self.done, self.loss, self.examples = done, loss, examples
        if self.live:
            print("\r" + self.line(), end="", file=self.stream, flush=True)

    def close(self, extra=""):
        if self.enabled:
            print(("\r" if self.live else "") + self.line() + extra, file=self.stream, flush=True)


class Trainer:
    """Fit ``model`` with ``optimizer``.

    clip_norm: rescale gradients to this global L2 norm before each step (None: no clipping).
    progress: print a progress line per epoch (to stderr).
    """

    def __init__(self, model, optimizer, clip_norm=None, progress=True):
        for name in ("loss", "backward_loss"):
            if not callable(getattr(model, name, None)):
                raise TypeError(f"Trainer: {model.name()} has no {name}() method "
                                "(see minseq.train for the protocol)")
        self.model, self.optimizer = model, optimizer
        self.clip_norm, self.progress = clip_norm, progress

    def train_epoch(self, batches, epoch=1, bar=None):
        """One pass over ``batches``; returns the mean training loss."""
        self.model.train()
        total, count, examples = 0.0, 0, 0
        for step, batch in enumerate(batches, 1):
            loss = float(self.model.loss(batch))
            if not math.isfinite(loss):
                raise FloatingPointError(f"Trainer: the loss is {loss} at epoch {epoch}, step "
                                         f"{step}; lower the learning rate or clip gradients")
            self.model.backward_loss()
            if self.clip_norm is not None:
                clip_grad_norm(self.model, self.clip_norm)
            self.optimizer.step()
            total, count = total + loss, count + 1
            examples += len(batch[0])
            if bar is not None:
                bar.update(step, total / count, examples)
        return total / max(count, 1)

    def fit(self, train_batches, epochs, validate=None, monitor=None, mode="max", patience=None,
            restore_best=True, checkpoint_path=None, config=None):
        """Train for up to ``epochs`` epochs; return the history.

        history: {"epoch": [...], "train_loss": [...], "seconds": [...], and one list per
        validation metric}. With ``monitor`` (a metric name) and ``patience``, training stops
        after ``patience`` epochs without improvement (``mode`` "max" or "min"); with
        ``restore_best`` the best epoch's parameters are put back at the end. With
        ``checkpoint_path`` the best model (or the last, without a monitor) is saved there.
        """
        if mode not in ("max", "min"):
            raise ValueError(f"Trainer.fit: mode must be 'max' or 'min', got {mode!r}")
        if monitor is not None and validate is None:
            raise ValueError("Trainer.fit: monitor needs a validate function")
        history = {"epoch": [], "train_loss": [], "seconds": []}
        best, best_state, waited = None, None, 0
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            bar = Progress(len(train_batches), epoch, epochs, enabled=self.progress)
            # the first epoch checked every row (ids in range, ...): later epochs see the same
            # rows, so their steps skip the checks that read device data
            with backend.inputs_checked() if epoch > 1 else contextlib.nullcontext():
                loss = self.train_epoch(train_batches, epoch, bar)
                metrics = {}
                if validate is not None:
                    self.model.eval()
                    metrics = dict(validate(self.model))
            seconds = time.perf_counter() - t0
            for key, value in (("epoch", epoch), ("train_loss", loss), ("seconds", seconds),
                               *metrics.items()):
                history.setdefault(key, []).append(value)
            bar.close("".join(f"  {k} {v:.4f}" for k, v in metrics.items()))
            if monitor is None:
                if checkpoint_path:
                    self._save_checkpoint(checkpoint_path, config, epoch, metrics)
                continue
            if monitor not in metrics:
                raise KeyError(f"Trainer.fit: monitor {monitor!r} is not among the validation "
                               f"metrics {sorted(metrics)}")
            value = metrics[monitor]
            if not math.isfinite(value):     # NaN never compares better: it would stop silently
                raise FloatingPointError(f"Trainer.fit: monitor {monitor!r} is {value} at "
                                         f"epoch {epoch}")
            if best is None or (value > best if mode == "max" else value < best):
                best, waited = value, 0
                best_state = self.model.state_dict()
                if checkpoint_path:
                    self._save_checkpoint(checkpoint_path, config, epoch, metrics)
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
        if restore_best and best_state is not None:
            self.model.load_state_dict(best_state)
        history["best"] = best
        return history

    def _save_checkpoint(self, path, config, epoch, metrics):
        from . import checkpoint
        checkpoint.save(path, self.model, self.optimizer,
                        dict(config or {}, epoch=epoch, metrics=metrics))
