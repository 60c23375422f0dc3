"""Lesson 15, exercise 3: tricks 1 and 2 backward, every weight gradient as one product.

Fill in ``weight_grads``, then grade it:  python lessons/15_fast_lstm.py --exercise 3
The lesson checks your dWx, dWh, db and dx against the sum over time steps of one product
each, then puts your function inside minseq.fast.LSTM and minseq.fast.GRU and checks their
gradients against the reference layers and central differences.
"""

from minseq.backend import xp


def weight_grads(module, x2, h2, dAx, dAh, x_bias, h_bias=None):
    """The weight gradients of a recurrent layer from all of its N = T B rows at once.

    module: the layer; read its weights from ``module.params`` and write the gradients into
    the arrays of ``module.grads`` (``module.grads["Wx"][...] = ...``: an optimiser holds
    those very arrays);
    x2 (N, D): the inputs x_t of every step, stacked; h2 (N, H): the previous states h_{t-1};
    dAx, dAh (N, G): dL/d(x_t Wx + bias) and dL/d(h_{t-1} Wh), the same array in the LSTM, two
    in the GRU; x_bias: the name of the bias added to the input side ("b"); h_bias: the name
    of a bias on the hidden side (the GRU's "bh"), or None.

    Writes dWx = x2^T dAx, dWh = h2^T dAh, d(x_bias) = the column sums of dAx (and
    d(h_bias) = those of dAh); returns dx2 = dAx Wx^T (N, D).
    """
    # YOUR CODE HERE: three (four) products or sums into module.grads, then dx2.
    for g in module.grads.values():
        g[...] = 0
    return xp.zeros_like(x2)
