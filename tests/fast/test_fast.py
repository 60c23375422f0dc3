"""minseq.fast: every fast twin is its reference layer, faster.

One test runs over every twin: forward, every input gradient, every parameter gradient, the
state dict and what it keeps for plots (gates, attention weights) equal the reference's to 1e-12
(float64) and 1e-5 (float32) relative to the largest entry, on hypothesis-drawn shapes, masks
and padded batches, on every backend. A twin is added with one ``@twin_case`` builder: it
draws a setting and returns the reference module (weights drawn as its constructor draws
them), its inputs and keyword arguments.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minseq
from minseq import backend, fast, nn, strict
from minseq.fast import TWINS, accelerate, twin_of
from minseq.gradcheck.checker import flatten, unflatten, upstream
from minseq.models import GRU4Rec, LSTMClassifier, SASRec

from shard_setting import shard_threads

TWIN_CASES = {}
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
# A whole Transformer block chains about ten twins and three LayerNorms, each of which scales
# the float32 rounding of its input by |x| / std of its row: its float32 tolerance is looser,
# as the gradient checker's is for whole blocks (a wrong twin still differs by far more).
BLOCK_FLOAT32 = 1e-4


def twin_case(name):
    """Register ``build(draw, xp) -> (reference module, inputs, kwargs)`` under ``name``."""
    def register(build):
        TWIN_CASES[name] = build
        return build
    return register


def randn(xp, draw, *shape):
    seed = draw(st.integers(0, 2**16))
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=xp.float64)


def padding_mask(xp, draw, B, T):
    """(B, T) True at real steps: each row keeps a drawn number of leading steps (0 .. T)."""
    lengths = draw(st.lists(st.integers(0, T), min_size=B, max_size=B))
    mask = xp.zeros((B, T), dtype=bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    return mask


def _largest(a):
    a = backend.to_numpy(a)
    return float(abs(a).max()) if a.size else 0.0


def _same(name, a, b, tol, floor=0.0):
    """max|a - b| <= tol * max(max|b|, floor)."""
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    assert a.shape == b.shape and a.dtype == b.dtype, f"{name}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    scale = max(_largest(b), floor, 1e-30)
    err = float(abs(a - b).max()) / scale if a.size else 0.0
    assert err <= tol, f"{name}: fast differs from reference by {err:.2e} (relative), tol {tol:.0e}"


def _run(module, inputs, kwargs):
    """(outputs, input gradients, parameter gradients, upstream gradients) of one step."""
    out = module(*inputs, **kwargs)
    dys, grads = upstream(module, out, seed=7)
    return flatten(out), grads, {k: g.copy() for k, g in module.named_grads()}, dys


# -- attention, LayerNorm and the Transformer blocks ------------------------------------------

def _key_padding(xp, draw, B, T, S):
    """(B, T, S) mask, True = may attend: each example's keys padded after a drawn length (0
    keys leaves whole rows masked), and causal on top when drawn (self-attention, S = T).
    Example 0 keeps every key: a query with one key has dq = 0 exactly, and comparing two
    roundings of 0 relative to their own size would mean nothing."""
    mask = padding_mask(xp, draw, B, S)
    mask[0] = True
    mask = mask[:, None, :] & xp.ones((B, T, S), dtype=bool)
    if S == T and draw(st.booleans()):
        mask &= nn.causal_mask(T)
    return mask


@twin_case("ScaledDotProductAttention")
def _sdpa(draw, xp):
    B, Tq, Tk = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.sampled_from([0, 2, 3, 5]))
    d, dv = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kwargs = {"mask": _key_padding(xp, draw, B, Tq, Tk)} if draw(st.booleans()) else {}
    return (nn.ScaledDotProductAttention(),
            [randn(xp, draw, B, Tq, d), randn(xp, draw, B, Tk, d), randn(xp, draw, B, Tk, dv)],
            kwargs)


@twin_case("MultiHeadAttention self")
def _mha_self(draw, xp):
    # d_model >= 2: one weight's gradient alone can be a cancellation, 0 up to rounding
    B, T, h, d_k = (draw(st.integers(m, n)) for m, n in ((1, 3), (2, 6), (1, 3), (2, 3)))
    kwargs = {"mask": _key_padding(xp, draw, B, T, T)} if draw(st.booleans()) else {}
    return nn.MultiHeadAttention(h * d_k, h), [randn(xp, draw, B, T, h * d_k)], kwargs


@twin_case("MultiHeadAttention cross")
def _mha_cross(draw, xp):
    B, T, S, h, d_k = (draw(st.integers(m, n)) for m, n in ((1, 3), (1, 5), (2, 6), (1, 3), (2, 3)))
    layer = nn.MultiHeadAttention(h * d_k, h, bias=draw(st.booleans()))
    return (layer, [randn(xp, draw, B, T, h * d_k), randn(xp, draw, B, S, h * d_k)],
            {"mask": _key_padding(xp, draw, B, T, S)})


@twin_case("LayerNorm")
def _layernorm(draw, xp):
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)) + [draw(st.integers(3, 6))]
    d = shape[-1]   # d = 2 gives y = +-1 and dx = 0 up to rounding: nothing to compare
    norm = nn.LayerNorm(d, eps=draw(st.sampled_from([1e-5, 1e-8])))
    norm.params["gamma"][...] = randn(xp, draw, d)
    norm.params["beta"][...] = randn(xp, draw, d)
    # no large common offset here: the reference loses digits there (test_numerics); and a
    # spread of 3 in every row, larger than the drawn noise, so xhat = (x - mu) / std is well
    # conditioned (a row of nearly equal entries amplifies any difference in rounding the mean
    # by |x| / std: a spread of 1 let a drawn row of 3 entries reach 1.07e-5 in float32)
    spread = xp.linspace(-3.0, 3.0, d)
    return norm, [randn(xp, draw, *shape) + spread], {}


def _layernorm_dx_terms(norm, inputs, dys):
    """The size of the terms LayerNorm's dx is made of, the scale its float32 rounding follows.

    dx = r (g - mean(g) - xhat mean(g (.) xhat)) per row, g = dy (.) gamma, r = 1 / sqrt(var +
    eps). Each term is rounded to a few u (u = 2^-24) of its own size, but dx itself can be far
    smaller than its terms: in d = 3, dx spans a single direction, and a drawn g nearly in the
    span of 1 and xhat cancels five digits (shape (3,), eps 1e-8, gamma's seed 65536, x's seed
    3: dx ~ 4e-6 from terms ~ 1, the reference and the twin each 1e-3 of dx away from the
    float64 dx). So dx is compared relative to max over rows of r (max|g| + |mean g| +
    max|xhat| |mean(g (.) xhat)|). Measured on that scale over 3,000 drawn float32 cases, the
    reference and the twin each stayed within 3.1 u of the float64 dx and within 4.8 u of each
    other: the tolerance 1e-5 (168 u) holds with room, and a wrong twin still fails by far more.
    """
    x, dy = (backend.to_numpy(a).astype(np.float64) for a in (inputs[0], dys[0]))
    gamma = backend.to_numpy(norm.params["gamma"]).astype(np.float64)
    x, dy = x.reshape(-1, norm.d), dy.reshape(-1, norm.d)
    centred = x - x.mean(axis=1, keepdims=True)
    r = 1.0 / np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + norm.eps)
    xhat, g = centred * r, dy * gamma
    terms = (abs(g).max(axis=1, keepdims=True) + abs(g.mean(axis=1, keepdims=True))
             + abs(xhat).max(axis=1, keepdims=True) * abs((g * xhat).mean(axis=1, keepdims=True)))
    return float((r * terms).max()) if x.size else 0.0


# The scale of a twin's input gradients where it is set by their terms, not by their size.
INPUT_GRADIENT_SCALE = {"LayerNorm": _layernorm_dx_terms}


@twin_case("TransformerEncoderLayer (attention, LayerNorm)")
def _encoder_layer(draw, xp):
    # d_model >= 3: LayerNorm of 2 features gives +-1 and dx = 0 up to rounding
    B, T, h, d_k = (draw(st.integers(m, n)) for m, n in ((1, 3), (2, 5), (1, 2), (3, 4)))
    layer = nn.TransformerEncoderLayer(h * d_k, h, d_ff=draw(st.integers(1, 6)), dropout=0.0,
                                       activation=draw(st.sampled_from(["relu", "gelu"])),
                                       norm_first=draw(st.booleans()))
    return layer, [randn(xp, draw, B, T, h * d_k)], {"mask": _key_padding(xp, draw, B, T, T)}


@twin_case("TransformerDecoderLayer (attention, LayerNorm)")
def _decoder_layer(draw, xp):
    B, T, S, h, d_k = (draw(st.integers(m, n)) for m, n in ((1, 3), (2, 4), (2, 5), (1, 2), (3, 4)))
    layer = nn.TransformerDecoderLayer(h * d_k, h, d_ff=draw(st.integers(1, 6)), dropout=0.0,
                                       norm_first=draw(st.booleans()))
    return (layer, [randn(xp, draw, B, T, h * d_k), randn(xp, draw, B, S, h * d_k)],
            {"memory_mask": _key_padding(xp, draw, B, T, S)})


@twin_case("Dropout")
def _dropout(draw, xp):
    """Outside batch shards the twin is nn.Dropout: the copy's stream restarts from the seed."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    layer = nn.Dropout(draw(st.sampled_from([0.0, 0.3, 0.7])), seed=draw(st.integers(0, 99)))
    return layer, [randn(xp, draw, *shape)], {}


# -- the recurrent twins ----------------------------------------------------------------------

RECURRENT = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


def _sizes(draw):
    """D, H >= 2: a 1 x 1 dWh is one sum over every step and row, whose float32 cancellation
    alone can exceed the relative tolerance (seen at 2e-5 with D = H = 1)."""
    return draw(st.integers(2, 4)), draw(st.integers(2, 4))


def _build(cls, D, H, draw):
    """The layer, its ReLU variant or its gate-recording variant, as drawn."""
    if cls in (nn.RNN, nn.RNNCell):
        return cls(D, H, nonlinearity=draw(st.sampled_from(["tanh", "relu"])))
    return cls(D, H, record_gates=draw(st.booleans()))


def _states(xp, draw, layer, B):
    """Initial states, drawn, or none at all (zeros)."""
    n = 2 if isinstance(layer, (nn.LSTM, nn.LSTMCell)) else 1
    return [randn(xp, draw, B, layer.hidden_size) for _ in range(n)] if draw(st.booleans()) else []


def _layer_case(kind, masked):
    def build(draw, xp):
        D, H = _sizes(draw)
        B, T = draw(st.integers(1, 4)), draw(st.integers(1, 6))
        layer = _build(RECURRENT[kind], D, H, draw)
        states = _states(xp, draw, layer, B)
        kwargs = {"mask": padding_mask(xp, draw, B, T)} if masked else {}
        return layer, [randn(xp, draw, B, T, D), *states], kwargs
    return build


def _cell_case(kind):
    def build(draw, xp):
        D, H = _sizes(draw)
        B = draw(st.integers(1, 4))
        cell = _build(CELLS[kind], D, H, draw)
        states = _states(xp, draw, cell, B)
        return cell, [randn(xp, draw, B, D), *states], {}
    return build


for _kind in RECURRENT:
    twin_case(_kind)(_layer_case(_kind, masked=False))
    twin_case(_kind + " masked")(_layer_case(_kind, masked=True))
for _kind in CELLS:
    twin_case(_kind)(_cell_case(_kind))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(TWIN_CASES))
@given(data=st.data())
def test_twin_equals_reference(xp, name, dtype, data):
    check_twin(xp, name, dtype, data)


class Replay:
    """Stands for hypothesis's ``data``: ``draw`` hands back recorded values in order."""

    def __init__(self, *values):
        self.values = list(values)

    def draw(self, strategy):
        return self.values.pop(0)


# Cases hypothesis once drew that failed, replayed on every run: (name, dtype, the draws).
FOUND = [
    # a float32 dx five digits smaller than its terms (see _layernorm_dx_terms)
    ("LayerNorm", "float32", ([], 3, 1e-8, 65536, 0, 3)),
]


@pytest.mark.parametrize("name, dtype, draws", FOUND)
def test_twin_equals_reference_on_cases_once_found(xp, name, dtype, draws):
    check_twin(xp, name, dtype, Replay(*draws))


SHARDED = sorted(name for name in TWIN_CASES if name.split()[0] in
                 {"MultiHeadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", SHARDED)
@given(data=st.data())
def test_twin_on_batch_shards_equals_reference(xp, name, dtype, data):
    """The same, with the twin's forward and backward on up to 3 batch shards."""
    with shard_threads(3):
        twin, rows = check_twin(xp, name, dtype, data, records=False)
    if rows > 1:
        assert len(twin._shards.clones) == min(3, rows), f"{name}: not sharded"


def check_twin(xp, name, dtype, data, records=True):
    """Draw the case ``name``; its accelerated copy must equal it, and with ``records`` keep
    what its reference keeps for plots (on batch shards, the shards' clones keep that). Returns
    (the twin, the batch it ran on)."""
    reference, inputs, kwargs = TWIN_CASES[name](data.draw, xp)
    reference.astype(getattr(xp, dtype))
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
    twin = accelerate(reference.copy())
    assert any(type(m) in TWINS.values() for m in twin.modules()), f"{name}: nothing accelerated"
    tol = TOLERANCE[dtype]
    if dtype == "float32" and name.startswith("Transformer"):
        tol = BLOCK_FLOAT32
    outs, in_grads, grads, dys = _run(reference, inputs, kwargs)
    fast_outs, fast_in_grads, fast_grads, _ = _run(twin, inputs, kwargs)
    # outputs and gradients relative to the largest of their kind: one that is small by
    # cancellation (attention's dbq, or dq when the weights are nearly uniform) still carries
    # the rounding of its terms
    largest = max((_largest(o) for o in outs), default=0.0)
    for k, (a, b) in enumerate(zip(fast_outs, outs, strict=True)):
        _same(f"{name} output {k}", a, b, tol, floor=largest)
    largest = max((_largest(g) for g in in_grads), default=0.0)
    if name in INPUT_GRADIENT_SCALE:
        largest = max(largest, INPUT_GRADIENT_SCALE[name](reference, inputs, dys))
    for k, (a, b) in enumerate(zip(fast_in_grads, in_grads, strict=True)):
        _same(f"{name} input gradient {k}", a, b, tol, floor=largest)
    assert list(fast_grads) == list(grads)
    largest = max((_largest(g) for g in grads.values()), default=0.0)
    for k in grads:
        _same(f"{name} d{k}", fast_grads[k], grads[k], tol, floor=largest)
    state, fast_state = reference.state_dict(), twin.state_dict()
    assert list(fast_state) == list(state)
    for k in state:
        assert (fast_state[k] == state[k]).all()
    if records:
        _same_records(name, reference, twin, tol)
    return twin, inputs[0].shape[0]


def _same_records(name, reference, twin, tol):
    """What a layer keeps of its last forward for plots, ``gates`` (with ``record_gates``) and
    attention's ``weights``: the twin keeps the same, name by name."""
    for ref, fast_m in zip(reference.modules(), twin.modules(), strict=True):
        for attr in ("gates", "weights"):
            kept, fast_kept = getattr(ref, attr, None), getattr(fast_m, attr, None)
            if kept is None:
                assert fast_kept is None, f"{name}: the twin keeps {attr} its reference does not"
                continue
            assert fast_kept is not None, f"{name}: the twin keeps no {attr}"
            if isinstance(kept, dict):
                assert list(fast_kept) == list(kept), f"{name}: {attr} {list(fast_kept)}"
                for k in kept:
                    _same(f"{name} {attr} {k}", fast_kept[k], kept[k], tol, floor=1.0)
            else:
                _same(f"{name} {attr}", fast_kept, kept, tol, floor=1.0)


# -- what a twin refuses ---------------------------------------------------------------------

def _normal(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=backend.xp.float64)


def _after_forward(*inputs, **kwargs):
    """A call that runs forward on ``inputs``, then ``backward(*upstream)``."""
    def call(module, *upstream):
        module(*inputs, **kwargs)
        return module.backward(*upstream)
    return call


# (the reference, how it is called wrongly): B = 2, D = 2, H = 3, T = 5 (LayerNorm d = 3,
# attention Tq = 5, Tk = 4, d = 3); each wrong array has 4 columns where 3 belong (or 4 steps
# where 5 do), the GRU's and attention's masks are not boolean, LayerNorm's x is 0-d or
# float32
BAD_CALLS = {
    "RNNCell h_prev": (nn.RNNCell, lambda m: m(_normal(2, 2), _normal(2, 4))),
    "RNNCell dh": (nn.RNNCell, lambda m: _after_forward(_normal(2, 2))(m, _normal(2, 4))),
    "GRUCell h_prev": (nn.GRUCell, lambda m: m(_normal(2, 2), _normal(2, 4))),
    "GRUCell dh": (nn.GRUCell, lambda m: _after_forward(_normal(2, 2))(m, _normal(2, 4))),
    "LSTMCell h_prev": (nn.LSTMCell, lambda m: m(_normal(2, 2), _normal(2, 4), _normal(2, 3))),
    "LSTMCell c_prev": (nn.LSTMCell, lambda m: m(_normal(2, 2), _normal(2, 3), _normal(2, 4))),
    "LSTMCell dh": (nn.LSTMCell,
                    lambda m: _after_forward(_normal(2, 2))(m, _normal(2, 4), _normal(2, 3))),
    "LSTMCell dc": (nn.LSTMCell,
                    lambda m: _after_forward(_normal(2, 2))(m, _normal(2, 3), _normal(2, 4))),
    "RNN mask": (nn.RNN, lambda m: m(_normal(2, 5, 2), mask=backend.xp.ones((2, 4), dtype=bool))),
    "GRU mask": (nn.GRU, lambda m: m(_normal(2, 5, 2), mask=backend.xp.ones((2, 5), dtype=int))),
    "LayerNorm x": (nn.LayerNorm, lambda m: m(_normal(2, 4))),
    "LayerNorm x of no axis": (nn.LayerNorm, lambda m: m(_normal())),
    "LayerNorm x in float32": (nn.LayerNorm, lambda m: m(_normal(2, 3).astype("float32"))),
    "LayerNorm dy": (nn.LayerNorm, lambda m: _after_forward(_normal(2, 3))(m, _normal(2, 4))),
    "ScaledDotProductAttention dout": (nn.ScaledDotProductAttention, lambda m: _after_forward(
        _normal(2, 5, 3), _normal(2, 4, 3), _normal(2, 4, 3))(m, _normal(2, 5, 4))),
    "ScaledDotProductAttention mask": (nn.ScaledDotProductAttention, lambda m: m(
        _normal(2, 5, 3), _normal(2, 4, 3), _normal(2, 4, 3), backend.xp.ones((2, 5, 4), int))),
    "RNN dhs": (nn.RNN, lambda m: _after_forward(_normal(2, 5, 2))(m, _normal(2, 5, 4))),
    "GRU dh_n": (nn.GRU, lambda m: _after_forward(_normal(2, 5, 2))(
        m, _normal(2, 5, 3), _normal(2, 4))),
    "LSTM dc_n": (nn.LSTM, lambda m: _after_forward(_normal(2, 5, 2))(
        m, _normal(2, 5, 3), (_normal(2, 3), _normal(2, 4)))),
}


#: the constructor arguments of the references in BAD_CALLS, where not (D, H) = (2, 3)
SIZES = {nn.LayerNorm: (3,), nn.ScaledDotProductAttention: ()}


def _refusal(module, call):
    with pytest.raises((TypeError, ValueError)) as caught:
        call(module)
    return caught.type, str(caught.value)


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_a_twin_refuses_what_its_reference_refuses_with_the_same_message(xp, case):
    """A wrong input, state, mask or upstream gradient is named as the reference names it
    (which argument, what was expected), under the twin's own name."""
    cls, call = BAD_CALLS[case]
    reference = cls(*SIZES.get(cls, (2, 3))).astype(xp.float64)
    kind, message = _refusal(reference, call)
    assert message.startswith(f"{reference.name()}: {case.split()[1]}")
    assert _refusal(twin_of(reference.copy()), call) == (kind, "fast." + message)


def test_a_twin_cell_without_dc_is_the_reference_without_dc(xp):
    """LSTMCell.backward(dh): dc omitted is a cell state that reaches no loss, as dc = 0."""
    reference = nn.LSTMCell(2, 3).astype(xp.float64)
    twin = twin_of(reference.copy())
    x, dh = _normal(4, 2), _normal(4, 3, seed=1)
    for cell in (reference, twin):
        cell(x)
    for a, b in zip(twin.backward(dh), reference.backward(dh), strict=True):
        _same("LSTMCell without dc", a, b, 1e-12)


def test_attention_and_layernorm_twins_reuse_their_scratch_only_where_it_fits(xp):
    """The attention twin keeps E, the LayerNorm twin xhat and its backward's scratch, from
    call to call: a call of the same shape and dtype writes into the same arrays, one of another
    shape or dtype gets new ones; either way forward, backward and the weights are the
    reference's."""
    attention, norm = nn.ScaledDotProductAttention(), nn.LayerNorm(4).astype(xp.float64)
    fast_attention, fast_norm = twin_of(attention), twin_of(norm.copy())
    kept = []
    for B, T, dtype in [(2, 3, "float64"), (2, 3, "float64"), (3, 3, "float64"),
                        (3, 3, "float32")]:
        if dtype == "float32":
            norm.astype(xp.float32)
            fast_norm.astype(xp.float32)
        q, k, v, dy = (_normal(B, T, 4, seed=s).astype(dtype) for s in range(4))
        tol = TOLERANCE[dtype]
        for ref, twin, inputs in [(attention, fast_attention, (q, k, v)),
                                  (norm, fast_norm, (q,))]:
            _same("forward", twin(*inputs), ref(*inputs), tol)
            _same("backward", flatten(twin.backward(dy))[0], flatten(ref.backward(dy))[0], tol)
        _same("weights", fast_attention.weights, attention.weights, tol)
        _same("dgamma", fast_norm.grads["gamma"], norm.grads["gamma"], tol)
        kept.append([fast_attention._E, fast_norm._xhat, fast_norm._scratch])
    assert all(a is b for a, b in zip(kept[0], kept[1], strict=True))
    for before, after in (kept[1], kept[2]), (kept[2], kept[3]):
        assert not any(a is b for a, b in zip(before, after, strict=True))
    assert all(a.dtype == xp.float32 for a in kept[3])


def test_a_nan_in_one_query_makes_that_row_nan_in_the_attention_twin_and_no_other(xp):
    """A NaN in one query of one example (a diverged run, a bad input row) makes that query's
    output NaN, in the twin as in the reference, and every other row is the reference's: the
    twin sets masked scores to their own row's minimum, so a NaN reaches no other row of its
    block (on a GPU the block is the whole batch; here, causal, every row but the last has
    masked keys)."""
    q, k, v = (backend.to_numpy(_normal(2, 3, 4, seed=s)) for s in range(3))
    q[0, 1, 0] = np.nan
    q, k, v = (backend.asarray(a) for a in (q, k, v))
    mask = nn.causal_mask(3)
    reference = backend.to_numpy(nn.ScaledDotProductAttention()(q, k, v, mask=mask))
    out = backend.to_numpy(twin_of(nn.ScaledDotProductAttention())(q, k, v, mask=mask))
    nan_rows = [[False, True, False], [False, False, False]]
    assert np.isnan(reference).any(axis=-1).tolist() == nan_rows
    assert np.isnan(out).any(axis=-1).tolist() == nan_rows
    _same("the rows without the NaN", out[~np.array(nan_rows)], reference[~np.array(nan_rows)],
          TOLERANCE["float64"])


@pytest.mark.parametrize("kind, scratch", [
    ("LSTM", {"tanh_c": (5, 4, 3), "ah": (4, 12), "dgates": (4, 12)}),
    ("GRU", {"AH": (5, 4, 9), "dh": (4, 3)}),
])
def test_a_float32_recurrent_twin_keeps_its_scratch_in_float32(xp, kind, scratch):
    """The loop's scratch buffers (``_buffers``, kept by forward for backward: here B = 4,
    T = 5, H = 3) are in the layer's dtype: float64 scratch in a float32 layer computes the
    same within float32 rounding, at twice the memory traffic the twin exists to save."""
    layer = twin_of(RECURRENT[kind](2, 3).astype(xp.float32))
    layer(_normal(4, 5, 2).astype(xp.float32))
    buffers = layer.saved()[3]                          # (xs, A, Z, buffers, pad)
    assert {name: b.shape for name, b in buffers.items()} == scratch
    assert all(b.dtype == xp.float32 for b in buffers.values())


#: a twin of each kind with arithmetic of its own, in float32: (reference, inputs, kwargs);
#: B = 3, T = 4, D = d = 4, H = 3, the layers over a padded batch (4, 2 and 0 real steps),
#: the attention causal
FLOAT32_TWINS = {
    "LayerNorm": lambda: (nn.LayerNorm(4), [_normal(3, 4, 4)], {}),
    "ScaledDotProductAttention": lambda: (
        nn.ScaledDotProductAttention(), [_normal(3, 4, 4, seed=s) for s in range(3)],
        {"mask": nn.causal_mask(4)}),
    **{kind: (lambda cls=cls: (cls(4, 3), [_normal(3, 4, 4)], {"mask": backend.asarray(
        np.arange(4) < np.array([[4], [2], [0]]))})) for kind, cls in RECURRENT.items()},
    **{kind: (lambda cls=cls: (cls(4, 3), [_normal(3, 4)], {})) for kind, cls in CELLS.items()},
}


@pytest.mark.parametrize("name", sorted(FLOAT32_TWINS))
def test_a_float32_twin_makes_no_float64_array_in_its_forward_or_backward(monkeypatch, name):
    """Counted on the strict backend, whose wrappers see every array an operation makes: a
    float32 twin's forward and backward make float32 arrays only, not a float64 vector of
    ones, row statistic, mask or block of scratch. NumPy would run such a step in float64 and
    cast back on the in-place write: other float32 roundings, and a float32 operand as large as
    the data converted to float64, the traffic the twin exists to save."""
    minseq.use_backend("strict")
    reference, inputs, kwargs = FLOAT32_TWINS[name]()
    layer = twin_of(reference.astype(backend.xp.float32))
    inputs = [a.astype(backend.xp.float32) for a in inputs]
    out = layer(*inputs, **kwargs)
    dys = unflatten([_normal(*o.shape, seed=7).astype(o.dtype) for o in flatten(out)], out)
    made, init = [], strict.StrictArray.__init__

    def recording(array, data):
        made.append(data.dtype.name)
        init(array, data)

    monkeypatch.setattr(strict.StrictArray, "__init__", recording)
    out = layer(*inputs, **kwargs)
    if isinstance(out, tuple):
        layer.backward(*dys)
    else:
        layer.backward(dys)
    monkeypatch.undo()
    floating = {dtype for dtype in made if dtype.startswith("float")}
    assert floating == {"float32"}, sorted(floating)


def test_every_twin_has_a_case():
    covered = {name.split()[0] for name in TWIN_CASES}   # "LSTM masked" covers LSTM
    missing = [cls.__name__ for cls in TWINS if cls.__name__ not in covered]
    assert not missing, f"fast twins without an equality case: {missing}"


# -- accelerate itself, with a stand-in twin ------------------------------------------------

class _FastTanh(nn.Tanh):
    pass


@pytest.fixture
def tanh_twin(monkeypatch):
    monkeypatch.setitem(TWINS, nn.Tanh, _FastTanh)


def test_accelerate_swaps_nested_layers_and_shares_their_arrays(xp, tanh_twin):
    inner = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    model = nn.Sequential(inner, nn.Tanh(), nn.Linear(4, 2))
    params = dict(model.named_parameters())
    out = accelerate(model)
    assert out is model
    assert [type(m).__name__ for m in model.modules()] == [
        "Sequential", "Sequential", "Linear", "_FastTanh", "_FastTanh", "Linear"]
    for name, p in model.named_parameters():
        assert p is params[name]


def test_a_twin_shares_the_params_dict(xp, monkeypatch):
    monkeypatch.setitem(TWINS, nn.Linear, type("_FastLinear", (nn.Linear,), {}))
    layer = nn.Linear(3, 2)
    fast_layer = twin_of(layer)
    assert type(fast_layer).__name__ == "_FastLinear"
    assert fast_layer.params is layer.params and fast_layer.grads is layer.grads
    assert twin_of(nn.ReLU()).__class__ is nn.ReLU


class _Pair(nn.Module):
    """Sub-modules in a tuple, one of them also held on its own, beside a plain value."""

    def __init__(self, shared):
        super().__init__()
        self.pair = (shared, nn.Linear(2, 2))
        self.again = shared
        self.size = 2


def test_accelerate_swaps_layers_in_a_tuple_and_a_layer_used_twice_stays_one(xp, tanh_twin):
    model = _Pair(nn.Tanh())
    assert accelerate(model) is model
    assert type(model.pair) is tuple and len(model.pair) == 2
    assert type(model.pair[0]) is _FastTanh and model.again is model.pair[0]
    assert type(model.pair[1]) is nn.Linear and model.size == 2


def test_a_twin_made_after_a_forward_has_no_forward_of_its_own(xp):
    """The twin takes over its reference's attributes but not the cache of its last forward:
    its backward asks for a forward of its own, as a fresh layer's does."""
    layer = nn.LSTMCell(2, 3).astype(xp.float64)
    layer(_normal(1, 2))
    with pytest.raises(RuntimeError, match="fast.LSTMCell: backward called without a forward"):
        twin_of(layer).backward(_normal(1, 3))


def test_a_twin_must_subclass_its_reference():
    with pytest.raises(TypeError, match="must subclass"):
        fast.twin(nn.Tanh)(type("NotATanh", (nn.ReLU,), {}))


def test_accelerate_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match=r"expected a minseq.nn.Module, got str"):
        accelerate("LSTM")


def test_the_command_line_runs_the_fast_tier_unless_asked_for_the_reference():
    """``tier``: the model accelerated by default, the model as it is with ``reference=True``
    (``--reference``); what is not a Module (a count baseline) passes as it is either way."""
    layer = nn.LSTM(2, 3)
    assert type(fast.tier(nn.LSTM(2, 3))) is fast.LSTM
    assert fast.tier(layer, reference=True) is layer and type(layer) is nn.LSTM
    baseline = {"counts": [3, 1]}
    assert fast.tier(baseline) is baseline
    assert fast.tier(baseline, reference=True) is baseline


@pytest.mark.parametrize("sharded", [False, True], ids=["one thread", "batch shards"])
def test_a_twin_and_its_shards_follow_the_models_train_and_eval_modes(xp, sharded):
    """Accelerated in eval mode, a block with dropout stays in eval mode; switched to training
    and back (on batch shards: after its clones were made in training mode), it computes the
    reference's eval output again, and in training mode it drops."""
    backend.manual_seed(3)
    reference = nn.TransformerEncoderLayer(8, 2, d_ff=12, dropout=0.5).astype(xp.float64)
    reference.eval()
    twin = accelerate(reference.copy())
    assert not any(m.training for m in twin.modules())
    x = backend.asarray(backend.host_rng(1).standard_normal((4, 6, 8)))
    expected = backend.to_numpy(reference(x))
    with shard_threads(2 if sharded else 1):
        twin.train()
        dropped = backend.to_numpy(twin(x))
        twin.eval()
        again = backend.to_numpy(twin(x))
    assert abs(again - expected).max() <= 1e-12 * abs(expected).max()
    assert abs(dropped - expected).max() > 1e-3
    if sharded:
        assert not any(m.training for c in twin._shards.clones for m in c.modules())


# -- a training step of a whole model -----------------------------------------------------------

def _ids(xp, high, shape, seed):
    return backend.asarray(backend.host_rng(seed).integers(1, high, size=shape))


def _classifier(xp):
    mask = xp.ones((4, 6), dtype=bool)
    mask[1, :3] = False
    inputs = _ids(xp, 6, (4, 6), 1) * mask
    targets = backend.asarray([0, 3, 1, 4])
    return LSTMClassifier(5, 5, d_model=6, embed_dim=4, num_layers=2, dropout=0.2), (inputs, targets, mask)


def _recommender(make):
    def build(xp):
        inputs = _ids(xp, 9, (3, 6), 2)
        inputs[0, :2] = 0                                          # left padding
        targets = _ids(xp, 9, (3, 6), 3) * (inputs > 0)
        return make(), (inputs, targets, inputs > 0)
    return build


MODEL_STEPS = {
    "LSTMClassifier": _classifier,
    "GRU4Rec": _recommender(lambda: GRU4Rec(8, d_model=6, dropout=0.2)),
    "SASRec": _recommender(lambda: SASRec(8, maxlen=6, d_model=6, num_layers=2, num_heads=2,
                                          dropout=0.2)),
}


@pytest.mark.parametrize("name", sorted(MODEL_STEPS))
def test_a_training_step_of_an_accelerated_model_equals_the_reference(xp, name):
    """Same loss and the same gradient for every parameter, in float64 (dropout masks and
    sampled negatives: the copy restarts each random stream from the same seed, on the same
    backend)."""
    model, batch = MODEL_STEPS[name](xp)
    model.astype(xp.float64)
    twin = accelerate(model.copy())
    assert any(type(m) in TWINS.values() for m in twin.modules()), f"{name}: nothing accelerated"
    losses = []
    for m in (model, twin):
        losses.append(float(m.loss(batch)))
        m.backward_loss()
    assert abs(losses[1] - losses[0]) <= 1e-12 * abs(losses[0])
    grads, fast_grads = dict(model.named_grads()), dict(twin.named_grads())
    assert list(fast_grads) == list(grads)
    for k in grads:
        _same(f"{name} d{k}", fast_grads[k], grads[k], 1e-12)


