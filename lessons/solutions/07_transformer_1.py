"""Lesson 07, exercise 1, worked solution: LayerNorm's backward.

Grade it:  python lessons/07_transformer.py --exercise 1 --solution
"""


def layer_norm_backward(dy, xhat, std, gamma):
    """(dx, dgamma, dbeta) from dy and the forward's xhat (..., d), std (..., 1) and gamma."""
    d = gamma.shape[0]
    # gamma and beta serve every row: their gradients add up over all the leading axes
    dgamma = (dy * xhat).reshape(-1, d).sum(axis=0)
    dbeta = dy.reshape(-1, d).sum(axis=0)
    dxhat = dy * gamma
    # xhat depends on x directly and through mu and the variance of its own row: the two
    # means subtract the directions that shift or scale the whole row, which xhat ignores
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) / std
    return dx, dgamma, dbeta
