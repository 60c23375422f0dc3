"""Figures: atomic saving and the training-curve plot (host-side, headless)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from .files import atomic_write  # noqa: E402


def save_figure(fig, path, dpi=110):
    """Save ``fig`` as PNG at ``path`` atomically (temporary file, then rename), and close it."""
    path = Path(path)
    try:
        fig.tight_layout()
        with atomic_write(path) as f:
            fig.savefig(f, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


def training_curves(history, path, title="Training"):
    """Training loss and every validation metric per epoch, from ``Trainer.fit``'s history."""
    metrics = [k for k in history if k not in ("epoch", "train_loss", "seconds", "best")]
    fig, axes = plt.subplots(1, 2 if metrics else 1, figsize=(10 if metrics else 5.5, 3.8),
                             squeeze=False)
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
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
