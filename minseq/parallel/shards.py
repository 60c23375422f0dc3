"""Batch shards: a layer run on every thread of the ``threads`` setting.

In a layer where output row b depends on input row b alone (attention over each sequence, a
Transformer block), any split of the batch into blocks of rows computes the same function, and
the loss is a sum over rows, so a parameter's gradient is the sum of the blocks' gradients:

    y = concat(f(x_1), ..., f(x_n))          x_k = rows lo_k .. hi_k of x
    dx = concat(dx_1, ..., dx_n)             dW = dW_1 + ... + dW_n

A sharded layer (``class TransformerEncoderLayer(BatchSharded, nn.TransformerEncoderLayer)``,
in ``minseq.parallel.layers``), with ``threads`` n > 1 (``minseq.threads.set_threads``,
``--threads``, ``MINSEQ_THREADS``), runs forward and backward on n blocks at once, one per
thread of a persistent pool, each block on its own clone of the layer: the same parameter
arrays, its own gradients, caches and buffers. NumPy releases the GIL inside every product and
ufunc, so the blocks compute in parallel; inside them BLAS runs on one thread
(``threads.one_blas_thread``). Why a whole layer and not each operation: a pool woken for each
softmax or LayerNorm pays two hand-offs per operation, and BLAS's own worker threads, spinning
for about 0.1 s after a product, take the core the next split needs.

Measured, forward+backward, float32, 2 threads each, idle 2-core machine, interleaved (README,
"On more than one thread"): TransformerEncoderLayer (64, 200, 128, 4) 219 ms unsharded, 141 ms
sharded, PyTorch 133 ms; MultiHeadAttention (64, 200, 128, 4) 121 -> 75 ms, PyTorch 78 ms.

Dropout inside a sharded layer is ``minseq.parallel.Dropout``: each shard takes its rows of the
one mask the layer's own Dropout draws for the whole batch, so the sharded layer drops what the
unsharded one drops. A layer runs unsharded (the same numbers) when n = 1, the batch has one
row, the call is small (fewer than ``MIN_SCORES`` attention scores), the backend is CuPy (the
device is already parallel), it runs inside another shard, or it holds an active reference
``nn.Dropout`` (one set on it by hand).

What a sub-module keeps of its last forward for plots (attention weights) is its clones' after
a sharded forward: ``counterparts(module)`` names them, and the layer that reports it joins
them (``minseq.parallel.layers.MultiHeadAttention.weights``).
"""

import copy
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor, wait

from .. import backend, nn, threads
from ..backend import xp
from ..nn.checks import check_same_shape

#: shard a call only when its layer computes at least this many attention scores (B h Tq Tk):
#: measured at 2 threads, (B, T, d_model, h) = (64, 50, 64, 2), 320k scores: sharded / unsharded
#: 0.99; (128, 50, 50, 1), 320k: 1.01; (32, 50, 64, 2), 160k: 1.28 (slower); (16, 200, 64, 2),
#: 1.3M: 0.92; (32, 100, 128, 4), 1.3M: 0.76; (128, 200, 50, 1), 5.1M: 0.60. Below it, products
#: dominate the layer, and BLAS's own threads already run them on every core.
MIN_SCORES = 2**20

_local = threading.local()     # .shard: the _Shard this thread is running now, if any
_pool = {}                     # worker count -> the persistent ThreadPoolExecutor
# a forked child has none of its parent's threads: it makes a pool of its own when it needs one
os.register_at_fork(after_in_child=_pool.clear)


def _executor(workers):
    if workers not in _pool:
        for pool in _pool.values():     # one pool at a time; idle threads wait on a queue
            pool.shutdown(wait=False)
        _pool.clear()
        _pool[workers] = ThreadPoolExecutor(workers, thread_name_prefix="minseq-shard")
    return _pool[workers]


def row_bounds(rows, n):
    """n (lo, hi) blocks covering 0 .. rows, as even as can be (the first ones one row more)."""
    size, extra = divmod(rows, n)
    bounds, lo = [], 0
    for k in range(n):
        hi = lo + size + (k < extra)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def split(value, lo, hi, rows):
    """Rows lo .. hi of every array in ``value`` (tuples followed) whose leading axis is the
    batch, ``rows`` long; anything else as it is."""
    if isinstance(value, tuple):
        return tuple(split(v, lo, hi, rows) for v in value)
    if isinstance(value, xp.ndarray) and value.ndim and value.shape[0] == rows:
        return value[lo:hi]
    return value


def split_inputs(args, kwargs, lo, hi, rows):
    """One block's (args, kwargs): every positional array split; a keyword array (a mask) split
    only when it is more than 2-D, since a (T, T) mask, or one of leading axis 1, is shared by
    every row and goes to every block as it is."""
    return split(args, lo, hi, rows), {
        k: split(v, lo, hi, rows) if getattr(v, "ndim", 0) > 2 else v for k, v in kwargs.items()}


def join(parts):
    """The blocks' results put back together: arrays concatenated along the batch axis, tuples
    element by element, None as None."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(join(p) for p in zip(*parts))
    return xp.concatenate(parts, axis=0)


class ShardState:
    """A sharded layer's clones, held out of sight: not a Module, list or tuple, so no parameter
    walk, state dict or ``accelerate`` sees them, and a copy of their layer starts with none.

    ``clones``: one copy of the layer per block (``clone``); ``sources``: id(a clone's
    sub-module) -> the layer's own sub-module it copies (the Dropout whose stream it draws)."""

    def __init__(self):
        self.clones, self.sources = [], {}

    def resize(self, layer, n):
        """``n`` clones of ``layer``, made anew when their number changes, each made to follow
        the layer (``follow``); returns them."""
        if len(self.clones) != n:
            self.clones = [clone(layer) for _ in range(n)]
            self.sources = {id(c): m for copy_ in self.clones
                            for m, c in zip(layer.modules(), copy_.modules(), strict=True)}
        for c in self.clones:
            follow(layer, c)
        return self.clones

    def __deepcopy__(self, memo):
        return ShardState()


def clone(layer):
    """A deep copy of ``layer`` that shares every sub-module's ``params`` dict (the very arrays
    an optimiser updates) and starts with empty caches; gradients and buffers are its own."""
    memo = {}
    for m in layer.modules():
        memo[id(m.params)] = m.params
        if m._cache is not None:
            memo[id(m._cache)] = None
    return copy.deepcopy(layer, memo)


def follow(layer, copy_):
    """Make a clone follow its layer: same params dicts and modes, gradients of the same shape
    and dtype (after ``astype`` or ``to_backend`` the layer's have changed)."""
    for m, c in zip(layer.modules(), copy_.modules(), strict=True):
        c.params, c.training = m.params, m.training
        for k, g in m.grads.items():
            mine = c.grads.get(k)
            if mine is None or mine.shape != g.shape or mine.dtype != g.dtype or (
                    type(mine) is not type(g)):
                c.grads[k] = xp.zeros_like(g)


def _sum_grads(layer, clones):
    """Write every parameter gradient of ``layer`` as the sum of its clones' (overwriting, as a
    backward does)."""
    for m, *cs in zip(layer.modules(), *(c.modules() for c in clones), strict=True):
        for k, g in m.grads.items():
            xp.add(cs[0].grads[k], cs[1].grads[k], out=g)
            for c in cs[2:]:
                g += c.grads[k]


class _Draws:
    """The masks a layer's own Dropouts draw for the whole batch in one sharded forward: each
    drawn once, from that Dropout's stream, by whichever shard needs it first."""

    def __init__(self, sources):
        self.sources = sources              # id(a clone's sub-module) -> the layer's own
        self.masks = {}
        self.lock = threading.Lock()

    def keep(self, module, call, shape, dtype):
        source = self.sources[id(module)]
        with self.lock:
            key = (id(source), call)        # a Dropout called twice draws twice, as unsharded
            if key not in self.masks:
                self.masks[key] = nn.Dropout.draw_keep(source, shape, dtype)
            return self.masks[key]


class _Shard:
    """What a thread running one block knows: its rows lo .. hi of ``rows``, and the draws."""

    def __init__(self, lo, hi, rows, draws):
        self.lo, self.hi, self.rows, self.draws = lo, hi, rows, draws
        self.calls = {}

    def keep_rows(self, module, shape, dtype):
        """This block's rows of the keep-mask the whole batch draws at ``module``."""
        call = self.calls[id(module)] = self.calls.get(id(module), -1) + 1
        whole = self.draws.keep(module, call, (self.rows,) + tuple(shape[1:]), dtype)
        return whole[self.lo:self.hi]


def current_shard():
    """The _Shard this thread runs, or None outside batch shards."""
    return getattr(_local, "shard", None)


def _run(call, clones, jobs, shards):
    """call(clone, job) for every block: the first in this thread, the rest on the pool, BLAS
    on one thread meanwhile; waits for all before it returns the results or raises the first
    block's error."""
    def one(copy_, job, shard):
        _local.shard = shard
        try:
            return call(copy_, job)
        finally:
            _local.shard = None

    with threads.one_blas_thread():
        futures = [_executor(len(clones) - 1).submit(one, *work)
                   for work in zip(clones[1:], jobs[1:], shards[1:])]
        try:
            first = one(clones[0], jobs[0], shards[0])
        finally:
            wait(futures)
    return [first] + [f.result() for f in futures]


class _Sharded:
    """The cache of a sharded forward: the row blocks its backward splits dy by, and the
    output's shape when it is one array (dy is checked against it before any work)."""

    def __init__(self, bounds, rows, out):
        self.bounds, self.rows = bounds, rows
        self.out_shape = out.shape if isinstance(out, xp.ndarray) else None


# module -> its counterparts in the clones of the last sharded forward that ran it; weak, so a
# module dropped by its owner drops its entry
_counterparts = weakref.WeakKeyDictionary()


def counterparts(module):
    """The clones' copies of ``module`` that ran its rows in the last forward, when that forward
    ran on batch shards (``module`` itself, or a sharded layer holding it); else None."""
    return _counterparts.get(module)


def _reference_dropout_active(layer):
    """An active ``nn.Dropout`` itself (not ``minseq.parallel.Dropout``) would draw its own masks
    in each shard."""
    return any(type(m) is nn.Dropout and m.training and m.p > 0 for m in layer.modules())


class BatchSharded(nn.Module):
    """Mixin placed before a reference layer whose rows are independent: forward and backward
    on row blocks over the threads of the ``threads`` setting (module docstring). Positional
    array inputs all carry the batch axis first; keyword arrays (masks) carry it when they are
    more than 2-D with the batch's length first, and are shared otherwise. A sharded layer
    writes ``shard_scores`` (its work) and ``check_shard_inputs`` (its reference's input
    checks). Being a Module, its forward and backward are the compute path as every layer's."""

    _shards = None          # the ShardState, made at the first sharded forward
    _ran_sharded = False    # whether the last forward ran on batch shards

    def name(self):
        return f"parallel.{type(self).__name__}"

    def shard_scores(self, *args, **kwargs):
        """How many attention scores (B h Tq Tk, summed over the layer's attentions) one call on
        these inputs computes: the work that decides whether sharding pays (``MIN_SCORES``)."""
        raise NotImplementedError(f"{type(self).__name__} must write shard_scores")

    def check_shard_inputs(self, *args, **kwargs):
        """Raise the reference layer's error for inputs that do not fit together, before they
        are split (a shard would name its own block's shapes)."""
        raise NotImplementedError(f"{type(self).__name__} must write check_shard_inputs")

    def _shard_bounds(self, args, kwargs):
        """The row blocks for this call, or None to run unsharded (also for inputs that do not
        fit together: the reference's own checks then raise its clear error)."""
        n = threads.current_threads()
        if n < 2 or current_shard() is not None or backend.get_backend() == "cupy":
            return None
        if not args or not isinstance(args[0], xp.ndarray) or args[0].ndim != 3:
            return None
        rows = args[0].shape[0]
        if rows < 2 or _reference_dropout_active(self):
            return None
        if any(isinstance(a, xp.ndarray) and (a.ndim != 3 or a.shape[0] != rows) for a in args):
            return None
        if any(isinstance(v, xp.ndarray) and v.ndim > 2 and v.shape[0] not in (1, rows)
               for v in kwargs.values()):
            return None
        if self.shard_scores(*args, **kwargs) < MIN_SCORES:
            return None
        return row_bounds(rows, min(n, rows))

    def forward(self, *args, **kwargs):
        bounds = self._shard_bounds(args, kwargs)
        if current_shard() is None:
            for m in self.modules():
                _counterparts.pop(m, None)
        self._ran_sharded = bounds is not None
        if bounds is None:
            return super().forward(*args, **kwargs)
        self.check_shard_inputs(*args, **kwargs)
        rows = args[0].shape[0]
        if self._shards is None:
            self._shards = ShardState()
        clones = self._shards.resize(self, len(bounds))
        draws = _Draws(self._shards.sources)
        outs = _run(lambda c, job: c.forward(*job[0], **job[1]), clones,
                    [split_inputs(args, kwargs, lo, hi, rows) for lo, hi in bounds],
                    [_Shard(lo, hi, rows, draws) for lo, hi in bounds])
        for m, *cs in zip(self.modules(), *(c.modules() for c in clones), strict=True):
            _counterparts[m] = cs
        out = join(outs)
        self.save_for_backward(_Sharded(bounds, rows, out))
        return out

    def backward(self, grad_out):
        if not self._ran_sharded:
            return super().backward(grad_out)
        (sharded,) = self.saved()
        if sharded.out_shape is not None:
            check_same_shape(self, "dy", grad_out, sharded.out_shape)
        clones = self._shards.clones
        douts = _run(lambda c, dy: c.backward(dy), clones,
                     [split(grad_out, lo, hi, sharded.rows) for lo, hi in sharded.bounds],
                     [_Shard(lo, hi, sharded.rows, None) for lo, hi in sharded.bounds])
        _sum_grads(self, clones)
        return join(douts)
