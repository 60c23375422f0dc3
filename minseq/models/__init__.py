"""The behaviour models, each a Module with a hand-written backward composed from the layers,
trainable with minseq.train.Trainer (``loss(batch)`` / ``backward_loss()``). Models are trained
by the pipelines of minseq.tasks; they do not train themselves.

Next-behaviour classifiers: MLPCounts, LSTMClassifier, LSTMAttentionClassifier,
TransformerClassifier, and the counting baselines PopularClass and MarkovBehaviour (and
Recency, the churn baseline). Next-item
recommenders: GRU4Rec, SASRec, and the baselines Pop and Markov. ``registry.MODELS`` names each
one for the command line, its task and its default settings.
"""

from .baselines import Markov, Pop
from .behaviour_baselines import MarkovBehaviour, PopularClass, Recency
from .gru4rec import GRU4Rec
from .lstm_attention import LSTMAttentionClassifier
from .lstm_classifier import LSTMClassifier
from .mlp_counts import MLPCounts
from .sasrec import SASRec
from .transformer_classifier import TransformerClassifier

__all__ = ["MLPCounts", "LSTMClassifier", "LSTMAttentionClassifier", "TransformerClassifier",
           "PopularClass", "MarkovBehaviour", "Recency", "GRU4Rec", "SASRec", "Pop", "Markov"]
