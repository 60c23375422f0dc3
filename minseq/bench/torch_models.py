"""The PyTorch counterparts of minseq's whole trained models, carrying the very same weights:
the LSTM classifier, GRU4Rec and SASRec, each with its training loss (the yardstick's side of
``benchmarks/data_parallel.py``).

    net = torch_model(model)                 # model: a minseq LSTMClassifier, GRU4Rec, SASRec
    loss = net.loss(batch)                   # batch: minseq's training batch, as tensors
    loss.backward()

``batch`` is what ``minseq train`` feeds the model: (inputs, targets, mask) of
``minseq.data.Batches`` (and SASRec's negatives (B, T) or (B, T, K) as a fourth, optional),
left-padded. Each module of the counterpart has the name and the parameters that
``minseq.interop.torch_state_dict`` gives its minseq twin (a layer's dotted path; PyTorch's
layouts), so one ``load_state_dict`` of that dict copies every weight. The same function, with
five differences of form, none of value:

- Recurrences: minseq runs every step and carries the state through the padded ones; the
  counterpart moves each row's real steps to the front (in order) and runs them alone, as
  packed sequences, PyTorch's way to the same states. GRU4Rec's outputs and targets stay in
  that order; its loss is a mean over the real positions, which the order does not change.
- SASRec's loss gathers the real positions (targets > 0) first and draws negatives and
  scores for those alone: the mean over them is the loss, which padding has no part in.
- LSTM: minseq's one bias b is ``bias_ih_l0``; ``bias_hh_l0`` stays 0 and is not trained
  (``requires_grad`` False), so both sides train the same parameters.
- SASRec's attention: a query whose every key is masked (a padded position) gets a zero
  output in minseq and NaN from PyTorch's softmax; here such a query attends to itself. No
  real query attends to a padded key, and the loss reads real positions only, so the loss and
  every gradient are the same. minseq's attention has no dropout of its weights: each layer's
  ``self_attn.dropout`` is 0.
- Random draws (dropout masks, sampled negatives) come from PyTorch's generator: the same
  distributions, not the same draws (compare with dropout 0 and the negatives given).

PyTorch is needed to import this module; nothing in minseq imports it, only the benchmark's
PyTorch process and the parity tests do.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..backend import to_numpy
from ..interop import torch_state_dict
from ..models.gru4rec import GRU4Rec as MinseqGRU4Rec
from ..models.lstm_classifier import LSTMClassifier as MinseqLSTMClassifier
from ..models.sasrec import SASRec as MinseqSASRec


def real_first(mask):
    """(B, T) int64: each row's real positions (mask True) in order, then its padded ones: the
    index that moves the real steps of a row to its front."""
    return torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices


def packed(x, mask):
    """The real steps of x (B, T, ...) as a PackedSequence, each row's from its first
    (every row needs one), and the index ``real_first(mask)`` used."""
    order = real_first(mask)
    index = order.reshape(order.shape + (1,) * (x.dim() - 2)).expand_as(x)
    lengths = mask.sum(dim=1).cpu()
    return pack_padded_sequence(x.gather(1, index), lengths, batch_first=True,
                                enforce_sorted=False), order


class TokenEmbedding(nn.Module):
    """x = E_beh[behaviour] (+ E_cat[category]), as minseq.models.classifier.TokenEmbedding."""

    def __init__(self, n_behaviours, dim, n_categories=0):
        super().__init__()
        self.behaviour = nn.Embedding(n_behaviours + 1, dim, padding_idx=0)
        self.category = nn.Embedding(n_categories + 1, dim, padding_idx=0) \
            if n_categories else None

    def forward(self, inputs):
        if inputs.dim() == 3:
            return self.behaviour(inputs[..., 0]) + self.category(inputs[..., 1])
        return self.behaviour(inputs)


class LSTMClassifier(nn.Module):
    """minseq.models.LSTMClassifier: LSTMs over the window, the head on the state after the
    last real event; cross-entropy (n_classes > 1) or BCE with logits (n_classes 1)."""

    def __init__(self, n_behaviours, n_classes, d_model, embed_dim, num_layers, dropout,
                 n_categories=0):
        super().__init__()
        self.n_classes = n_classes
        self.embed = TokenEmbedding(n_behaviours, embed_dim, n_categories)
        self.lstms = nn.ModuleList([nn.LSTM(embed_dim if k == 0 else d_model, d_model,
                                            batch_first=True) for k in range(num_layers)])
        for lstm in self.lstms:
            lstm.bias_hh_l0.requires_grad_(False)
        self.dropouts = nn.ModuleList([nn.Dropout(dropout) for _ in range(num_layers)])
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, inputs, mask):
        x, _ = packed(self.embed(inputs), mask)
        for lstm, drop in zip(self.lstms[:-1], self.dropouts[:-1]):
            hs, _ = lstm(x)
            x = hs._replace(data=drop(hs.data))
        _, (h_n, _) = self.lstms[-1](x)                 # (1, B, H), in the batch's order
        return self.head(self.dropouts[-1](h_n[0]))

    def loss(self, batch):
        inputs, targets, mask = batch[:3]
        logits = self.forward(inputs, mask)
        if self.n_classes == 1:
            return F.binary_cross_entropy_with_logits(logits, targets.reshape(-1, 1)
                                                      .to(logits.dtype))
        return F.cross_entropy(logits, targets)


class GRU4Rec(nn.Module):
    """minseq.models.GRU4Rec: a GRU over the history, scored against the item table; the
    cross-entropy of the next item over every item, or the sampled one of ``n_sampled``."""

    def __init__(self, n_items, d_model, dropout, n_sampled=None):
        super().__init__()
        self.n_items, self.n_sampled = n_items, n_sampled
        self.item_emb = nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.emb_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(d_model, d_model, batch_first=True)
        self.out_dropout = nn.Dropout(dropout)

    def loss(self, batch):
        inputs, targets = batch[0], batch[1]
        x, order = packed(self.emb_dropout(self.item_emb(inputs)), inputs != 0)
        hs, _ = pad_packed_sequence(self.gru(x)[0], batch_first=True,
                                    total_length=inputs.shape[1])
        h = self.out_dropout(hs)                                        # (B, T, d), real first
        targets = targets.gather(1, order)
        real = targets > 0                                              # scored there alone
        h, y, E = h[real], targets[real], self.item_emb.weight          # (n, d), (n,)
        if self.n_sampled is None or self.n_sampled >= self.n_items:
            return F.cross_entropy(h @ E[1:].T, y - 1)
        drawn = torch.randint(1, self.n_items + 1, (self.n_sampled,))
        items = torch.sort(torch.cat([y, drawn])).values
        repeat = torch.cat([torch.zeros(1, dtype=torch.bool), items[1:] == items[:-1]])
        scores = (h @ E[items].T).masked_fill(repeat, -1e30)
        return F.cross_entropy(scores, torch.searchsorted(items, y))


class PositionalEmbedding(nn.Module):
    """y = x + W[:T], as minseq.nn.LearnedPositionalEmbedding (parameter ``W``)."""

    def __init__(self, max_len, d_model):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(max_len, d_model))

    def forward(self, x):
        return x + self.W[:x.shape[1]]


class SASRec(nn.Module):
    """minseq.models.SASRec: pre-LN causal self-attention over the history; the loss of
    ``loss`` ("bce" with ``beta`` 1, "gbce", "sampled-ce" over ``n_negatives`` per position, or
    "ce" over the catalogue) on the real positions."""

    def __init__(self, n_items, maxlen, d_model, num_layers, num_heads, dropout, loss="bce",
                 n_negatives=1, beta=1.0):
        super().__init__()
        self.n_items, self.d_model, self.num_heads = n_items, d_model, num_heads
        self.loss_name, self.n_negatives, self.beta = loss, n_negatives, beta
        self.item_emb = nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.pos_emb = PositionalEmbedding(maxlen, d_model)
        self.emb_dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, num_heads, dim_feedforward=d_model,
                                           dropout=dropout, norm_first=True, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model, 1e-8),
                                             enable_nested_tensor=False)
        for block in self.encoder.layers:
            block.self_attn.dropout = 0.0

    def encode(self, seq):
        T = seq.shape[1]
        x = self.emb_dropout(self.pos_emb(self.item_emb(seq) * math.sqrt(self.d_model)))
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        allowed = causal & (seq != 0)[:, None, :] | torch.eye(T, dtype=torch.bool)
        # PyTorch's boolean mask is True where a query may NOT attend, one (T, T) per head
        return self.encoder(x, mask=(~allowed).repeat_interleave(self.num_heads, dim=0))

    def negatives(self, targets):
        """``n_negatives`` uniform items per target, the positive skipped (targets.shape +
        (K,))."""
        k = torch.randint(1, self.n_items, targets.shape + (self.n_negatives,))
        return k + (k >= targets[..., None])

    def loss(self, batch):
        """The loss over the real positions (targets > 0), gathered first: neither the
        negatives nor the scores are spent on padding."""
        inputs, targets = batch[0], batch[1]
        rows = (targets > 0).reshape(-1).nonzero()[:, 0]               # (n,)
        h = self.encode(inputs).reshape(-1, self.d_model)[rows]        # (n, d)
        y = targets.reshape(-1)[rows]                                   # (n,)
        n = max(len(rows), 1)
        E = self.item_emb.weight
        if self.loss_name == "ce":
            return F.cross_entropy(h @ E[1:].T, y - 1, reduction="sum") / n
        neg = self.negatives(y) if len(batch) < 4 else batch[3].reshape(targets.numel(), -1)[rows]
        candidates = torch.cat([y[:, None], neg], dim=-1)              # (n, 1 + K)
        scores = (E[candidates] * h[:, None, :]).sum(dim=-1)
        if self.loss_name == "sampled-ce":
            return -torch.log_softmax(scores, dim=-1)[:, 0].sum() / n
        per_position = (self.beta * F.softplus(-scores[:, 0])
                        + F.softplus(scores[:, 1:]).sum(dim=-1))
        return per_position.sum() / n


def _lstm_classifier(model):
    embed = model.embed.behaviour.params["W"].shape[1]
    return LSTMClassifier(model.n_behaviours, model.n_classes, model.lstms[0].hidden_size,
                          embed, len(model.lstms), model.dropouts[0].p, model.n_categories)


def _gru4rec(model):
    return GRU4Rec(model.n_items, model.d_model, model.emb_dropout.p, model.n_sampled)


def _sasrec(model):
    return SASRec(model.n_items, model.maxlen, model.d_model, model.num_layers, model.num_heads,
                  model.dropout_p, model.loss_name, model.n_negatives,
                  getattr(model.criterion, "beta", 1.0))


_BUILDERS = {MinseqLSTMClassifier: _lstm_classifier, MinseqGRU4Rec: _gru4rec,
             MinseqSASRec: _sasrec}


def torch_model(model):
    """The PyTorch counterpart of the minseq ``model`` (an LSTMClassifier, GRU4Rec or SASRec,
    either tier), in its float type, with its weights."""
    build = next((b for cls, b in _BUILDERS.items() if isinstance(model, cls)), None)
    if build is None:
        raise TypeError(f"torch_model: no PyTorch counterpart of {type(model).__name__} "
                        f"(known: {', '.join(cls.__name__ for cls in _BUILDERS)})")
    state = torch_state_dict(model)
    net = build(model).to(getattr(torch, str(next(iter(state.values())).dtype)))
    net.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in state.items()})
    return net
