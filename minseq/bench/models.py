"""One training step of the next-item models (GRU4Rec-style, SASRec-style), when present.

A step is what ``minseq.train.Trainer`` does per batch: ``model.loss(batch)``,
``model.backward_loss()``, ``optimizer.step()``. Every trained next-item model of the
registry (``minseq.models.registry``) is timed, built from its default settings at the sizes
below; a row is labelled by the model's class. These rows carry minseq's time and peak memory
only; the whole models' PyTorch counterparts (minseq.bench.torch_models) are timed against
minseq's by ``benchmarks/data_parallel.py``, epoch against epoch.

The batch is ``(inputs, targets, mask)`` as ``minseq.data.Batches`` yields it: item ids
(B, T) in 1..n_items (0 is padding), the next items (B, T), and mask (B, T) True at real steps.
"""

import tracemalloc

import numpy

from .. import backend, optim
from ..fast import accelerate
from ..models.registry import MODELS as REGISTRY, NEXT_ITEM
from .cases import SEED, Side

# (B, T, n_items): the size of the project's public `user item` file, and an ML-1M-like one
# (3,416 items, histories up to 200); d_model is each model's default
SIZES = [(128, 50, 1000), (128, 200, 3416)]
QUICK_SIZES = [(4, 6, 20, 8)]
#: the row label of each benchmarked model (``--only`` takes it), its class name -> its name
MODELS = {spec.cls.__name__: name for name, spec in REGISTRY.items()
          if spec.task == NEXT_ITEM and not spec.fitted}


def build(name, size):
    """Model ``name`` of the registry at ``size`` (B, T, n_items, d_model), its other settings
    the registry's defaults."""
    _, T, n_items, d_model = size
    spec = REGISTRY[name]
    settings = dict(spec.settings, maxlen=T, d_model=d_model, seed=SEED)
    return spec.build(settings, n_items=n_items)


def _batch(B, T, n_items):
    rng = numpy.random.default_rng(SEED)
    items = rng.integers(1, n_items + 1, size=(B, T + 1))
    mask = numpy.ones((B, T), dtype=bool)
    mask[: B // 4, : T // 5] = False  # some left padding, as short histories have
    inputs, targets = numpy.where(mask, items[:, :-1], 0), numpy.where(mask, items[:, 1:], 0)
    return tuple(backend.asarray(a) for a in (inputs, targets, mask))


def model_step_side(label, size, fast=True):
    """The Side of one training step of the model labelled ``label`` at ``size``: its
    reference layers, or with ``fast`` accelerated."""
    B, T, n_items, _ = size
    backend.manual_seed(SEED)
    model = build(MODELS[label], size)
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
    return Side(step, step)


def model_sizes(label, quick=False):
    """(B, T, n_items, d_model) of each size the model labelled ``label`` is timed at."""
    if quick:
        return QUICK_SIZES
    return [size + (REGISTRY[MODELS[label]].settings["d_model"],) for size in SIZES]


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
