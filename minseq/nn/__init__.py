"""Layers and the Module contract; every layer has a hand-written forward and backward."""

from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .embedding import Embedding
from .graph import GraphConv, adjacency_from_edges, item_transition_graph
from .linear import Linear
from .module import Module, Sequential

__all__ = [
    "Module", "Sequential", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Dropout",
    "Embedding", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    "GraphConv", "adjacency_from_edges", "item_transition_graph",
]
