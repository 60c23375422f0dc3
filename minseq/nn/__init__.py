"""Layers and the Module contract; every layer has a hand-written forward and backward."""

from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from .attention import ScaledDotProductAttention, causal_mask
from .dropout import Dropout
from .embedding import Embedding
from .graph import GraphConv, adjacency_from_edges, item_transition_graph
from .feedforward import FeedForward
from .layernorm import LayerNorm
from .linear import Linear
from .module import Module, Sequential
from .multihead import MultiHeadAttention
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from .transformer import TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "Module", "Sequential", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Dropout",
    "Embedding", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    "GraphConv", "adjacency_from_edges", "item_transition_graph",
    # attention and the Transformer
    "ScaledDotProductAttention", "causal_mask", "MultiHeadAttention", "LayerNorm",
    "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "FeedForward",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
]
