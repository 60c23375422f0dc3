"""Bad input, for every public layer, loss and model in the table (bad_input_table.py).

Each case ends one of two ways only: a correct result, checked against a reference computed
another way (the contiguous copy, the batch run row by row, the causal prefix, the float64
run), or an error whose message names the layer and says what it expected. Never a silently
wrong answer, never NaN where a number is defined.

Non-finite input (the decision, per kind of layer): an elementwise activation returns its limit
at +-inf (sigmoid(-inf) = 0, GELU(-inf) = 0) and NaN at NaN; every other layer propagates NaN
and inf into the outputs of the example that holds them, and into no other example. A loss
given a non-finite prediction is non-finite (the Trainer stops on it).
"""

import numpy as np
import pytest

from minseq import backend, nn
from minseq.gradcheck.checker import flatten, unflatten
from minseq.strict import StrictArray

from bad_input_table import ENTRIES

B, T = 3, 4
ERRORS = (TypeError, ValueError, IndexError, RuntimeError)


# -- the harness ------------------------------------------------------------------------------
def params(case, applies=lambda e: True):
    """pytest parameters: every entry the case applies to; ``na`` entries skip with a reason."""
    out = []
    for e in ENTRIES:
        if not applies(e):
            continue
        marks = [pytest.mark.skip(reason=e.na[case])] if case in e.na else []
        out.append(pytest.param(e, id=e.label, marks=marks))
    return out


@pytest.fixture(autouse=True)
def _count(request, record_property):
    """Record the entry point, so the summary counts the cases tried per entry point."""
    entry = request.node.callspec.params.get("entry") if hasattr(request.node, "callspec") \
        else None
    if entry is not None:
        record_property("entry_point", entry.label)


def upstream(outs, seed=5):
    return tuple(backend.asarray(backend.host_rng(seed + k).standard_normal(o.shape),
                                 dtype=o.dtype) for k, o in enumerate(outs))


def backward_args(out, dys):
    """The upstream gradients ``dys`` (one per output array) as ``backward`` takes them: in the
    structure of ``out``, so an LSTM's (hs, (h_n, c_n)) gets backward(dhs, (dh_n, dc_n))."""
    return unflatten(list(dys), out) if isinstance(out, tuple) else tuple(dys)


class Result:
    def __init__(self, outs, grads, params, dys, out):
        self.outs, self.grads, self.params, self.dys = outs, grads, params, dys
        self.upstream = () if dys is None else backward_args(out, dys)


def run(entry, module, args, kwargs, dys=None):
    """Forward and backward once (dropout streams restarted, as the gradient checker does)."""
    for m in module.modules():
        m.reset_rng()
    out = module(*args, **kwargs)
    outs = tuple(flatten(out))                     # (hs, (h_n, c_n)) -> (hs, h_n, c_n)
    if entry.loss:
        grads = module.backward()
    else:
        dys = upstream(outs) if dys is None else dys
        grads = module.backward(*backward_args(out, dys))
    grads = grads if isinstance(grads, tuple) else (grads,)
    return Result(outs, grads, {k: g.copy() for k, g in module.named_grads()}, dys, out)


def host(a):
    return None if a is None else backend.to_numpy(a)


def close(a, b, rtol=1e-10, atol=1e-12, what=""):
    a, b = host(a), host(b)
    if a is None or b is None:
        assert a is None and b is None, what
        return
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def same_result(r, ref, rtol=1e-10, atol=1e-12):
    for k, (a, b) in enumerate(zip(r.outs, ref.outs)):
        close(a, b, rtol, atol, f"output {k}")
    for k, (a, b) in enumerate(zip(r.grads, ref.grads)):
        close(a, b, rtol, atol, f"input gradient {k}")
    for name in ref.params:
        close(r.params[name], ref.params[name], rtol, atol, f"gradient of {name}")


def clear_error(module, fn, words=("must", "expected", "got", "does not", "computes in")):
    """fn() must fail with an error naming the layer (or, in a composite, the sub-layer that
    received the input) and what it expected."""
    with pytest.raises(ERRORS) as info:
        fn()
    message = str(info.value)
    names = {m.name() for m in module.modules()}
    assert any(n in message for n in names), f"the error names none of {names}: {message!r}"
    assert any(w in message for w in words), \
        f"the error does not say what was expected: {message!r}"
    return message


def finite(r):
    for a in r.outs + tuple(g for g in r.grads if g is not None) + tuple(r.params.values()):
        assert np.isfinite(host(a)).all()


def take(a, axis, index):
    """a[index] along ``axis`` (a slice keeps the axis)."""
    where = [slice(None)] * a.ndim
    where[axis] = index
    return a[tuple(where)]


def valid(entry, b=B, t=T):
    return entry.inputs(b, t)


def replace(args, k, new):
    return args[:k] + (new,) + args[k + 1:]


def with_mask(entry, args, kwargs, mask):
    """(args, kwargs) with ``mask`` in the entry's mask slot (keyword or positional)."""
    if entry.mask_arg is not None:
        return replace(args, entry.mask_arg, mask), kwargs
    return args, {**kwargs, entry.mask_name: mask}


def other_backend(a):
    """The same values as an array of the other backend: NumPy under strict / CuPy, a strict
    array (standing in for a device array) under NumPy."""
    if backend.get_backend() == "numpy":
        return StrictArray(np.array(a))
    return backend.to_numpy(a)


# -- every entry takes its valid input: finite outputs and gradients, inputs left unchanged ----
@pytest.mark.parametrize("entry", params("valid"))
def test_valid_input_gives_finite_results_and_leaves_inputs_unchanged(xp, entry):
    args, kwargs = valid(entry)
    before = [host(a).copy() for a in args]
    module = entry.build()
    r = run(entry, module, args, kwargs)
    finite(r)
    for a, b in zip(args, before):
        assert np.array_equal(host(a), b), "forward or backward changed its input"
    dys_before = [host(d).copy() for d in r.dys or ()]
    run(entry, module, args, kwargs, r.dys)
    for d, b in zip(r.dys or (), dys_before):
        assert np.array_equal(host(d), b), "backward changed its upstream gradient"


# -- rank and feature size --------------------------------------------------------------------
@pytest.mark.parametrize("entry", params("rank"))
@pytest.mark.parametrize("change", ["extra axis", "missing axis"])
def test_wrong_rank(xp, entry, change):
    """A layer that takes any leading axes gives the stacked result; others name the rank."""
    args, kwargs = valid(entry)
    module = entry.build()
    x = args[entry.main]
    bad = x[None] if change == "extra axis" else x[0]
    if not entry.rank_free:
        clear_error(module, lambda: module(*replace(args, entry.main, bad), **kwargs))
        return
    ref = run(entry, module, args, kwargs)
    dys = tuple(d[None] if change == "extra axis" else d[0] for d in ref.dys)
    r = run(entry, module, replace(args, entry.main, bad), kwargs, dys)
    for a, b in zip(r.outs, ref.outs):
        close(a, b[None] if change == "extra axis" else b[0])


@pytest.mark.parametrize("entry", params("features", lambda e: e.features))
def test_wrong_feature_size(xp, entry):
    args, kwargs = valid(entry)
    x = args[entry.main]
    bad = xp.concatenate([x, x[..., :1]], axis=-1)
    module = entry.build()
    clear_error(module, lambda: module(*replace(args, entry.main, bad), **kwargs))


# -- dtypes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", params("dtype", lambda e: not e.integer_main))
@pytest.mark.parametrize("dtype", ["int64", "float16", "bool"])
def test_wrong_dtype_is_an_error(xp, entry, dtype):
    args, kwargs = valid(entry)
    module = entry.build()
    bad = args[entry.main].astype(dtype)
    clear_error(module, lambda: module(*replace(args, entry.main, bad), **kwargs))


@pytest.mark.parametrize("entry", params("float32", lambda e: not e.integer_main))
def test_float32_input(xp, entry):
    """A layer with parameters names the mismatch; one without computes in float32, close to
    the float64 result."""
    args, kwargs = valid(entry)
    module = entry.build()
    args32 = tuple(a.astype(xp.float32) if a.dtype == xp.float64 else a for a in args)
    ref = run(entry, module.copy(), args, kwargs)
    if entry.param_dtype:
        clear_error(module, lambda: module(*replace(args, entry.main, args32[entry.main]),
                                           **kwargs))
        module.astype(xp.float32)
    r = run(entry, module, args32, kwargs, tuple(d.astype(xp.float32) for d in ref.dys or ())
            or None)
    for a in r.outs:
        assert a.dtype == xp.float32
    same_result(r, ref, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("entry", params("indices", lambda e: e.integer_main))
def test_indices(xp, entry):
    """Float indices and indices out of range are named errors; int32 gives the int64 result."""
    args, kwargs = valid(entry)
    module = entry.build()
    x = args[entry.main]
    clear_error(module, lambda: module(*replace(args, entry.main, x.astype(xp.float64))))
    for value in (-1, module.num_embeddings if entry.n_ids is None else entry.n_ids):
        bad = x.copy()
        bad[0, 0] = value
        msg = clear_error(module, lambda: module(*replace(args, entry.main, bad), **kwargs))
        assert str(value) in msg
    ref = run(entry, module, args, kwargs)
    same_result(run(entry, module, replace(args, entry.main, x.astype(xp.int32)), kwargs,
                    ref.dys), ref)


# -- layouts and sizes --------------------------------------------------------------------------
def noncontiguous(xp, a):
    """The same values in a non-contiguous view (every second column of a wider array)."""
    if a.ndim == 0:
        return a
    wide = xp.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    wide[..., ::2] = a
    view = wide[..., ::2]
    assert not view.flags.c_contiguous or a.shape[-1] <= 1
    return view


@pytest.mark.parametrize("entry", params("noncontiguous"))
def test_non_contiguous_inputs_give_the_contiguous_result(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    ref = run(entry, module, args, kwargs)
    views = tuple(noncontiguous(xp, a) for a in args)
    dys = tuple(noncontiguous(xp, d) for d in ref.dys) if ref.dys else None
    same_result(run(entry, module, views, kwargs, dys), ref)


@pytest.mark.parametrize("entry", params("rows"))
def test_batch_of_one_row_by_row_gives_the_batch_result(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    ref = run(entry, module, args, kwargs)
    total = {k: 0 for k in ref.params}
    for b in range(B):
        row = tuple(a if ax is None else take(a, ax, slice(b, b + 1))
                    for a, ax in zip(args, entry.batch))
        dys = None if entry.loss else tuple(
            d if ax is None else take(d, ax, slice(b, b + 1)) for d, ax in zip(ref.dys,
                                                                            entry.out_batch))
        r = run(entry, module, row, kwargs, dys)
        if entry.loss:       # equal counts per row: the batch mean is the mean of row means
            total["loss"] = total.get("loss", 0) + r.outs[0] / B
            for g, rg, ax in zip(r.grads, ref.grads, entry.batch):
                close(g / B, take(rg, ax, slice(b, b + 1)), what="input gradient")
            continue
        for o, ro, ax in zip(r.outs, ref.outs, entry.out_batch):
            close(o, take(ro, ax, slice(b, b + 1)), what="output")
        for g, rg, ax in zip(r.grads, ref.grads, entry.batch):
            close(g, None if rg is None else take(rg, ax, slice(b, b + 1)),
                  what="input gradient")
        for k in ref.params:
            total[k] = total[k] + host(r.params[k])
    if entry.loss:
        close(total["loss"], ref.outs[0], what="loss")
    for k in ref.params:
        close(total[k], ref.params[k], what=f"gradient of {k}")


@pytest.mark.parametrize("entry", params("prefix", lambda e: e.causal is not None))
def test_sequence_of_length_one_is_the_first_step(xp, entry):
    """T = 1 gives what step 0 gets in a longer causal run, with finite gradients."""
    args, kwargs = valid(entry)
    module = entry.build()
    out_full = flatten(module(*args, **entry.causal(T)))
    short = tuple(a if ax is None else take(a, ax, slice(0, 1)) for a, ax in zip(args,
                                                                                 entry.time))
    r = run(entry, module, short, entry.causal(1))
    finite(r)
    for o, full, ax in zip(r.outs, out_full, entry.out_time):
        if ax is not None:   # an output without a time axis (a final state) sums up all steps
            close(o, take(full, ax, slice(0, 1)), what="output")


@pytest.mark.parametrize("entry", params("empty batch"))
def test_empty_batch(xp, entry):
    """B = 0: outputs of the right shape with zero parameter gradients (a loss is 0), or a
    named error."""
    _empty(xp, entry, valid(entry, b=0), valid(entry, b=1), entry.batch, entry.out_batch)


@pytest.mark.parametrize("entry", params("empty sequence", lambda e: e.causal is not None))
def test_empty_sequence(xp, entry):
    _empty(xp, entry, valid(entry, t=0), valid(entry, t=1), entry.time, entry.out_time)


def _empty(xp, entry, empty, one, axes, out_axes):
    module = entry.build()
    try:
        r = run(entry, module, *empty)
    except ERRORS:
        clear_error(module, lambda: run(entry, module, *empty))
        return
    ref = run(entry, entry.build(), *one)
    for o, ro, ax in zip(r.outs, ref.outs, out_axes):
        expected = tuple(0 if k == ax else n for k, n in enumerate(ro.shape))
        assert o.shape == expected
    for g, a in zip(r.grads, empty[0]):
        assert g is None or g.shape == a.shape
    finite(r)
    for name, g in r.params.items():
        assert not host(g).any(), f"{name}: gradient of an empty input must be 0"
    if entry.loss:
        assert r.outs[0].item() == 0.0


# -- non-finite input -------------------------------------------------------------------------
@pytest.mark.parametrize("entry", params("non-finite", lambda e: not e.integer_main))
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_input(xp, entry, value):
    """One non-finite entry in example 0. NaN must reach that example's output (never hidden).
    Where an output stays finite after +-inf, it must be the limit: the result for +-1e30.
    An elementwise layer gives no NaN for +-inf. Other examples never change."""
    args, kwargs = valid(entry)
    module = entry.build()
    ref = run(entry, module, args, kwargs)

    def with_value(v):
        x = args[entry.main].copy()
        x[(0,) * x.ndim] = v
        with np.errstate(all="ignore"):
            return run(entry, module, replace(args, entry.main, x), kwargs, ref.dys)
    r = with_value(float(value))
    big = None if value == "nan" else with_value(float(value.replace("inf", "1e30")))
    for k, (o, ro) in enumerate(zip(r.outs, ref.outs)):
        ax = entry.out_batch[k]
        mine, theirs = host(o), host(ro)
        if ax is not None:
            mine, theirs = mine.take(0, axis=ax), theirs.take(0, axis=ax)
            close(take(o, ax, slice(1, None)), take(ro, ax, slice(1, None)),
                  what="an example without the non-finite value changed")
        if value == "nan":
            assert np.isnan(mine).any(), "NaN input vanished from the output"
            continue
        limit = host(big.outs[k]) if ax is None else host(big.outs[k]).take(0, axis=ax)
        ok = np.isfinite(mine)
        close(mine[ok], limit[ok], rtol=1e-9, what="a finite output is not the limit")
        if entry.limits:
            assert not np.isnan(mine).any(), f"{entry.label}({value}) gave NaN"
    for g, rg, ax in zip(r.grads, ref.grads, entry.batch):
        if g is not None and ax is not None and entry.batch[entry.main] is not None:
            close(take(g, ax, slice(1, None)), take(rg, ax, slice(1, None)),
                  what="the gradient of another example changed")


# -- masks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", params("mask", lambda e: e.mask is not None))
@pytest.mark.parametrize("bad", ["longer", "int", "float", "other backend"])
def test_bad_mask(xp, entry, bad):
    args, kwargs = valid(entry)
    module = entry.build()
    shape = entry.mask(args)
    mask = xp.ones(shape, dtype=bool)
    if bad == "longer":
        mask = xp.ones(shape[:-1] + (shape[-1] + 1,), dtype=bool)
    elif bad in ("int", "float"):
        mask = mask.astype(bad == "int" and xp.int64 or xp.float64)
    else:
        mask = other_backend(mask)
    margs, mkwargs = with_mask(entry, args, kwargs, mask)
    clear_error(module, lambda: module(*margs, **mkwargs))


@pytest.mark.parametrize("entry", params("mask", lambda e: e.mask is not None
                                         and e.mask_arg is None))
def test_all_true_mask_is_no_mask(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    ref = run(entry, module, args, kwargs)
    ones = xp.ones(entry.mask(args), dtype=bool)
    same_result(run(entry, module, *with_mask(entry, args, kwargs, ones), ref.dys), ref)


@pytest.mark.parametrize("entry", params("mask", lambda e: e.mask_arg is not None))
def test_ids_at_padded_steps_change_nothing(xp, entry):
    """A model's required mask: what sits at a padded step (mask False) is never read."""
    args, kwargs = valid(entry)
    module = entry.build()
    ref = run(entry, module, args, kwargs)
    x, mask = args[entry.main], args[entry.mask_arg]
    assert not host(mask).all(), "the valid input must hold padding"
    other = xp.where(mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)), x, 1)
    same_result(run(entry, module, replace(args, entry.main, other), kwargs, ref.dys), ref)


# -- the backward contract ----------------------------------------------------------------------
@pytest.mark.parametrize("entry", params("backward"))
@pytest.mark.parametrize("when", ["before forward", "twice"])
def test_backward_needs_its_own_forward(xp, entry, when):
    args, kwargs = valid(entry)
    module = entry.build()
    r = run(entry, module, args, kwargs)
    fresh = entry.build() if when == "before forward" else module
    clear_error(fresh, lambda: fresh.backward(*r.upstream), words=("without a forward",))


@pytest.mark.parametrize("entry", params("dy shape", lambda e: not e.loss))
def test_upstream_gradient_of_the_wrong_shape(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    out = module(*args, **kwargs)
    dys = upstream(flatten(out))
    bad = replace(dys, 0, xp.concatenate([dys[0], dys[0][..., :1]], axis=-1))
    clear_error(module, lambda: module.backward(*backward_args(out, bad)))


# -- arrays of the other backend -------------------------------------------------------------
@pytest.mark.parametrize("entry", params("other backend"))
def test_input_of_the_other_backend(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    bad = other_backend(args[entry.main])
    message = clear_error(module, lambda: module(*replace(args, entry.main, bad), **kwargs))
    assert backend.get_backend() in message


@pytest.mark.parametrize("entry", params("other backend", lambda e: not e.loss))
def test_upstream_gradient_of_the_other_backend(xp, entry):
    args, kwargs = valid(entry)
    module = entry.build()
    out = module(*args, **kwargs)
    dys = upstream(flatten(out))
    clear_error(module, lambda: module.backward(*backward_args(out, replace(dys, 0,
                                                                           other_backend(dys[0])))))


# -- the public functions of minseq.nn ------------------------------------------------------------
def test_causal_mask_of_no_and_one_step(xp, record_property):
    record_property("entry_point", "causal_mask")
    assert nn.causal_mask(0).shape == (0, 0)
    assert host(nn.causal_mask(1)).tolist() == [[True]]


@pytest.mark.parametrize("edges, error", [
    ([[0, 5]], r"edge list column 1 must lie in \[0, 5\), got values in \[5, 5\]"),
    ([[0, -1]], r"edge list column 1 must lie in \[0, 5\), got values in \[-1, -1\]"),
    ([0, 1], "edges must have 2 dimensions"),
    ([[0.0, 1.0]], "edges must be integer rows"),
    ([[0, 1, 2, 3]], "edges must be integer rows"),
], ids=["too large", "negative", "1-D", "float", "four columns"])
def test_adjacency_from_bad_edges(xp, record_property, edges, error):
    record_property("entry_point", "adjacency_from_edges")
    with pytest.raises((ValueError, IndexError), match="adjacency_from_edges: " + error):
        nn.adjacency_from_edges(xp.asarray(edges), 5)


def test_adjacency_weight_must_match_the_edges(xp, record_property):
    record_property("entry_point", "adjacency_from_edges")
    with pytest.raises(ValueError, match=r"adjacency_from_edges: weight must have shape \(2,\)"):
        nn.adjacency_from_edges(xp.asarray([[0, 1], [1, 2]]), 3,
                                weight=xp.ones(3, dtype=xp.float32))


def test_graphconv_refuses_a_negative_edge(xp, record_property):
    record_property("entry_point", "GraphConv")
    layer = nn.GraphConv(2, 2, None)
    with pytest.raises(IndexError, match=r"GraphConv: edge list column 0 must lie in \[0, 3\)"):
        layer(xp.ones((3, 2), dtype=xp.float32), xp.asarray([[-1, 0]]))


@pytest.mark.parametrize("sessions, kw, error", [
    ([[1, -2]], {}, "item ids must be non-negative"),
    ([[1, 2], [3]], {"num_items": 2}, "item id 3 is out of range for num_items=2"),
], ids=["negative", "beyond num_items"])
def test_item_transition_graph_bad_ids(xp, record_property, sessions, kw, error):
    record_property("entry_point", "item_transition_graph")
    with pytest.raises(ValueError, match="item_transition_graph: " + error):
        nn.item_transition_graph(sessions, **kw)


def test_item_transition_graph_of_nothing(xp, record_property):
    record_property("entry_point", "item_transition_graph")
    edges, n = nn.item_transition_graph([[4], []])
    assert edges.shape == (0, 2) and n == 5
