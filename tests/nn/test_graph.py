"""GraphConv (catalogue G1): H' = act(A_hat H W + b) on dense and edge-list graphs, single and
batched, every normalisation; and the item-transition graph built from sessions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minseq
from minseq import backend, nn
from minseq.gradcheck import check_module
from minseq.strict import count_syncs

NORMS = ["none", "mean", "sym"]


def random_graph(seed, B, N, E):
    """Float64 features (B, N, 3) and an edge list (E, 3) of rows (b, u, v), repeats likely."""
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((B, N, 3))
    edges = np.stack([rng.integers(0, B, E), rng.integers(0, N, E), rng.integers(0, N, E)], 1)
    weight = rng.uniform(0.1, 2.0, E)
    return H, edges, weight


def layer(normalize, activation="tanh"):
    return nn.GraphConv(3, 2, activation, normalize=normalize).astype(np.float64)


def to_dev(*arrays):
    return [backend.asarray(a) for a in arrays]


def by_hand(H, edges, weight, W, b, normalize, act=np.tanh):
    """G1 in index form on one graph: h_v' = act(sum over edges u -> v of a_vu h_u W + b)."""
    N = H.shape[0]
    d_in, d_out = np.zeros(N), np.zeros(N)
    for (u, v), w in zip(edges, weight):
        d_in[v] += w
        d_out[u] += w
    out = np.tile(b, (N, 1))
    for (u, v), w in zip(edges, weight):
        if normalize == "mean":
            w = w / d_in[v]
        elif normalize == "sym":
            w = w / np.sqrt(d_in[v] * d_out[u])
        out[v] += w * (H[u] @ W)
    return act(out)


# -- the formula ------------------------------------------------------------------------------
@pytest.mark.parametrize("normalize", NORMS)
@given(seed=st.integers(0, 10_000), N=st.integers(1, 5), E=st.integers(0, 10))
def test_forward_is_the_message_passing_formula(xp, normalize, seed, N, E):
    H, edges, weight = random_graph(seed, 1, N, E)
    g = layer(normalize)
    g.params["b"][...] = backend.asarray(np.linspace(-0.5, 0.5, 2))
    out = g(*to_dev(H[0], edges[:, 1:]), edge_weight=backend.asarray(weight))
    W, b = backend.to_numpy(g.params["W"]), backend.to_numpy(g.params["b"])
    expected = by_hand(H[0], edges[:, 1:], weight, W, b, normalize)
    assert np.allclose(backend.to_numpy(out), expected, rtol=1e-12, atol=1e-12)


def test_repeated_edges_all_count(xp):
    """Two edges 0 -> 1 send h_0 twice: the scatter-add must not drop the repeat."""
    g = layer("none", None)
    H = backend.asarray(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    out = g(H, backend.asarray(np.array([[0, 1], [0, 1]])))
    expected = 2 * H[0] @ g.params["W"] + g.params["b"]
    assert xp.allclose(out[1], expected)
    assert xp.allclose(out[0], g.params["b"])     # node 0 receives nothing


@pytest.mark.parametrize("normalize", NORMS)
def test_a_node_without_incoming_edges_gets_the_bias_only(xp, normalize):
    g = layer(normalize, "sigmoid")
    H = backend.asarray(np.ones((3, 3)))
    out = g(H, backend.asarray(np.array([[0, 1], [1, 2]])))
    assert xp.allclose(out[0], 1 / (1 + xp.exp(-g.params["b"])))
    assert not xp.isnan(out).any()


def test_mean_normalisation_averages_the_incoming_messages(xp):
    A = backend.asarray(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [4.0, 0.0, 4.0]]))
    A_hat = backend.to_numpy(nn.graph.dense_operator(A, "mean"))
    assert np.allclose(A_hat.sum(axis=1), [1.0, 0.0, 1.0])
    S = backend.to_numpy(nn.graph.dense_operator(A, "sym"))
    assert S[0, 1] == pytest.approx(2.0 / np.sqrt(3.0 * 2.0))   # d_in(0) = 3, d_out(1) = 2


# -- dense and edge-list forms agree, single and batched ------------------------------------
@pytest.mark.parametrize("normalize", NORMS)
@given(seed=st.integers(0, 10_000), B=st.integers(1, 3), N=st.integers(1, 5),
       E=st.integers(0, 12))
def test_dense_and_edge_list_forms_give_identical_results(xp, normalize, seed, B, N, E):
    H, edges, weight = random_graph(seed, B, N, E)
    H, edges, weight = to_dev(H, edges, weight)
    A = nn.adjacency_from_edges(edges, N, weight=weight, batch=B)
    dout = backend.asarray(np.random.default_rng(seed + 1).standard_normal((B, N, 2)))
    results = []
    g = layer(normalize)
    for graph, kw in ((A, {}), (edges, {"edge_weight": weight})):
        out = g(H, graph, **kw)
        dH = g.backward(dout)
        results.append([out, dH, g.grads["W"].copy(), g.grads["b"].copy()])
    for dense, sparse in zip(*results):
        assert xp.allclose(dense, sparse, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("normalize", NORMS)
def test_a_batch_is_each_graph_on_its_own(xp, normalize):
    H, edges, weight = random_graph(3, 3, 4, 15)
    g = layer(normalize)
    batched = backend.to_numpy(g(*to_dev(H, edges), edge_weight=backend.asarray(weight)))
    for b in range(3):
        mine = edges[:, 0] == b
        single = g(*to_dev(H[b], edges[mine, 1:]), edge_weight=backend.asarray(weight[mine]))
        assert np.allclose(batched[b], backend.to_numpy(single), rtol=1e-12, atol=1e-12)


# -- gradients --------------------------------------------------------------------------------
@pytest.mark.parametrize("normalize", NORMS)
@pytest.mark.parametrize("form", ["dense", "edges"])
@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_gradients_of_W_b_and_H(xp, normalize, form, batched):
    H, edges, weight = random_graph(7, 2, 4, 10)
    if not batched:
        H, edges = H[0], edges[:, 1:]
    H, edges, weight = to_dev(H, edges, weight)
    if form == "dense":
        graph, kw = nn.adjacency_from_edges(edges, 4, weight=weight), {}
    else:
        graph, kw = edges, {"edge_weight": weight}
    errors = check_module(nn.GraphConv(3, 2, "tanh", normalize=normalize), H, graph,
                          grad_inputs=("H",), **kw)       # the graph is data: no gradient
    assert set(errors) == {"H", "W", "b"}
    assert max(errors.values()) < 1e-7


def test_shapes_and_parameters(xp):
    g = nn.GraphConv(3, 5, "relu")
    assert g.params["W"].shape == (3, 5) and g.params["b"].shape == (5,)
    assert xp.all(g.params["b"] == 0)
    H = xp.ones((2, 4, 3), dtype=xp.float32)
    assert g(H, xp.eye(4, dtype=xp.float32)[None].repeat(2, axis=0)).shape == (2, 4, 5)
    assert g.backward(xp.ones((2, 4, 5), dtype=xp.float32)).shape == (2, 4, 3)


# -- bad input ------------------------------------------------------------------------------
def _bad_calls(xp):
    g = nn.GraphConv(3, 2, "tanh")
    H = xp.ones((4, 3), dtype=xp.float32)
    A = xp.ones((4, 4), dtype=xp.float32)
    e = xp.asarray([[0, 1]])
    return [
        (lambda: g(xp.ones((4, 2), dtype=xp.float32), A), "last dimension 3"),
        (lambda: g(xp.ones((3,), dtype=xp.float32), A), "must be"),
        (lambda: g(H, xp.ones((4, 3), dtype=xp.float32)), r"shape \(4, 4\)"),
        (lambda: g(H, A.astype(xp.float64)), "dtype"),
        (lambda: g(H, xp.asarray([[0, 4]])), "lie in"),
        (lambda: g(H, xp.asarray([[0, 1, 2]])), r"\(E, 2\)"),
        (lambda: g(H, A, edge_weight=xp.ones(1, dtype=xp.float32)), "edge_weight"),
        (lambda: g(H, e, edge_weight=xp.ones(2, dtype=xp.float32)), "edge_weight"),
        (lambda: nn.GraphConv(3, 2, "tanh", "mean")(H, -A), "non-negative"),
        (lambda: nn.GraphConv(3, 2, "tanh", normalize="max"), "normalize"),
        (lambda: nn.GraphConv(3, 2, "softplus"), "activation"),
        (lambda: nn.GraphConv(3, 2, None).backward(xp.ones((4, 2))), "without a forward"),
    ]


@pytest.mark.parametrize("i", range(12))
def test_bad_input_is_a_clear_error(xp, i):
    call, message = _bad_calls(xp)[i]
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError), match=message) as info:
        call()
    assert "GraphConv" in str(info.value)


# -- the item-transition graph --------------------------------------------------------------
def test_item_transition_graph_counts_consecutive_pairs(xp):
    edges, n = nn.item_transition_graph([[0, 1, 2], [1, 2, 2, 3], [0, 1]])
    assert n == 4
    assert backend.to_numpy(edges).tolist() == [[0, 1], [1, 2], [1, 2], [2, 2], [2, 3], [0, 1]]
    A = backend.to_numpy(nn.adjacency_from_edges(edges, n))
    assert A[1, 0] == 2 and A[2, 1] == 2 and A[2, 2] == 1 and A.sum() == 6


def test_item_transition_graph_checks_ids(xp):
    edges, n = nn.item_transition_graph([[2], []], num_items=5)
    assert edges.shape == (0, 2) and n == 5
    with pytest.raises(ValueError, match="out of range"):
        nn.item_transition_graph([[0, 7]], num_items=5)
    with pytest.raises(ValueError, match="non-negative"):
        nn.item_transition_graph([[0, -1]])


@pytest.mark.parametrize("bad", [[[0, 1.5]], [[[0, 1]]]], ids=["float ids", "2-D session"])
def test_item_transition_graph_refuses_what_is_not_a_sequence_of_ids(xp, bad):
    with pytest.raises(ValueError, match="each session must be a 1-D sequence of integer"):
        nn.item_transition_graph(bad)


def test_item_transition_graph_reads_device_sessions_in_one_transfer_each():
    minseq.use_backend("strict")
    sessions = [[0, 1, 2], [1, 2, 2, 3]]
    with count_syncs() as per_session:
        edges, n = nn.item_transition_graph([backend.asarray(s) for s in sessions])
    with count_syncs() as whole:
        same, _ = nn.item_transition_graph(backend.asarray([[0, 1, 2], [2, 2, 3]]))
    assert per_session.reads == ["get", "get"] and whole.reads == ["get"]
    assert backend.to_numpy(edges).tolist() == [[0, 1], [1, 2], [1, 2], [2, 2], [2, 3]]
    assert backend.to_numpy(same).tolist() == [[0, 1], [1, 2], [2, 2], [2, 3]] and n == 4
