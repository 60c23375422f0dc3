"""Layers and the Module contract; every layer has a hand-written forward and backward."""

from ..losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .embedding import Embedding
from .gru import GRU, GRUCell
from .linear import Linear
from .lstm import LSTM, LSTMCell
from .module import Module, Sequential
from .rnn import RNN, RNNCell

__all__ = [
    "Module", "Sequential", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Dropout",
    "Embedding", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    "RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU",
]
