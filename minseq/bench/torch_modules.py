"""The PyTorch counterparts of minseq layers, carrying the very same weights (the yardstick's
side).

Every minseq layer documents how its parameters map to PyTorch's: weights are stored
transposed ((in, out) here, (out, in) there) and LSTM's single bias b stands for
bias_ih + bias_hh. ``torch_counterpart(torch, module, device)`` builds the PyTorch module of the
same function and copies the weights over, so both sides compute the same numbers.
"""

import numpy

from .. import nn
from ..backend import to_numpy


def _tensor(torch, a, device, transpose=False):
    a = to_numpy(a)
    return torch.from_numpy(numpy.ascontiguousarray(a.T if transpose else a)).to(device)


def _copy(torch, target, source, device, transpose=False):
    with torch.no_grad():
        target.copy_(_tensor(torch, source, device, transpose))


def _linear(torch, m, device):
    ref = torch.nn.Linear(m.in_features, m.out_features, bias="b" in m.params)
    _copy(torch, ref.weight, m.params["W"], device, transpose=True)
    if "b" in m.params:
        _copy(torch, ref.bias, m.params["b"], device)
    return ref


def _recurrent(torch, m, device):
    kind = type(m).__name__
    ref = getattr(torch.nn, kind)(m.input_size, m.hidden_size, batch_first=True)
    p = m.params
    _copy(torch, ref.weight_ih_l0, p["Wx"], device, transpose=True)
    _copy(torch, ref.weight_hh_l0, p["Wh"], device, transpose=True)
    _copy(torch, ref.bias_ih_l0, p.get("bx", p.get("b")), device)
    # GRU keeps PyTorch's two biases; RNN and LSTM fold them into one b, so bias_hh is zero
    _copy(torch, ref.bias_hh_l0, p["bh"] if "bh" in p else 0 * to_numpy(p["Wx"][0]), device)
    return ref


def _multihead(torch, m, device, ref=None):
    ref = ref or torch.nn.MultiheadAttention(m.d_model, m.num_heads, batch_first=True)
    p = {k: to_numpy(v) for k, v in m.params.items()}
    _copy(torch, ref.in_proj_weight, numpy.concatenate([p["Wq"].T, p["Wk"].T, p["Wv"].T]), device)
    _copy(torch, ref.in_proj_bias, numpy.concatenate([p["bq"], p["bk"], p["bv"]]), device)
    _copy(torch, ref.out_proj.weight, p["Wo"], device, transpose=True)
    _copy(torch, ref.out_proj.bias, p["bo"], device)
    return ref


def _encoder_layer(torch, m, device):
    ref = torch.nn.TransformerEncoderLayer(
        m.d_model, m.self_attn.num_heads, dim_feedforward=m.linear1.out_features,
        dropout=m.dropout.p, activation=type(m.activation).__name__.lower(),
        norm_first=m.norm_first, batch_first=True)
    _multihead(torch, m.self_attn, device, ref.self_attn)
    for name in ("linear1", "linear2"):
        mine, theirs = getattr(m, name), getattr(ref, name)
        _copy(torch, theirs.weight, mine.params["W"], device, transpose=True)
        _copy(torch, theirs.bias, mine.params["b"], device)
    for name in ("norm1", "norm2"):
        _copy(torch, getattr(ref, name).weight, getattr(m, name).params["gamma"], device)
        _copy(torch, getattr(ref, name).bias, getattr(m, name).params["beta"], device)
    return ref


def _sequential(torch, m, device):
    return torch.nn.Sequential(*(torch_counterpart(torch, layer, device) for layer in m))


_ACTIVATIONS = {nn.ReLU: "ReLU", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid"}


def torch_counterpart(torch, module, device="cpu"):
    """The PyTorch module computing the same function as ``module``, with its weights (a fast
    twin of minseq.fast maps as the reference layer it subclasses)."""
    kind = next(c for c in type(module).__mro__ if c.__module__.startswith("minseq.nn"))
    if kind in _ACTIVATIONS:
        ref = getattr(torch.nn, _ACTIVATIONS[kind])()
    elif kind is nn.Linear:
        ref = _linear(torch, module, device)
    elif issubclass(kind, (nn.RNN, nn.LSTM, nn.GRU)):      # either tier
        ref = _recurrent(torch, module, device)
    elif kind is nn.MultiHeadAttention:
        ref = _multihead(torch, module, device)
    elif kind is nn.TransformerEncoderLayer:
        ref = _encoder_layer(torch, module, device)
    elif kind is nn.Sequential:
        ref = _sequential(torch, module, device)
    else:
        raise TypeError(f"torch_counterpart: no PyTorch counterpart known for {kind.__name__}")
    return ref.to(device)
