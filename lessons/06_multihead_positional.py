"""Multi-head attention by hand, sinusoidal positional encoding, and erratum E9.

Run: python lessons/06_multihead_positional.py [--step] [--fast] [--backend cupy]
"""

import matplotlib.pyplot as plt
import numpy as np

import minseq
from minseq import backend, nn, optim
from minseq.backend import xp
from minseq.lesson import Lesson

from helpers import EVENTS, softmax

#: one user's events, from the shared vocabulary of lessons/helpers.py
SEQUENCE = ["browse", "click", "cart", "browse", "purchase"]


def dev(a):
    return backend.asarray(np.asarray(a, dtype=np.float64))


def main(argv=None):
    L = Lesson(__file__, "Multi-head attention and positional encoding", ids=["E6", "E7", "E9"],
               goals=["compute multi-head attention head by head, then all heads at once",
                      "build the sinusoidal positional encoding and read its heat map",
                      "see why attention alone ignores order, and how PE fixes it",
                      "spot erratum E9: heads are concatenated, not time steps"],
               argv=argv)
    rng = np.random.default_rng(1)
    T, d, h = len(SEQUENCE), 4, 2
    dk = d // h
    X = np.round(rng.normal(size=(T, d)), 2)
    mha = nn.MultiHeadAttention(d, h).astype("float64")
    for name in ("bq", "bv", "bo"):
        mha.params[name][...] = dev(np.round(rng.normal(size=d) * 0.1, 2))
    p = mha.params
    Xd = dev(X)

    with L.step("E6 head by head",
                formula="head_i = Attention(x W_Q^i, x W_K^i, x W_V^i)   (W^i: columns "
                        "i*d_k .. (i+1)*d_k)\nMultiHead(x) = Concat(head_1, ..., head_h) W_O"):
        L.show("X (events x d_model)", Xd)
        heads = []
        for i in range(h):
            cols = slice(i * dk, (i + 1) * dk)
            Q = Xd @ p["Wq"][:, cols] + p["bq"][cols]
            K = Xd @ p["Wk"][:, cols] + p["bk"][cols]
            V = Xd @ p["Wv"][:, cols] + p["bv"][cols]
            A = softmax(Q @ K.T / dk ** 0.5)
            heads.append(A @ V)
            if i == 0:
                print(f"    X {tuple(Xd.shape)} @ W_Q^i {tuple(p['Wq'][:, cols].shape)} -> Q, K, V "
                      f"{tuple(Q.shape)};  Q K^T -> weights {tuple(A.shape)};  weights V -> "
                      f"head {tuple(heads[0].shape)}")
            L.show(f"head {i + 1} weights", A)
        concat = xp.concatenate(heads, axis=1)
        print(f"    Concat of {h} heads {tuple(heads[0].shape)} -> {tuple(concat.shape)};  "
              f"@ W_O {tuple(p['Wo'].shape)} -> {tuple(concat.shape)}")
        L.show("Concat(head_1, head_2)  (T x d_model)", concat)
        y = concat @ p["Wo"] + p["bo"]
        out = mha(Xd[None])
        L.check_close("nn.MultiHeadAttention gives the same output", out[0], y)

    with L.step("All heads in one batched product",
                formula="(B, T, d_model) -> reshape (B, T, h, d_k) -> swap -> (B, h, T, d_k)\n"
                        "scores (B, h, T, T) = Q @ K^T: one matmul for every head and sequence"):
        Qall = (Xd @ p["Wq"] + p["bq"]).reshape(T, h, dk).swapaxes(0, 1)  # (h, T, d_k)
        print(f"    Q: {(T, d)} -> {tuple(Qall.shape)}; scores: {(h, T, T)}; no loop over heads")
        L.check_close("head 2's queries are columns 2..3 of X W_Q",
                      Qall[1], Xd @ p["Wq"][:, 2:] + p["bq"][2:])
        x_dev = dev(X[None])
        L.say("Every weight and bias (W_Q, W_K, W_V, W_O and their biases; bk's gradient is "
              "0 by design: it shifts a whole row of scores) and the input, numerically:")
        L.check_gradients(mha, x_dev)

    with L.step("Two heads trained until they specialise",
                formula="x_t = one-hot(event_t) (4 of d_model = 8 dims) + PE[t], causal mask\n"
                        "target_t = [one-hot(event_{t-1}), one-hot(event_1)]: "
                        "the previous event and the first one\n"
                        "MultiHeadAttention(8, 2), MSE, Adam: one head can fetch each half"):
        minseq.manual_seed(0)
        d2, T2, V = 8, 6, len(EVENTS)
        trained = nn.MultiHeadAttention(d2, h).astype(xp.float64)
        pe2 = nn.SinusoidalPositionalEncoding(d2, max_len=T2)
        opt, mask = optim.Adam(trained, lr=0.02), nn.causal_mask(T2)
        task_rng = np.random.default_rng(3)

        def batch(B):
            ev = task_rng.integers(0, V, size=(B, T2))
            rows, cols = np.arange(B)[:, None], np.arange(T2)[None]
            x, y = np.zeros((B, T2, d2)), np.zeros((B, T2, d2))
            x[rows, cols, ev] = 1.0
            y[rows, cols, np.concatenate([ev[:, :1], ev[:, :-1]], 1)] = 1.0
            y[rows, cols, V + ev[:, :1]] = 1.0
            return pe2(dev(x)), dev(y), ev

        steps = 200 if L.fast else 400
        for step in range(steps + 1):
            x, y, _ = batch(32)
            diff = trained(x, mask=mask) - y
            trained.backward(2 * diff / diff.size)
            opt.step()
            if step % (steps // 2) == 0:
                L.say(f"step {step}: MSE {float((diff ** 2).mean()):.4f}")
        x, y, ev = batch(200)
        trained(x, mask=mask)
        W = trained.weights                                          # (B, h, T, T)
        t = xp.arange(2, T2)                                         # queries t >= 3
        on_prev = W[:, :, t, t - 1].mean(axis=(0, 2))                # (h,): key t - 1
        on_first = W[:, :, t, 0].mean(axis=(0, 2))                   # (h,): key 0
        for i in range(h):
            print(f"    head {i + 1}: mean weight on the previous event {float(on_prev[i]):.2f}, "
                  f"on the first event {float(on_first[i]):.2f}   (queries t >= 3)")
        L.check("the heads specialise: one attends mostly to the previous event, the other "
                "to the first", float(on_prev.max()) > 0.5 and float(on_first.max()) > 0.5
                and int(on_prev.argmax()) != int(on_first.argmax()))
        fig, axes = plt.subplots(1, h, figsize=(4 * h, 3.6))
        labels = [EVENTS[int(e)] for e in ev[0]]
        for i, ax in enumerate(axes):
            im = ax.imshow(backend.to_numpy(W[0, i]), cmap="viridis", vmin=0, vmax=1)
            ax.set(title=f"head {i + 1}", xlabel="key (event)", ylabel="query (event)",
                   xticks=range(T2), yticks=range(T2))
            ax.set_xticklabels(labels, rotation=45)
            ax.set_yticklabels(labels)
        fig.colorbar(im, ax=axes[-1], label="weight")
        fig.suptitle("Trained heads specialise: the previous event, the first event")
        L.savefig(fig, "heads")

    with L.step("Attention alone ignores order",
                formula="MHA(P x) = P MHA(x) for any permutation P of the time steps"):
        perm = backend.asarray([4, 2, 0, 3, 1])
        a = mha(dev(X[None]))[0]
        b = mha(dev(X)[perm][None])[0]
        L.check_close("shuffling the events shuffles the outputs the same way", b, a[perm])
        L.say("'cart then purchase' and 'purchase then cart' look alike to attention: position "
              "information must be added to the inputs.")

    with L.step("E7: sinusoidal positional encoding",
                formula="PE[pos, 2i] = sin(pos / 10000^(2i/d)),  PE[pos, 2i+1] = cos(pos / "
                        "10000^(2i/d))"):
        pe_layer = nn.SinusoidalPositionalEncoding(d, max_len=50)
        angle = xp.arange(T)[:, None] / 10000 ** (xp.arange(0, d, 2) / d)   # (T, d/2)
        by_hand = xp.stack([xp.sin(angle), xp.cos(angle)], axis=-1).reshape(T, d)
        print(f"    angles {tuple(angle.shape)} -> sin, cos interleaved -> PE {tuple(by_hand.shape)}")
        L.show("PE[:5] by hand", by_hand)
        L.check_close("nn.SinusoidalPositionalEncoding adds the same table",
                      pe_layer(xp.zeros((1, T, d)))[0], by_hand, atol=1e-12)
        L.check_gradients(pe_layer, dev(X[None]))
        a = mha(pe_layer(dev(X[None])))[0]
        b = mha(pe_layer(dev(X)[perm][None]))[0]
        L.check("with PE added, shuffling the events changes the outputs",
                not bool(xp.allclose(b, a[perm], atol=1e-6)),
                f"max change {float(xp.abs(b - a[perm]).max()):.3f}")
        big = nn.SinusoidalPositionalEncoding(64, max_len=100).pe
        p = xp.arange(0, 90, 10)
        dots = (big[p] * big[p + 5]).sum(axis=1)                     # PE[p] . PE[p+5]
        L.show("PE[p] . PE[p+5] for p = 0, 10, ..., 80", dots)
        L.check("PE[p] . PE[p+k] depends on the offset k only",
                float(dots.max() - dots.min()) < 1e-9)
        fig, ax = plt.subplots(figsize=(7, 4))
        im = ax.imshow(backend.to_numpy(big), aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set(xlabel="dimension (even: sin, odd: cos)", ylabel="position",
               title="Sinusoidal positional encoding (d_model = 64)")
        fig.colorbar(im, ax=ax, label="PE value")
        L.savefig(fig, "positional_encoding")

    with L.step("E9 erratum: concatenate heads, not time steps"):
        L.erratum("E9",
                  literal="Encoder(x) = MultiHeadAttention(x) = Concat(h_1 ... h_T)",
                  standard="MultiHead(x) = Concat(head_1 ... head_h) W_O at every step; an "
                           "encoder layer adds feed-forward, residuals and LayerNorm (lesson 07)",
                  demo="Concatenating the T time steps gives one vector of length T * d whose "
                       "size changes with the sequence length, so no fixed weight matrix can "
                       "follow it; multi-head concatenates the h heads' d_k-vectors per step, "
                       "giving (T, d_model) for any T.",
                  source="document 004 section 4.3")
        L.erratum("E9",
                  literal="Decoder(x) = MultiHeadAttention(x) = Concat(h_1, h_2, ..., h_T)",
                  standard="a decoder layer: masked self-attention, cross-attention to the "
                           "encoder's output, feed-forward, each with residual and LayerNorm "
                           "(nn.TransformerDecoderLayer, lesson 07)",
                  demo="the same time-step concatenation, and the formula makes the decoder "
                       "identical to the encoder: no causal mask and no encoder input.",
                  source="document 004 section 4.3, repeated for the decoder just below the "
                         "encoder's formula")
        for T2 in (3, 5):
            x2 = dev(rng.normal(size=(1, T2, d)))
            literal = xp.concatenate([x2[0, t] for t in range(T2)])   # h_1 ... h_T side by side
            standard = mha(x2)
            print(f"    T = {T2}: literal Concat(h_1..h_T) has shape {tuple(literal.shape)}; "
                  f"MultiHeadAttention output {tuple(standard.shape[1:])}")
        L.check("the standard output keeps (T, d_model) for every T",
                mha(dev(rng.normal(size=(1, 7, d)))).shape == (1, 7, d))

    return L.finish(
        summary=["Multi-head attention splits d_model into h slices, runs attention on each "
                 "slice in parallel and concatenates the heads before W_O.",
                 "All heads and sequences go through one batched matmul over a (B, h, T, d_k) "
                 "layout; no loop over heads.",
                 "Attention is permutation-equivariant; the sinusoidal table adds position, and "
                 "PE[p] . PE[p+k] depends only on the offset k.",
                 "E9: heads are concatenated at each time step, never the time steps."],
        exercises=["With h = 4 heads and d_model = 4, each head has d_k = 1. What can a head with "
                   "d_k = 1 still express? Print its weights.",
                   "Replace the sinusoids by nn.LearnedPositionalEmbedding. Is PE[p] . PE[p+k] "
                   "still a function of k alone? Why not?",
                   "Prove that PE[p+k] is a rotation of PE[p] (pair by pair) and deduce the "
                   "offset property checked above."])


if __name__ == "__main__":
    raise SystemExit(main())
