"""minseq.parallel: a row-independent layer on blocks of batch rows, one per thread.

The equality of every sharded layer with its reference, over drawn shapes and masks, is in
tests/fast/test_fast.py (``test_twin_on_batch_shards_equals_reference``); here: how rows are
split and joined, when a layer runs unsharded, what the shards share with their layer, and
errors.
"""

import pytest

from minseq import backend, fast, nn, optim, parallel
from minseq.parallel import shards
from minseq.parallel.shards import join, row_bounds, split
from minseq.models import SASRec

from shard_setting import shard_threads


def randn(xp, *shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape))


def encoder(xp, dropout=0.0, norm_first=False):
    backend.manual_seed(3)
    layer = nn.TransformerEncoderLayer(8, 2, d_ff=12, dropout=dropout, norm_first=norm_first)
    return layer.astype(xp.float64)


def step(layer, x, dy, **kwargs):
    """(y, dx, {name: grad}) of one forward and backward."""
    y = layer(x, **kwargs)
    dx = layer.backward(dy)
    return y, dx, {k: g.copy() for k, g in layer.named_grads()}


def assert_same(xp, a, b, tol=1e-12):
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    assert a.shape == b.shape
    assert abs(a - b).max() <= tol * max(abs(b).max(), 1.0)


# -- rows: how a batch is split and put back --------------------------------------------------

@pytest.mark.parametrize("rows, n", [(7, 3), (6, 3), (2, 2), (5, 1)])
def test_row_bounds_cover_every_row_once_as_evenly_as_can_be(rows, n):
    bounds = row_bounds(rows, n)
    assert len(bounds) == n and bounds[0][0] == 0 and bounds[-1][1] == rows
    assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_arrays_with_the_batch_axis_are_split_and_shared_masks_are_not(xp):
    x, causal, per_row = randn(xp, 5, 4, 3), nn.causal_mask(4), xp.ones((5, 4, 4), dtype=bool)
    assert split(x, 1, 3, 5).shape == (2, 4, 3)
    assert split(per_row, 1, 3, 5).shape == (2, 4, 4)
    assert split(causal, 1, 3, 5) is causal                    # (T, T): every row's
    assert split(xp.ones((1, 4, 4), dtype=bool), 1, 3, 5).shape == (1, 4, 4)
    assert split((x, None), 0, 2, 5)[1] is None


def test_join_concatenates_the_blocks_along_the_batch_axis(xp):
    a, b = randn(xp, 2, 3, seed=1), randn(xp, 1, 3, seed=2)
    joined = join([(a, None), (b, None)])
    assert joined[1] is None
    assert_same(xp, joined[0], xp.concatenate([a, b]))


# -- a sharded layer ----------------------------------------------------------------------------

def test_a_sharded_encoder_layer_equals_the_reference_and_records_its_weights(xp):
    reference = encoder(xp, norm_first=True)
    twin = fast.accelerate(reference.copy())
    x, dy = randn(xp, 5, 6, 8, seed=1), randn(xp, 5, 6, 8, seed=2)
    mask = backend.asarray(backend.host_rng(4).random((5, 6, 6)) > 0.3)
    expected = step(reference, x, dy, mask=mask)
    with shard_threads(3):
        got = step(twin, x, dy, mask=mask)
    assert [len(layer.params) for layer in twin._shards.clones[0].modules()] == [
        len(m.params) for m in twin.modules()]
    assert len(twin._shards.clones) == 3
    for a, b in zip(got[:2], expected[:2]):
        assert_same(xp, a, b)
    for k in expected[2]:
        assert_same(xp, got[2][k], expected[2][k])
    assert_same(xp, twin.self_attn.weights, reference.self_attn.weights)   # (B, h, T, T)


def test_the_shards_use_the_layers_own_parameter_arrays(xp):
    """An optimiser updates the layer's arrays in place; the next sharded step sees them."""
    layer = fast.accelerate(encoder(xp))
    x, dy = randn(xp, 4, 3, 8, seed=1), randn(xp, 4, 3, 8, seed=2)
    with shard_threads(2):
        step(layer, x, dy)
        optim.SGD(layer, lr=0.5).step()
        after = step(layer, x, dy)
    reference = step(fast.accelerate(layer.copy()), x, dy)       # unsharded, same weights
    assert_same(xp, after[0], reference[0])
    for k in reference[2]:
        assert_same(xp, after[2][k], reference[2][k])


def test_a_layer_converted_after_sharding_shards_in_its_new_dtype(xp):
    layer = fast.accelerate(encoder(xp))
    x, dy = randn(xp, 4, 3, 8, seed=1), randn(xp, 4, 3, 8, seed=2)
    with shard_threads(2):
        step(layer, x, dy)
        layer.astype(xp.float32)
        y, dx, grads = step(layer, x.astype(xp.float32), dy.astype(xp.float32))
    assert y.dtype == dx.dtype == xp.float32
    assert {g.dtype for g in grads.values()} == {xp.dtype(xp.float32)}


def test_the_clones_are_no_sub_modules_and_a_copy_has_none(xp):
    layer = fast.accelerate(encoder(xp))
    names = [name for name, _ in layer.named_parameters()]
    with shard_threads(2):
        step(layer, randn(xp, 4, 3, 8), randn(xp, 4, 3, 8))
    assert [name for name, _ in layer.named_parameters()] == names
    assert list(layer.state_dict()) == names
    assert layer.copy()._shards.clones == []


def test_only_a_call_with_enough_attention_scores_is_sharded(xp):
    """B h T T against MIN_SCORES: (2, 2, 32, 32) is 4,096 scores, and the threshold is set
    between that and twice it."""
    layer = fast.accelerate(encoder(xp))
    with shard_threads(2, min_scores=6000):
        step(layer, randn(xp, 2, 32, 8), randn(xp, 2, 32, 8))
        assert getattr(layer, "_shards", None) is None
        step(layer, randn(xp, 4, 32, 8), randn(xp, 4, 32, 8))
        assert len(layer._shards.clones) == 2
    assert shards.MIN_SCORES == 2**20


@pytest.mark.parametrize("why", ["one thread", "one row", "a reference Dropout", "inside a shard"])
def test_when_it_runs_unsharded(xp, why):
    dropout = 0.3 if why == "a reference Dropout" else 0.0
    if why == "a reference Dropout":      # built directly: its sub-modules are nn's
        backend.manual_seed(3)
        layer = parallel.TransformerEncoderLayer(8, 2, d_ff=12, dropout=dropout).astype(xp.float64)
    else:
        layer = fast.accelerate(encoder(xp))
    rows = 1 if why == "one row" else 4
    x, dy = randn(xp, rows, 3, 8), randn(xp, rows, 3, 8)
    with shard_threads(1 if why == "one thread" else 2):
        if why == "inside a shard":
            shards._local.shard = shards._Shard(0, rows, rows, None)
        try:
            y, dx, grads = step(layer, x, dy)
        finally:
            shards._local.shard = None
    assert getattr(layer, "_shards", None) is None
    expected = step(encoder(xp, dropout=dropout), x, dy)
    assert_same(xp, y, expected[0])
    assert_same(xp, dx, expected[1])


@pytest.mark.parametrize("norm_first", [False, True])
def test_a_sharded_layer_drops_what_the_unsharded_one_drops(xp, norm_first):
    """Each shard takes its rows of the one mask the layer's own Dropout draws for the batch."""
    reference = encoder(xp, dropout=0.4, norm_first=norm_first)
    twin = fast.accelerate(reference.copy())              # its streams restart from the seeds
    x, dy = randn(xp, 5, 6, 8, seed=1), randn(xp, 5, 6, 8, seed=2)
    for _ in range(2):                                    # the streams go on alike
        expected = step(reference, x, dy)
        with shard_threads(2):
            got = step(twin, x, dy)
        assert len(twin._shards.clones) == 2
        assert isinstance(twin._shards.clones[0].dropout1, parallel.Dropout)
        for a, b in zip(got[:2], expected[:2]):
            assert_same(xp, a, b)
        for k in expected[2]:
            assert_same(xp, got[2][k], expected[2][k])


def test_a_dropout_called_twice_in_one_forward_draws_twice(xp):
    drop = parallel.Dropout(0.5, seed=4)
    layer = parallel.Dropout(0.5, seed=4)
    x = xp.ones((4, 6))
    draws = shards._Draws({id(layer): drop})
    shard = shards._Shard(0, 2, 4, draws)
    shards._local.shard = shard
    try:
        first, second = layer.draw_keep((2, 6), x.dtype), layer.draw_keep((2, 6), x.dtype)
    finally:
        shards._local.shard = None
    whole = nn.Dropout(0.5, seed=4)
    assert (backend.to_numpy(first) == backend.to_numpy(whole.draw_keep((4, 6), x.dtype)[:2])).all()
    assert (backend.to_numpy(second) == backend.to_numpy(whole.draw_keep((4, 6), x.dtype)[:2])).all()


def test_a_layer_built_directly_reports_its_shards_weights(xp):
    """A sharded MultiHeadAttention built as such (its attention the reference's, not the fast
    twin ``accelerate`` puts in) reports the weights of the whole batch, as an accelerated one
    does: (B, h, T, T) = (4, 2, 5, 5), equal to the reference layer's."""
    backend.manual_seed(5)
    direct = parallel.MultiHeadAttention(8, 2).astype(xp.float64)
    accelerated = fast.accelerate(direct.copy())
    reference = nn.MultiHeadAttention(8, 2).astype(xp.float64)
    reference.load_state_dict(direct.state_dict())
    x = randn(xp, 4, 5, 8, seed=1)
    reference(x)
    with shard_threads(2):
        for layer in (direct, accelerated):
            layer(x)
            assert layer._ran_sharded
            assert layer.weights.shape == (4, 2, 5, 5)
            assert_same(xp, layer.weights, reference.weights)


def test_weights_after_an_unsharded_forward_are_that_forwards(xp):
    """A sharded forward's weights do not outlive it: the next forward, unsharded, reports its
    own."""
    layer = fast.accelerate(encoder(xp))
    reference = encoder(xp)
    with shard_threads(2):
        layer(randn(xp, 4, 3, 8, seed=1))
    x = randn(xp, 1, 3, 8, seed=2)                               # one row: unsharded
    reference(x)
    with shard_threads(2):
        layer(x)
    assert_same(xp, layer.self_attn.weights, reference.self_attn.weights)


def test_the_attention_inside_a_sharded_block_is_not_sharded_again(xp):
    layer = fast.accelerate(encoder(xp))
    with shard_threads(2):
        step(layer, randn(xp, 4, 3, 8), randn(xp, 4, 3, 8))
    clone = layer._shards.clones[0]
    assert isinstance(clone.self_attn, parallel.MultiHeadAttention)
    assert getattr(clone.self_attn, "_shards", None) is None


def test_a_training_step_of_sasrec_on_shards_equals_the_reference(xp):
    """Dropout 0.2 included: the accelerated copy restarts every stream from its seed."""
    backend.manual_seed(0)
    model = SASRec(9, maxlen=6, d_model=6, num_layers=2, num_heads=2, dropout=0.2)
    model.astype(xp.float64)
    twin = fast.accelerate(model.copy())
    inputs = backend.asarray(backend.host_rng(2).integers(1, 9, size=(5, 6)))
    inputs[0, :2] = 0
    targets = backend.asarray(backend.host_rng(3).integers(1, 9, size=(5, 6))) * (inputs > 0)
    batch = (inputs, targets, inputs > 0)
    loss = float(model.loss(batch))
    model.backward_loss()
    with shard_threads(2):
        fast_loss = float(twin.loss(batch))
        twin.backward_loss()
    assert any(m._shards is not None and len(m._shards.clones) == 2 for m in twin.modules()
               if isinstance(m, parallel.BatchSharded))
    assert abs(fast_loss - loss) <= 1e-12 * abs(loss)
    expected = dict(model.named_grads())
    for k, g in twin.named_grads():
        assert_same(xp, g, expected[k])


# -- errors ---------------------------------------------------------------------------------------

def test_a_wrong_upstream_gradient_is_named_before_any_work(xp):
    layer = fast.accelerate(encoder(xp))
    with shard_threads(2):
        layer(randn(xp, 4, 3, 8))
        with pytest.raises(ValueError, match=r"dy must have shape \(4, 3, 8\), got \(4, 3, 7\)"):
            layer.backward(randn(xp, 4, 3, 7))


def test_backward_without_forward_is_the_usual_error(xp):
    layer = fast.accelerate(encoder(xp))
    with shard_threads(2), pytest.raises(RuntimeError, match="backward called without a forward"):
        layer.backward(randn(xp, 4, 3, 8))


def test_bad_input_gets_the_reference_layers_error_naming_the_sharded_layer(xp):
    layer, reference = fast.accelerate(encoder(xp)), encoder(xp)
    bad = randn(xp, 4, 3, 7)
    with pytest.raises(ValueError) as expected:
        reference(bad)
    with shard_threads(2), pytest.raises(ValueError) as got:
        layer(bad)
    assert str(got.value) == "parallel." + str(expected.value)


def test_an_error_inside_a_shard_reaches_the_caller(xp):
    layer = fast.accelerate(encoder(xp))
    float_mask = xp.ones((4, 3, 3))                              # masks are boolean
    with shard_threads(2), pytest.raises((TypeError, ValueError), match="mask"):
        layer(randn(xp, 4, 3, 8), mask=float_mask)
    assert shards.current_shard() is None
