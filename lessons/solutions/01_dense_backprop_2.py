"""Lesson 01, exercise 2, worked solution: backpropagation through the two-layer net.

Grade it:  python lessons/01_dense_backprop.py --exercise 2 --solution
"""

from minseq.backend import xp


def two_layer_backward(d_xo, x, x_h, params):
    """(dL/dx, {"W1", "b1", "W2", "b2"}) from dL/dx^o and the forward's x and x^h."""
    y_h = xp.maximum(x_h, 0)
    # x^o = y^h W2 + b2: every user's row adds its outer product; b2 is shared, so summed
    dW2, db2 = y_h.T @ d_xo, d_xo.sum(axis=0)
    d_yh = d_xo @ params["W2"].T                     # (N, H): back through W2
    d_xh = d_yh * (x_h > 0)                          # ReLU passes gradient where it was on
    dW1, db1 = x.T @ d_xh, d_xh.sum(axis=0)
    return d_xh @ params["W1"].T, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
