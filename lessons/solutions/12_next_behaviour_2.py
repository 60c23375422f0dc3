"""Lesson 12, exercise 2, worked solution: H2's backward pass.

Grade it:  python lessons/12_next_behaviour.py --exercise 2 --solution
"""


def lstm_attention_backward(model, dlogits):
    """Every gradient of an LSTMAttentionClassifier from dL/dlogits (B, C); returns None."""
    (H,) = model.saved()
    dpooled = model.dropout.backward(model.head.backward(dlogits))   # (B, 2H)
    dcontext, dh_head = dpooled[:, :H], dpooled[:, H:]               # pooled = [context, h_n]
    dq, dk, dv = model.pool.backward(dcontext[:, None, :])          # (B,1,H), (B,T,H) x 2
    dhs = dk + dv                      # every state served as a key AND as a value
    dh_n = dq[:, 0] + dh_head          # h_n was the query and half of what the head read
    dx, _, _ = model.lstm.backward(dhs, (dh_n, None))                # (B, T, E)
    model.embed.backward(dx)
