"""Lesson 15, exercise 3, worked solution: every weight gradient as one product.

Grade it:  python lessons/15_fast_lstm.py --exercise 3 --solution
"""


def weight_grads(module, x2, h2, dAx, dAh, x_bias, h_bias=None):
    """Write dWx, dWh and the bias gradients of N = T B rows into module.grads; return dx2."""
    g = module.grads
    # sum_t x_t^T dA_t over T steps of B rows is ONE (D, N) x (N, G) product
    g["Wx"][...] = x2.T @ dAx
    g["Wh"][...] = h2.T @ dAh             # no recurrence in it: it leaves the loop
    g[x_bias][...] = dAx.sum(axis=0)      # the bias is added to every row
    if h_bias is not None:
        g[h_bias][...] = dAh.sum(axis=0)
    return dAx @ module.params["Wx"].T
