"""Graph message passing (catalogue G1) and the item-transition graph it runs on.

The document's rule, for node v with in-neighbours N(v):

    h_v^{(k+1)} = sigma( sum_{u in N(v)} W^{(k)} h_u^{(k)} + b^{(k)} )

and in matrix form, with rows of H as node features (so our W is the document's W transposed):

    H' = act(A_hat H W + b),    A[v, u] = weight of the edge u -> v (u sends to v)

The sum runs over neighbours only: a node's own features reach h_v' only through a self-loop
edge v -> v. A_hat is A normalised one of three ways (d_in(v) = sum_u A[v, u], the weight v
receives; d_out(u) = sum_v A[v, u], the weight u sends; a node with degree 0 gets factor 0):

    "none": A_hat = A                                            (the document: a plain sum)
    "mean": A_hat[v, u] = A[v, u] / d_in(v)                      (the mean of incoming messages)
    "sym":  A_hat[v, u] = A[v, u] / sqrt(d_in(v) d_out(u))       (GCN's D^-1/2 A D^-1/2, in the
                                                                 directed form DGL uses)
"""

from .. import backend
from ..backend import xp
from . import init
from .activations import ReLU, Sigmoid, Tanh
from .checks import check_array, check_same_shape
from .module import Module

NORMALIZATIONS = ("none", "mean", "sym")
ACTIVATIONS = {None: None, "identity": None, "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def _inverse_power(d, power):
    """d^-power where d > 0, and 0 where d == 0 (an isolated node receives nothing)."""
    positive = d > 0
    return xp.where(positive, xp.where(positive, d, 1.0) ** -power, 0.0).astype(d.dtype)


def _degree_factors(d_in, d_out, normalize):
    """(receiver factor, sender factor): A_hat[v, u] = f_in[v] A[v, u] f_out[u]."""
    if normalize == "mean":
        return _inverse_power(d_in, 1.0), None
    if normalize == "sym":
        return _inverse_power(d_in, 0.5), _inverse_power(d_out, 0.5)
    return None, None


def dense_operator(A, normalize):
    """A_hat from a dense adjacency A (N, N) or (B, N, N)."""
    f_in, f_out = _degree_factors(A.sum(axis=-1), A.sum(axis=-2), normalize)
    if f_in is not None:
        A = A * f_in[..., :, None]
    if f_out is not None:
        A = A * f_out[..., None, :]
    return A


def edge_operator(src, dst, weight, num_nodes, normalize):
    """Normalised edge weights w_hat (E,) for edges src -> dst over ``num_nodes`` nodes.

    Degrees are scatter-adds over the edges (``xp.add.at``), so a repeated edge counts as often
    as it appears, exactly as in the dense adjacency it stands for.
    """
    d_in = xp.zeros(num_nodes, dtype=weight.dtype)
    d_out = xp.zeros(num_nodes, dtype=weight.dtype)
    xp.add.at(d_in, dst, weight)
    xp.add.at(d_out, src, weight)
    f_in, f_out = _degree_factors(d_in, d_out, normalize)
    if f_in is not None:
        weight = weight * f_in[dst]
    if f_out is not None:
        weight = weight * f_out[src]
    return weight


def propagate(graph, X, transpose=False):
    """A_hat X (the messages each node receives), or A_hat^T X for the backward pass.

    graph: ("dense", A_hat) with A_hat (N, N) / (B, N, N), or ("edges", src, dst, w_hat) with
    node indices into the flattened (B * N) nodes; X (N, F) / (B, N, F). Returns X's shape.
    """
    if graph[0] == "dense":
        A_hat = graph[1]
        return (xp.swapaxes(A_hat, -1, -2) if transpose else A_hat) @ X
    _, src, dst, w = graph
    if transpose:
        src, dst = dst, src
    X2 = X.reshape(-1, X.shape[-1])                              # (B*N, F)
    out = xp.zeros_like(X2)
    # Scatter-add: several edges may end at one node (and repeat); add.at sums every one.
    xp.add.at(out, dst, w[:, None] * X2[src])
    return out.reshape(X.shape)


def check_edges(who, edges, bounds):
    """Raise unless column c of the integer edge list lies in [0, bounds[c]): a negative id
    would index from the end and silently connect the wrong nodes."""
    if edges.shape[0]:
        lo, hi = backend.read_for_check(xp.stack([edges.min(axis=0), edges.max(axis=0)]))
        for c, bound in enumerate(bounds):
            if lo[c] < 0 or hi[c] >= bound:
                raise IndexError(f"{who}: edge list column {c} must lie in [0, {bound}), "
                                 f"got values in [{lo[c]}, {hi[c]}]")


def adjacency_from_edges(edges, num_nodes, weight=None, batch=None, dtype=None):
    """The dense A (N, N) of an edge list (E, 2) of rows (u, v): A[v, u] = sum of the weights of
    the edges u -> v (a repeated edge adds up). weight: (E,) or None for ones. Batched edges
    (E, 3) of rows (b, u, v) give (B, N, N), B = ``batch`` or else the largest b + 1."""
    who = "adjacency_from_edges"
    check_array(who, "edges", edges, ndim=2, floating=False)
    if edges.dtype.kind not in "iu" or edges.shape[1] not in (2, 3):
        raise ValueError(f"{who}: edges must be integer rows (u, v) or (b, u, v), got "
                         f"{edges.dtype.name} of shape {tuple(edges.shape)}")
    if batch is None and edges.shape[1] == 3:
        batch = backend.read_for_check(edges[:, 0].max()).item() + 1 if edges.shape[0] else 1
    check_edges(who, edges, [batch] * (edges.shape[1] - 2) + [num_nodes, num_nodes])
    if dtype is None:
        dtype = backend.default_dtype if weight is None else weight.dtype
    w = xp.ones(edges.shape[0], dtype=dtype) if weight is None else weight
    if weight is not None:
        check_array(who, "weight", weight, ndim=1)
        check_same_shape(who, "weight", weight, (edges.shape[0],))
    if edges.shape[1] == 2:
        A = xp.zeros((num_nodes, num_nodes), dtype=dtype)
        xp.add.at(A, (edges[:, 1], edges[:, 0]), w)
        return A
    A = xp.zeros((batch, num_nodes, num_nodes), dtype=dtype)
    xp.add.at(A, (edges[:, 0], edges[:, 2], edges[:, 1]), w)
    return A


class GraphConv(Module):
    """H' = act(A_hat H W + b): one round of message passing over a graph (catalogue G1).

    Shapes: H (N, in) with A (N, N), or a batch H (B, N, in) with A (B, N, N); H' has H's
    leading shape and out_features last. A[v, u] != 0 when u sends to v. Instead of a dense A,
    pass an integer edge list: (E, 2) rows (u, v) for one graph, (E, 3) rows (b, u, v) for a
    batch, with optional ``edge_weight`` (E,) (default 1); it stands for the dense A whose
    A[v, u] is the summed weight of the edges u -> v (see ``adjacency_from_edges``), and gives
    the same result. normalize: "none", "mean" or "sym" (module docstring). activation: None
    (identity), "relu", "tanh" or "sigmoid".

    Params W (in, out), b (out); W Glorot-uniform and b zero, as PyG's GCNConv and DGL's
    GraphConv initialise them. The adjacency is data, not learned: backward returns dH only.

    Backward, with Z = A_hat H W + b and dZ = dH' (.) act'(Z):
        dW = (A_hat H)^T dZ,   db = sum over nodes of dZ,   dH = A_hat^T (dZ W^T).
    """

    def __init__(self, in_features, out_features, activation, normalize="none", bias=True):
        super().__init__()
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"GraphConv: normalize must be one of {NORMALIZATIONS}, "
                             f"got {normalize!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"GraphConv: activation must be one of {list(ACTIVATIONS)}, "
                             f"got {activation!r}")
        self.in_features, self.out_features = in_features, out_features
        self.normalize, self.activation = normalize, activation
        self.act = ACTIVATIONS[activation]() if ACTIVATIONS[activation] else None
        self.add_param("W", init.xavier_uniform((in_features, out_features), in_features,
                                                out_features))
        if bias:
            self.add_param("b", init.zeros((out_features,)))

    def _graph(self, H, A, edge_weight):
        """Check A against H and build the normalised operator ``propagate`` reads."""
        N, dtype = H.shape[-2], H.dtype
        if isinstance(A, xp.ndarray) and A.dtype.kind in "iu":
            return self._edge_graph(H, A, edge_weight)
        if edge_weight is not None:
            raise ValueError("GraphConv: edge_weight goes with an integer edge list, "
                             "not with a dense adjacency")
        check_array(self, "A", A, dtype=dtype)
        if tuple(A.shape) != H.shape[:-2] + (N, N):
            raise ValueError(f"GraphConv: A must have shape {H.shape[:-2] + (N, N)} to match H "
                             f"{tuple(H.shape)} (A[v, u]: u sends to v), got {tuple(A.shape)}")
        if self.normalize != "none" and A.size and backend.read_for_check(A.min()) < 0:
            raise ValueError(f"GraphConv: normalize={self.normalize!r} needs non-negative "
                             "edge weights in A")
        return ("dense", dense_operator(A, self.normalize))

    def _edge_graph(self, H, edges, edge_weight):
        N = H.shape[-2]
        cols = 2 if H.ndim == 2 else 3
        if edges.ndim != 2 or edges.shape[1] != cols:
            raise ValueError(f"GraphConv: an edge list for H of shape {tuple(H.shape)} must have "
                             f"shape (E, {cols}) with rows {'(u, v)' if cols == 2 else '(b, u, v)'}"
                             f", got {tuple(edges.shape)}")
        B = H.shape[0] if H.ndim == 3 else 1
        check_edges("GraphConv", edges, [B] * (cols - 2) + [N, N])
        if edge_weight is None:
            edge_weight = xp.ones(edges.shape[0], dtype=H.dtype)
        check_array(self, "edge_weight", edge_weight, ndim=1, dtype=H.dtype)
        check_same_shape(self, "edge_weight", edge_weight, (edges.shape[0],))
        if (self.normalize != "none" and edge_weight.size
                and backend.read_for_check(edge_weight.min()) < 0):
            raise ValueError(f"GraphConv: normalize={self.normalize!r} needs non-negative "
                             "edge weights")
        offset = edges[:, 0] * N if cols == 3 else 0              # flatten (b, u) to b*N + u
        src, dst = edges[:, -2] + offset, edges[:, -1] + offset
        return ("edges", src, dst, edge_operator(src, dst, edge_weight, B * N, self.normalize))

    def forward(self, H, A, edge_weight=None):
        W = self.params["W"]
        check_array(self, "H", H, last_dim=self.in_features, dtype=W.dtype)
        if H.ndim not in (2, 3):
            raise ValueError(f"GraphConv: H must be (N, {self.in_features}) or "
                             f"(B, N, {self.in_features}), got shape {tuple(H.shape)}")
        graph = self._graph(H, A, edge_weight)
        AH = propagate(graph, H)                                  # (..., N, in)
        Z = AH @ W
        if "b" in self.params:
            Z += self.params["b"]
        self.save_for_backward(graph, AH)
        return self.act(Z) if self.act else Z

    def backward(self, dout):
        graph, AH = self.saved()
        check_same_shape(self, "dout", dout, AH.shape[:-1] + (self.out_features,))
        dZ = self.act.backward(dout) if self.act else dout
        dZ2 = dZ.reshape(-1, self.out_features)                   # (B*N, out)
        self.grads["W"][...] = AH.reshape(-1, self.in_features).T @ dZ2
        if "b" in self.params:
            self.grads["b"][...] = dZ2.sum(axis=0)
        return propagate(graph, dZ @ self.params["W"].T, transpose=True)

    def extra_repr(self):
        return (f"{self.in_features}, {self.out_features}, activation={self.activation!r}, "
                f"normalize={self.normalize!r}, bias={'b' in self.params}")


def item_transition_graph(sessions, num_items=None):
    """The directed item graph of consecutive events, as session-based recommenders build it.

    sessions: item-id sequences (ints in [0, num_items)): lists, or host or backend arrays; a
    2-D array holds one session per row. Each is read to the host in one transfer (the whole
    array at once for a 2-D one), never element by element: on CuPy each element's ``int()``
    would be a device-to-host sync of its own. Every consecutive pair
    (s_t, s_{t+1}) gives one edge s_t -> s_{t+1}; a pair seen k times gives k repeated edges, so
    the dense A[v, u] (``adjacency_from_edges``) counts the transitions u -> v, and an item seen
    twice in a row gives a self-loop. Returns (edges, num_items): edges an integer backend array
    (E, 2) of rows (u, v); num_items defaults to the largest id + 1.

    With GraphConv: normalize="mean" averages over the transitions INTO v (each row of A divided
    by its sum: SR-GNN's in-degree normalised A_in); "sym" divides by sqrt(d_in(v) d_out(u)).
    """
    if hasattr(sessions, "shape"):
        sessions = backend.to_numpy(sessions)
    rows = [_session_ids(s) for s in sessions]
    pairs = [(a, b) for s in rows for a, b in zip(s[:-1], s[1:])]
    ids = [i for s in rows for i in s]
    if any(i < 0 for i in ids):
        raise ValueError("item_transition_graph: item ids must be non-negative integers")
    largest = max(ids) + 1 if ids else 0
    if num_items is None:
        num_items = largest
    elif largest > num_items:
        raise ValueError(f"item_transition_graph: item id {largest - 1} is out of range for "
                         f"num_items={num_items}")
    edges = xp.asarray(pairs, dtype=xp.int64).reshape(len(pairs), 2)
    return edges, num_items


def _session_ids(session):
    """One session's item ids as Python ints, through one host copy of the whole session."""
    host = backend.to_numpy(session)
    if host.ndim != 1 or (host.size and host.dtype.kind not in "iu"):
        raise ValueError(f"item_transition_graph: each session must be a 1-D sequence of "
                         f"integer item ids, got shape {host.shape} of {host.dtype}")
    return host.tolist()
