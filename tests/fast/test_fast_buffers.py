"""minseq.fast.buffers: blocks sized per backend, and what that costs a GPU in launches.

On NumPy the attention and LayerNorm twins cut their work into blocks of about 1 MB (cache);
on CuPy, and on the strict backend that stands in for it, the work is one block, so a forward
runs the same few array operations (kernel launches on a GPU) at any size. Counted here with
``minseq.bench.launches`` on the strict backend.
"""

import pytest

import minseq
from minseq import backend, fast, nn
from minseq.bench.launches import count_launches
from minseq.fast import buffers

from paths import ROOT


def randn(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape))


def test_the_block_size_is_a_setting_per_backend():
    assert buffers.BLOCK_BYTES == {"numpy": 1 << 20, "cupy": None, "strict": None}
    minseq.use_backend("strict")
    assert buffers.block_bytes() is None
    minseq.use_backend("numpy")
    assert buffers.block_bytes() == 1 << 20


def _attention_and_norm(B, h, T, d):
    """The fast attention (B, h, T, T scores, causal; h None: (B, T, T), no heads) and a fast
    LayerNorm over its output."""
    attention = fast.ScaledDotProductAttention()
    norm = fast.twin_of(nn.LayerNorm(d).astype(backend.xp.float64))
    lead = (B,) if h is None else (B, h)
    q, k, v = (randn(*lead, T, d, seed=s) for s in (1, 2, 3))
    return attention, norm, (q, k, v), nn.causal_mask(T)


def _pass(attention, norm, qkv, mask):
    """Forward and backward of norm(attention(q, k, v)): (y, dq, dk, dv, dgamma, dbeta)."""
    y = norm(attention(*qkv, mask=mask))
    dy = randn(*y.shape, seed=4)
    dq, dk, dv = attention.backward(norm.backward(dy))
    return y, dq, dk, dv, norm.grads["gamma"].copy(), norm.grads["beta"].copy()


@pytest.mark.parametrize("B, h, T", [(4, 2, 16), (2, 4, 16), (3, None, 24)],
                         ids=["whole rows", "within a row", "no heads"])
def test_blocks_of_any_size_compute_what_one_block_does(monkeypatch, B, h, T):
    """NumPy, float64, d = 8: blocks of 4 KB against the whole arrays at once. The (16, 16)
    score slices (2 KB) go 2 to a block: runs of whole rows of 2 heads, or runs of 2 heads
    within a row of 4; the (24, 24) slices of a batch without heads (4.5 KB) one to a block.
    LayerNorm's rows (64 B) go 64 to a block (of the 72 rows without heads, 8 in the last)."""
    minseq.use_backend("numpy")
    layers = _attention_and_norm(B, h, T, 8)
    monkeypatch.setitem(buffers.BLOCK_BYTES, "numpy", None)
    whole = _pass(*layers)
    monkeypatch.setitem(buffers.BLOCK_BYTES, "numpy", 4096)
    blocked = _pass(*layers)
    for a, b in zip(blocked, whole, strict=True):
        assert abs(backend.to_numpy(a) - backend.to_numpy(b)).max() <= 1e-12


def _launches(B, h, T, d):
    layers = _attention_and_norm(B, h, T, d)
    with count_launches() as ops:
        _pass(*layers)
    return sum(ops.values())


def test_on_a_gpu_a_pass_launches_as_much_at_any_size(monkeypatch):
    """Strict (as CuPy): one block, so (8, 4, 128, 16), 4 MB of float64 scores, launches what
    (1, 1, 4, 16) launches; with the CPU's 1 MB blocks it would launch more, block by block."""
    minseq.use_backend("strict")
    small, large = _launches(1, 1, 4, 16), _launches(8, 4, 128, 16)
    assert small == large
    monkeypatch.setitem(buffers.BLOCK_BYTES, "strict", buffers.BLOCK_BYTES["numpy"])
    assert _launches(8, 4, 128, 16) > large + 20


def _block_launches(layer, direction, n):
    """Operations of one forward or backward over n blocks' worth of work at 4 KB a block:
    LayerNorm over 64 n rows of d = 8 (64 B a row), attention over (2 n, 8, 32) scores (8
    queries, 32 keys: 2 KB a slice)."""
    if layer == "LayerNorm":
        module = fast.twin_of(nn.LayerNorm(8).astype(backend.xp.float64))
        inputs, dy = (randn(64 * n, 8),), randn(64 * n, 8, seed=1)
    else:
        module = fast.ScaledDotProductAttention()
        inputs = (randn(2 * n, 8, 8, seed=1), randn(2 * n, 32, 8, seed=2),
                  randn(2 * n, 32, 8, seed=3))
        dy = randn(2 * n, 8, 8)
    run = (lambda: module(*inputs)) if direction == "forward" else (lambda: module.backward(dy))
    if direction == "backward":
        module(*inputs)
    with count_launches() as ops:
        run()
    return sum(ops.values())


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("layer", ["LayerNorm", "ScaledDotProductAttention"])
def test_each_block_runs_the_same_operations_once(monkeypatch, layer, direction):
    """Counted on the strict backend with blocks of 4 KB: one block's worth of work runs what
    it runs as one block, and two and three blocks' worth run L + k and L + 2k operations with
    k > 0, forward and backward alike: each block runs its passes once, cut as ``row_blocks``
    and ``blocks`` cut (by the bytes of a row, of a (queries, keys) slice)."""
    minseq.use_backend("strict")
    one_block = _block_launches(layer, direction, 1)
    monkeypatch.setitem(buffers.BLOCK_BYTES, "strict", 4096)
    counts = [_block_launches(layer, direction, n) for n in (1, 2, 3)]
    assert counts[0] == one_block and counts[1] - counts[0] == counts[2] - counts[1] > 0, counts


def test_counting_launches_needs_the_strict_backend():
    minseq.use_backend("numpy")
    with pytest.raises(RuntimeError, match="strict backend"), count_launches():
        pass


def test_the_count_names_each_operation_and_leaves_out_views():
    minseq.use_backend("strict")
    xp = backend.xp
    a = xp.ones((3, 4))
    with count_launches() as ops:
        b = xp.exp(a)                  # exp
        b += a                         # operator
        b.sum()                        # .sum
        b.reshape(4, 3).swapaxes(0, 1)  # views: none
        xp.empty((2, 2))               # no kernel
        b[0] = a[1]                    # []=
    assert ops == {"exp": 1, "operator": 1, ".sum": 1, "[]=": 1}


def test_the_launch_table_has_a_row_per_benchmark_case(tmp_path):
    """benchmarks/launches.py --quick: every layer's row, counts that are positive, and at a
    size of one block even on the CPU, the same count with and without 1 MB blocks."""
    import runpy
    script = runpy.run_path(str(ROOT / "benchmarks" / "launches.py"))
    out = tmp_path / "launches.md"
    script["main"](["--quick", "--out", str(out)])
    rows = [line.split(" | ") for line in out.read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| layer")]
    assert [r[0].strip("| ") for r in rows] == [
        "MLP", "RNN", "LSTM", "GRU", "MultiHeadAttention", "TransformerEncoderLayer"]
    for row in rows:
        reference, one_block, blocked = (int(v.strip(" |")) for v in row[2:])
        assert reference > 0 and one_block > 0 and blocked == one_block


def test_a_buffer_is_reused_only_when_it_fits_the_shape_and_dtype(xp):
    """``reuse``: the same array when shape and dtype fit, else a new one of that shape and
    dtype (a list or None, or an array of another shape or dtype, is not reused)."""
    buffer = xp.zeros((2, 3), dtype=xp.float32)
    assert buffers.reuse(buffer, (2, 3), xp.float32) is buffer
    assert buffers.reuse(buffer, [2, 3], xp.float32) is buffer
    for old, shape, dtype in [(buffer, (3, 2), xp.float32), (buffer, (2, 3), xp.float64),
                              (None, (2, 3), xp.float32), ([[0.0] * 3] * 2, (2, 3), xp.float32)]:
        new = buffers.reuse(old, shape, dtype)
        assert new is not old and isinstance(new, xp.ndarray)
        assert new.shape == shape and new.dtype == dtype


def test_the_cpus_blocks_tile_the_leading_axes_in_runs_of_about_the_target():
    """attention.blocks(lead, slice_bytes, target): whole runs of axis 0 while a row of slices
    fits the target, else runs along axis 1 within each row; a block is never less than one
    slice, and None (the GPU) or no leading axis is one block."""
    from minseq.fast.attention import blocks

    def cut(lead, slice_bytes, target):
        return [tuple((s.start, s.stop) if isinstance(s, slice) else s for s in idx)
                for idx in blocks(lead, slice_bytes, target)]

    assert cut((4, 3), 100, None) == [()]
    assert cut((), 100, 1000) == [()]
    assert cut((5,), 100, 250) == [((0, 2),), ((2, 4),), ((4, 6),)]          # 2 slices a block
    assert cut((3,), 500, 100) == [((0, 1),), ((1, 2),), ((2, 3),)]          # one, not less
    assert cut((3,), 0, 2) == [((0, 2),), ((2, 4),)]                        # empty slices
    assert cut((4, 3), 100, 700) == [((0, 2),), ((2, 4),)]                  # 2 rows of 3
    assert cut((4, 3), 100, 300) == [((0, 1),), ((1, 2),), ((2, 3),), ((3, 4),)]
    assert cut((2, 5), 100, 250) == [(0, (0, 2)), (0, (2, 4)), (0, (4, 6)),
                                     (1, (0, 2)), (1, (2, 4)), (1, (4, 6))]  # within a row
    assert cut((2, 3, 4), 100, 900) == [(0, (0, 2)), (0, (2, 4)), (1, (0, 2)), (1, (2, 4))]
    assert cut((1, 3, 4), 100, 300) == [(0, (0, 1)), (0, (1, 2)), (0, (2, 3))]


def test_layernorm_rows_are_cut_into_blocks_of_about_the_target():
    """layernorm.row_blocks(n_rows, row_bytes, target): runs of rows of about ``target``
    bytes, never less than one row; None (the GPU) is every row at once."""
    from minseq.fast.layernorm import row_blocks

    def cut(n_rows, row_bytes, target):         # the rows each block holds
        return [list(range(n_rows))[s] for s in row_blocks(n_rows, row_bytes, target)]

    assert cut(5, 8, None) == [[0, 1, 2, 3, 4]]
    assert cut(10, 8, 32) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert cut(3, 100, 50) == [[0], [1], [2]]
    assert cut(20, 0, 16) == [list(range(16)), [16, 17, 18, 19]]      # rows of no bytes
    assert cut(0, 8, 32) == []
