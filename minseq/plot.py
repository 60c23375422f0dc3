"""Figures: atomic saving and the training-curve plot (host-side).

Importing this module leaves matplotlib alone: a notebook or desktop session keeps its plotting
backend. ``pyplot()`` chooses the headless Agg backend only where there is no display to show a
figure on and nobody chose a backend (no MPLBACKEND, pyplot not imported yet).
"""

import os
import sys
from pathlib import Path

from .files import atomic_write


def has_display():
    """False on a Linux or BSD machine with neither an X11 nor a Wayland display."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def pyplot():
    """``matplotlib.pyplot``, on Agg where figures can only be saved (see the module doc)."""
    import matplotlib
    chosen = "MPLBACKEND" in os.environ or "matplotlib.pyplot" in sys.modules
    if not chosen and not has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, dpi=110):
    """Save ``fig`` as PNG at ``path`` atomically (temporary file, then rename), and close it."""
    path = Path(path)
    plt = pyplot()
    try:
        fig.tight_layout()
        with atomic_write(path) as f:
            fig.savefig(f, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


def best_epoch(history, metrics):
    """The first epoch at which one of ``metrics`` reached ``history["best"]`` (the monitored
    value the Trainer kept), or None when no monitor was used."""
    best = history.get("best")
    if best is None:
        return None
    for k in metrics:
        for epoch, value in zip(history["epoch"], history[k]):
            if value == best:
                return epoch
    return None


def training_curves(history, path, title="Training"):
    """Training loss and every validation metric per epoch, from ``Trainer.fit``'s history;
    whole-number epoch ticks, and the best epoch marked where a metric was monitored."""
    from matplotlib.ticker import MaxNLocator
    metrics = [k for k in history if k not in ("epoch", "train_loss", "seconds", "best")]
    fig, axes = pyplot().subplots(1, 2 if metrics else 1, figsize=(10 if metrics else 5.5, 3.8),
                             squeeze=False)
    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax = axes[0, 0]
    ax.plot(history["epoch"], history["train_loss"], marker="o")
    ax.set_title(f"{title}: training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss per batch")
    ax.grid(alpha=0.3)
    if metrics:
        ax = axes[0, 1]
        for k in metrics:
            ax.plot(history["epoch"], history[k], marker="o", label=k)
        ax.set_title(f"{title}: validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("metric value")
        chosen = best_epoch(history, metrics)
        if chosen is not None:
            ax.axvline(chosen, color="gray", ls="--", label=f"best epoch ({chosen}): kept")
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
