"""Layers and the Module contract; every layer has a hand-written forward and backward."""

from .activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from .attention import ScaledDotProductAttention, causal_mask
from .dropout import Dropout
from .embedding import Embedding
from .feedforward import FeedForward
from .graph import GraphConv, adjacency_from_edges, item_transition_graph
from .gru import GRU, GRUCell
from .item_losses import CatalogueSoftmaxLoss, GBCELoss, SampledSoftmaxLoss, gbce_beta
from .layernorm import LayerNorm
from .linear import Linear
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .lstm import LSTM, LSTMCell
from .module import Module, Sequential
from .multihead import MultiHeadAttention
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from .rnn import RNN, RNNCell
from .transformer import TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer

__all__ = [
    # the contract, dense layers, activations, losses
    "Module", "Sequential", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Dropout",
    "Embedding", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    # the next-item losses
    "GBCELoss", "SampledSoftmaxLoss", "CatalogueSoftmaxLoss", "gbce_beta",
    # recurrent layers
    "RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU",
    # attention and the Transformer
    "ScaledDotProductAttention", "causal_mask", "MultiHeadAttention", "LayerNorm",
    "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "FeedForward",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    # graph message passing
    "GraphConv", "adjacency_from_edges", "item_transition_graph",
]
