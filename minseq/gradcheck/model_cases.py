"""The gradient-check cases of the models (minseq.models): the next-behaviour classifiers
and the next-item recommenders, each on a tiny fixed-seed batch. Their inputs are integer ids,
so only the parameters are checked.
"""

from .. import backend, nn
from ..backend import xp
from ..models import (GRU4Rec, LSTMAttentionClassifier, LSTMClassifier, MLPCounts, SASRec,
                      TransformerClassifier)
from .cases import BLOCK_TOL, fixed_weights, randint, registrar

CASES = {}
case = registrar(CASES)


# -- next-behaviour classifiers (catalogue H1-H4) ---------------------------------------------

def _classifier_case(model):
    """Fixed-seed weights and dropout streams in every sub-module (independent of case order),
    padding rows of embeddings zero; a batch of 3 windows of 5 events with padding in front
    and behind, and one window of a single event. Ids are integers: only parameters are checked."""
    for k, (_, sub) in enumerate(model.named_modules()):
        fixed_weights(sub)
        if isinstance(sub, nn.Embedding):
            sub.params["W"][sub.padding_idx] = 0
        if isinstance(sub, nn.Dropout):
            sub.seed = 100 + k
            sub.reset_rng()
    mask = xp.ones((3, 5), dtype=bool)
    mask[1, :2] = False
    mask[2, 1:] = False
    behaviour = randint(model.n_behaviours, 3, 5, seed=4) + 1
    inputs = behaviour
    if model.n_categories:
        inputs = xp.stack([behaviour, randint(model.n_categories, 3, 5, seed=5) + 1], axis=-1)
    return model, (inputs * (mask if inputs.ndim == 2 else mask[..., None]),), {"mask": mask}


@case("MLPCounts")
def _mlp_counts():
    return _classifier_case(MLPCounts(5, 5, d_model=6, dropout=0.2, n_categories=3))


@case("LSTMClassifier 2 layers")
def _lstm_classifier():
    return _classifier_case(LSTMClassifier(5, 5, d_model=4, embed_dim=3, num_layers=2,
                                           dropout=0.2))


@case("LSTMClassifier categories binary")
def _lstm_classifier_binary():
    return _classifier_case(LSTMClassifier(5, 1, d_model=4, embed_dim=3, n_categories=3))


@case("LSTMAttentionClassifier")
def _lstm_attention_classifier():
    return _classifier_case(LSTMAttentionClassifier(5, 5, d_model=4, embed_dim=3, dropout=0.2))


@case("TransformerClassifier", tol=BLOCK_TOL)  # whole pre-LN blocks and a final LayerNorm
def _transformer_classifier():
    return _classifier_case(TransformerClassifier(5, 5, d_model=4, num_heads=2, num_layers=2,
                                                  maxlen=6, dropout=0.1, n_categories=3))


# -- next-item recommenders (minseq.models): scores of given candidates, whose gradient
# reaches the shared item table through both the input lookup and the scoring ----------------
def _next_item_case(make):
    model = make()
    seq = backend.asarray([[0, 0, 3, 1, 2], [4, 2, 2, 1, 3]])          # left-padded (B, T)
    cand = backend.asarray([[[1, 3], [2, 5], [4, 1], [3, 2], [5, 4]],
                            [[2, 1], [1, 4], [3, 5], [5, 2], [1, 3]]])  # (B, T, C) item ids
    return model, (seq, cand), {}


@case("GRU4Rec")
def _gru4rec():
    return _next_item_case(lambda: GRU4Rec(5, d_model=4, dropout=0.2))


@case("SASRec", tol=BLOCK_TOL)  # two whole pre-LN blocks and a final LayerNorm
def _sasrec():
    return _next_item_case(lambda: SASRec(5, maxlen=5, d_model=4, num_layers=2, num_heads=2,
                                          dropout=0.2))
