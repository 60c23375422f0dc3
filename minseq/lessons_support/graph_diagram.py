"""A lesson's computational graph, drawn with matplotlib: the forward pass left to right, the
gradient flowing back right to left (DLFS2 draws one for every backward node).

A lesson lists the operations its steps compute, each as ``(output, operation, inputs)``, in
the names of its formulas::

    ops = [("z1", "x W1 + b1", ["x", "W1", "b1"]), ("h", "ReLU", ["z1"]),
           ("z2", "h W2 + b2", ["h", "W2", "b2"]), ("L", "cross-entropy", ["z2", "y"])]
    L.savefig(graph_diagram.draw(ops, "A two-layer net"), "graph")

Every tensor that no operation produces is a leaf (an input or a parameter). Each operation is
a box; each tensor an arrow from the box (or leaf) that makes it to the box that reads it,
labelled with its name on the forward side (black) and with its gradient dL/d<name> on the
backward side (red, pointing back). The last operation's output is the loss.
"""

from ..plot import pyplot


def check_ops(ops):
    """Refuse a list of operations that is not a graph computed in order: each a triple
    (output, operation, inputs) with a new output name, reading only leaves or earlier outputs."""
    if not ops:
        raise ValueError("graph_diagram: no operations to draw")
    made = set()
    for k, op in enumerate(ops):
        if not (isinstance(op, tuple) and len(op) == 3 and isinstance(op[2], (list, tuple))
                and op[2]):
            raise ValueError(f"graph_diagram: operation {k} is {op!r}, expected (output, "
                             "operation, [inputs, ...])")
        out, _, inputs = op
        if out in made:
            raise ValueError(f"graph_diagram: {out!r} is computed twice")
        later = [name for name in inputs if name == out or any(name == o[0] for o in ops[k:])]
        if later:
            raise ValueError(f"graph_diagram: operation {k} ({out!r}) reads {later[0]!r}, "
                             "which is computed at or after it: list operations in order")
        made.add(out)


def layout(ops):
    """{node: (x, y)}: an operation node is its output's name, a leaf its own name. An
    operation sits one column right of the latest operation it reads (operations of one column
    stacked), and its leaves half a column to its left: the first on its row when it reads no
    operation, the rest stacked above it, so every forward arrow points right."""
    check_ops(ops)
    produced = {out for out, _, _ in ops}
    column, rows = {}, {}
    for out, _, inputs in ops:
        column[out] = 1 + max([column[i] for i in inputs if i in produced], default=0)
    pos = {}
    for out, _, inputs in ops:
        c = column[out]
        pos[out] = (float(c), -float(rows.get(c, 0)) * 2.2)
        rows[c] = rows.get(c, 0) + 1
    for out, _, inputs in ops:
        x, y = pos[out]
        leaves = [i for i in dict.fromkeys(inputs) if i not in produced and i not in pos]
        on_row = not any(i in produced for i in inputs)
        for k, name in enumerate(leaves):
            level = k if on_row else k + 1
            pos[name] = (x - (0.6 if level else 0.75), y + 0.7 * level)
    return pos


def _arrow(ax, start, end, colour, style, text, trim):
    """An arrow from ``start`` to ``end`` shortened by ``trim`` (start, end), its label beside
    it. An arrow that passes over a column bends, so that it does not run through the
    operations between."""
    import math
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    a, b = (x0 + ux * trim[0], y0 + uy * trim[0]), (x1 - ux * trim[1], y1 - uy * trim[1])
    rad = 0.25 if abs(x1 - x0) > 1.2 else 0.0
    ax.annotate("", xy=b, xytext=a, zorder=2, arrowprops=dict(
        arrowstyle="-|>", color=colour, linestyle=style, lw=1.2, shrinkA=0, shrinkB=0,
        connectionstyle=f"arc3,rad={rad}"))
    if text:
        # a bent arrow bulges to the right of its travel, by rad/2 of its chord
        chord = math.hypot(b[0] - a[0], b[1] - a[1])
        px, py, side = (uy, -ux, 0.1 + rad * chord / 2) if rad else (-uy, ux, 0.13)
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        ax.text(mx + px * side, my + py * side, text, ha="center", va="center",
                fontsize=7.5, color=colour, zorder=4,
                bbox=dict(fc="white", ec="none", pad=0.3, alpha=0.85))


def draw(ops, title, loss="L", constants=()):
    """The figure of ``ops`` (see the module doc): boxes for operations, leaves as plain names,
    a forward arrow and a backward (gradient) arrow for every tensor read except the leaves
    named in ``constants`` (labels, masks: nothing to differentiate)."""
    plt = pyplot()
    pos = layout(ops)
    produced = {out: op for out, op, _ in ops}
    last = ops[-1][0]
    pos_loss = (pos[last][0] + 0.75, pos[last][1])
    xs = [x for x, _ in pos.values()] + [pos_loss[0]]
    ys = [y for _, y in pos.values()]
    scale = 2.6                       # inches per column
    fig, ax = plt.subplots(figsize=(scale * (max(xs) - min(xs)) + 2.5,
                                    1.5 * (max(ys) - min(ys)) + 2.2))
    for node, (x, y) in pos.items():
        if node in produced:
            ax.text(x, y, produced[node], ha="center", va="center", fontsize=9, zorder=3,
                    bbox=dict(boxstyle="round,pad=0.4", fc="#e8eef7", ec="#34495e"))
        else:
            ax.text(x, y, node, ha="center", va="center", fontsize=10, zorder=3,
                    fontweight="bold")
    ax.text(*pos_loss, loss, ha="left", va="center", fontsize=11, fontweight="bold")
    edges = [(name, out) for out, _, inputs in ops for name in inputs] + [(last, None)]
    for name, reader in edges:
        src, dst = pos[name], (pos[reader] if reader else pos_loss)
        trim = (0.22 if name in produced else 0.1, 0.22 if reader else 0.08)
        dy = 0.05
        _arrow(ax, (src[0], src[1] + dy), (dst[0], dst[1] + dy), "#222222", "-",
               name if reader else "", trim)
        if name in constants:
            continue
        _arrow(ax, (dst[0], dst[1] - dy), (src[0], src[1] - dy), "#c0392b", "--",
               f"dL/d{name}" if reader else "1", trim[::-1])
    ax.set_xlim(min(xs) - 0.25, max(xs) + 0.1 + 0.06 * len(loss))
    ax.set_ylim(min(ys) - 0.45, max(ys) + 0.45)
    ax.axis("off")
    ax.set_title(f"{title}\nforward (black): each tensor into the operation that reads it; "
                 "backward (red, dashed): its gradient flowing back", fontsize=9)
    return fig
