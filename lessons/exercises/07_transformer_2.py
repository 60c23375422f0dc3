"""Lesson 07, exercise 2: the encoder layer's forward from its sub-layers (E8).

Fill in ``encoder_layer_forward``, then grade it:  python lessons/07_transformer.py --exercise 2
The lesson runs your function as minseq's TransformerEncoderLayer.forward and checks y against
the lesson's post-LN and pre-LN steps and against the layer itself, with dropout (the same
masks) and with a causal mask; once y is right, it checks every gradient of the layer's own
backward, which runs in reverse the sub-layers your forward called, against central differences.
"""


def encoder_layer_forward(layer, x, mask=None):
    """One encoder layer, from ``layer``'s sub-modules (call them: each one caches what its
    backward needs):

        post-LN (layer.norm_first False):  h = norm1(x + dropout1(self_attn(x, mask=mask)))
                                           y = norm2(h + dropout2(ff(h)))
        pre-LN  (layer.norm_first True):   h = x + dropout1(self_attn(norm1(x), mask=mask))
                                           y = h + dropout2(ff(norm2(h)))

    with ff(h) = linear2(dropout(activation(linear1(h)))). Sub-modules: layer.self_attn,
    layer.linear1, layer.activation, layer.dropout, layer.linear2, layer.norm1, layer.norm2,
    layer.dropout1, layer.dropout2.

    x (B, T, d_model); mask None or boolean, True = may attend. Returns y (B, T, d_model).
    """
    # YOUR CODE HERE: the feed-forward network first, then the two residual sub-layers, in the
    # order layer.norm_first asks for.
    return x
