"""One training step of the next-item models (GRU4Rec-style, SASRec-style), when present.

A step is what ``minseq.train.Trainer`` does per batch: ``model.loss(batch)``,
``model.backward_loss()``, ``optimizer.step()``. The models live in ``minseq.models.gru4rec``
and ``minseq.models.sasrec``; a model that cannot be imported or built is skipped with the
reason as a note, never an error. There is no PyTorch twin of a whole model here, so these
rows carry minseq's time and peak memory only.

The batch is ``(inputs, targets, mask)`` as ``minseq.data.Batches`` yields it: item ids
(B, T) in 1..n_items (0 is padding), the next items (B, T), and mask (B, T) True at real steps.
"""

import importlib
import inspect
import tracemalloc

import numpy

from .. import backend, optim
from ..fast import accelerate
from .cases import SEED, Side

# (module, class, sizes): each size (B, T, n_items, d); the second is ML-1M-like (3,416 items,
# histories up to 200), the first the size of the project's public `user item` file
MODELS = {
    "GRU4Rec": ("minseq.models.gru4rec", "GRU4Rec", [(128, 50, 1000, 64), (128, 200, 3416, 64)]),
    "SASRec": ("minseq.models.sasrec", "SASRec", [(128, 50, 1000, 50), (128, 200, 3416, 50)]),
}
QUICK_SIZES = [(4, 6, 20, 8)]


def _keywords(cls, B, T, n_items, d):
    """The size arguments the model's constructor names (everything else keeps its default)."""
    values = {"n_items": n_items, "num_items": n_items, "d": d, "d_model": d,
              "embedding_dim": d, "hidden_size": d, "maxlen": T, "max_len": T}
    names = inspect.signature(cls).parameters
    return {k: v for k, v in values.items() if k in names}


def _batch(B, T, n_items):
    rng = numpy.random.default_rng(SEED)
    items = rng.integers(1, n_items + 1, size=(B, T + 1))
    mask = numpy.ones((B, T), dtype=bool)
    mask[: B // 4, : T // 5] = False  # some left padding, as short histories have
    inputs, targets = numpy.where(mask, items[:, :-1], 0), numpy.where(mask, items[:, 1:], 0)
    return tuple(backend.asarray(a) for a in (inputs, targets, mask))


def model_step_side(name, size, fast=True):
    """(Side, None) for one training step of model ``name`` at ``size`` (its reference layers,
    or with ``fast`` accelerated), or (None, note)."""
    module_name, class_name, _ = MODELS[name]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        return None, f"{name}: {module_name}.{class_name} is not available ({exc})"
    B, T, n_items, d = size
    try:
        backend.manual_seed(SEED)
        model = cls(**_keywords(cls, B, T, n_items, d))
        if fast:
            model = accelerate(model)
        opt = optim.Adam(model, lr=1e-3)
        batch = _batch(B, T, n_items)

        def step():
            loss = model.loss(batch)
            model.backward_loss()
            opt.step()
            return loss
        step()
    except Exception as exc:  # an unforeseen constructor or batch format: say so and go on
        return None, (f"{name}: one training step failed ({type(exc).__name__}: {exc}); "
                      "adapt minseq/bench/models.py to the model's constructor")
    return Side(step, step), None


def model_sizes(name, quick=False):
    return QUICK_SIZES if quick else MODELS[name][2]


def peak_memory_mb(fn):
    """Peak host memory allocated while ``fn()`` runs, in MB (tracemalloc sees NumPy's
    allocations; device memory and PyTorch's allocator are not counted)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20
