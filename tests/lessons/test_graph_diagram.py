"""A lesson's computational graph (``minseq.lessons_support.graph_diagram``): every forward
arrow points right, every tensor read gets a forward and a gradient arrow, and a list of
operations that is not a graph computed in order is refused, naming the operation."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from minseq.lessons_support import graph_diagram  # noqa: E402

NET = [("z1", "x W1 + b1", ["x", "W1", "b1"]), ("h", "ReLU", ["z1"]),
       ("z2", "h W2 + b2", ["h", "W2", "b2"]), ("L", "cross-entropy", ["z2", "y"])]


def test_every_forward_arrow_points_right():
    pos = graph_diagram.layout(NET)
    assert set(pos) == {"z1", "h", "z2", "L", "x", "W1", "b1", "W2", "b2", "y"}
    for out, _, inputs in NET:
        for name in inputs:
            assert pos[name][0] < pos[out][0], f"{name} -> {out} does not point right"


def test_nodes_do_not_overlap():
    pos = list(graph_diagram.layout(NET).values())
    assert len(set(pos)) == len(pos)


def test_the_figure_has_a_forward_and_a_gradient_arrow_per_tensor_read():
    import matplotlib.pyplot as plt
    fig = graph_diagram.draw(NET, "a two-layer net")
    ax = fig.axes[0]
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    reads = sum(len(inputs) for _, _, inputs in NET) + 1           # + the loss itself
    assert len(arrows) == 2 * reads
    labels = {t.get_text() for t in ax.texts}
    assert {"dL/dW1", "dL/dz2", "dL/dx", "x W1 + b1", "ReLU", "W2"} <= labels
    plt.close(fig)


def test_a_constant_gets_no_gradient_arrow():
    import matplotlib.pyplot as plt
    fig = graph_diagram.draw(NET, "a two-layer net", constants=["y"])
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "dL/dy" not in labels and "dL/dx" in labels and "y" in labels
    plt.close(fig)


@pytest.mark.parametrize("ops, words", [
    ([], "no operations"),
    ([("h", "ReLU", "z")], "expected (output, operation, [inputs, ...])"),
    ([("h", "ReLU", ["z"]), ("h", "tanh", ["h"])], "'h' is computed twice"),
    ([("h", "ReLU", ["z"]), ("z", "x W", ["x"])], "reads 'z', which is computed at or after"),
    ([("h", "ReLU", ["h"])], "reads 'h'"),
])
def test_a_list_that_is_not_an_ordered_graph_is_refused(ops, words):
    with pytest.raises(ValueError, match="graph_diagram: .*") as err:
        graph_diagram.layout(ops)
    assert words in str(err.value)
