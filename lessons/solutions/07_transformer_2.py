"""Lesson 07, exercise 2, worked solution: the encoder layer's forward.

Grade it:  python lessons/07_transformer.py --exercise 2 --solution
"""


def encoder_layer_forward(layer, x, mask=None):
    """y (B, T, d_model) of ``layer`` at x: post-LN, or pre-LN when ``layer.norm_first``."""
    def ff(h):                           # the same network at every position
        return layer.linear2(layer.dropout(layer.activation(layer.linear1(h))))

    if layer.norm_first:
        # normalise what each sub-layer reads; the residual stream x -> h -> y stays un-normalised
        h = x + layer.dropout1(layer.self_attn(layer.norm1(x), mask=mask))
        return h + layer.dropout2(ff(layer.norm2(h)))
    # post-LN: normalise the sum of the skip path and the sub-layer
    h = layer.norm1(x + layer.dropout1(layer.self_attn(x, mask=mask)))
    return layer.norm2(h + layer.dropout2(ff(h)))
