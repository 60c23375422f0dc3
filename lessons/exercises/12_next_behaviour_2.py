"""Lesson 12, exercise 2: the backward pass of the LSTM + attention classifier (H2).

Fill in ``lstm_attention_backward``, then grade it:
    python lessons/12_next_behaviour.py --exercise 2
The lesson makes your function the backward of its LSTMAttentionClassifier and checks every
gradient (embedding, LSTM, head) against central differences, then against the reference
backward's.
"""


def lstm_attention_backward(model, dlogits):
    """Backward through an LSTMAttentionClassifier after its forward(inputs, mask).

    The forward computed, with H = model's hidden size:
        hs, (h_n, _) = model.lstm(model.embed(inputs), mask=mask)   hs (B, T, H), h_n (B, H)
        q = h_n[:, None, :]                                         (B, 1, H)
        context = model.pool(q, hs, hs, mask)                       (B, 1, H): query q, keys
                                                                    and values both hs
        pooled = [context[:, 0], h_n]                               (B, 2H)
        logits = model.head(model.dropout(pooled))                  (B, C)
    and saved (H,) for the backward: ``(H,) = model.saved()``.

    The sub-modules' backward passes (each after its own forward):
        model.head.backward(dlogits) -> (B, 2H);  model.dropout.backward(d) -> (B, 2H)
        model.pool.backward(dcontext (B, 1, H)) -> (dq (B, 1, H), dk (B, T, H), dv (B, T, H))
        model.lstm.backward(dhs (B, T, H), (dh_n (B, H), None)) -> (dx, dh_0, dc_0)
        model.embed.backward(dx)      writes the embedding's gradient

    dlogits: dL/dlogits (B, C). Writes every parameter's gradient; returns None.
    """
    (H,) = model.saved()
    # YOUR CODE HERE: back through the head and dropout; split dpooled into the context's
    # half and h_n's half; back through the pooling. hs was both keys and values, and h_n was
    # the query and half of pooled: add up what reaches each, then the LSTM and the embedding.
    # The placeholder stops at the head: nothing reaches the LSTM or the embedding.
    model.head.backward(dlogits)
