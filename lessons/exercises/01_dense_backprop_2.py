"""Lesson 01, exercise 2: backpropagation through the lesson's two-layer net (A4, on a batch).

Fill in ``two_layer_backward``, then grade it:  python lessons/01_dense_backprop.py --exercise 2
The lesson runs the net forward on six users, hands your function dL/dx^o from the
cross-entropy, and checks every gradient you return against minseq's backward, layer by
layer, and against the numerical gradient of the loss.
"""

from minseq.backend import xp


def two_layer_backward(d_xo, x, x_h, params):
    """Backward through x^h = x W1 + b1, y^h = ReLU(x^h), x^o = y^h W2 + b2 (rows: one user
    each; minseq's W is (in, out), the document's W transposed).

    d_xo: (N, C) = dL/dx^o; x: (N, D) the inputs; x_h: (N, H) the hidden pre-activation x^h;
    params: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    Returns (dx, grads): dx = dL/dx (N, D) and grads = {"W1": dW1, "b1": db1, "W2": dW2,
    "b2": db2}, each the shape of its parameter (the bias gradients summed over the batch).
    """
    # YOUR CODE HERE: y^h from x^h; dW2 = y^h^T dL/dx^o, db2; dL/dy^h = dL/dx^o W2^T;
    # dL/dx^h through ReLU's mask [x^h > 0]; dW1 = x^T dL/dx^h, db1; dx = dL/dx^h W1^T.
    dx = xp.zeros_like(x)
    grads = {name: xp.zeros_like(value) for name, value in params.items()}
    return dx, grads
