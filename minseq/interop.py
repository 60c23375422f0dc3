"""Interop with PyTorch: a model's weights as a PyTorch-style state_dict, in ``.safetensors``.

    sd = torch_state_dict(model)            # {"encoder.layers.0.self_attn.in_proj_weight": ...}
    save_safetensors(model, "sasrec.safetensors")
    load_safetensors(model, "sasrec.safetensors")     # the same weights back

Each layer's entries take the names and layouts of its PyTorch counterpart
(minseq.bench.torch_modules): a weight stored (in, out) here is (out, in) there;
MultiHeadAttention's Wq, Wk, Wv become one ``in_proj_weight``; RNN and LSTM keep one bias b where
PyTorch has ``bias_ih`` + ``bias_hh`` (written as b and zeros; read back as their sum); GRU keeps
both. A layer's prefix is its dotted path in the model, so a Transformer block's entries are
those of ``torch.nn.TransformerEncoderLayer``. Parameters of layers without a counterpart keep
their own names.
The file is written by the ``safetensors`` package's NumPy API: plain tensors, never a pickle.
"""

import numpy as np
from safetensors.numpy import load_file, save

from . import nn
from .backend import to_numpy
from .files import atomic_write


def _linear(p):
    return {"weight": p["W"].T, **({"bias": p["b"]} if "b" in p else {})}


def _linear_back(t):
    return {"W": t["weight"].T, **({"b": t["bias"]} if "bias" in t else {})}


def _multihead(p):
    out = {"in_proj_weight": np.concatenate([p["Wq"].T, p["Wk"].T, p["Wv"].T]),
           "out_proj.weight": p["Wo"].T}
    if "bq" in p:
        out.update({"in_proj_bias": np.concatenate([p["bq"], p["bk"], p["bv"]]),
                    "out_proj.bias": p["bo"]})
    return out


def _multihead_back(t):
    q, k, v = np.split(t["in_proj_weight"], 3)
    out = {"Wq": q.T, "Wk": k.T, "Wv": v.T, "Wo": t["out_proj.weight"].T}
    if "in_proj_bias" in t:
        bq, bk, bv = np.split(t["in_proj_bias"], 3)
        out.update({"bq": bq, "bk": bk, "bv": bv, "bo": t["out_proj.bias"]})
    return out


def _recurrent(p):
    return {"weight_ih_l0": p["Wx"].T, "weight_hh_l0": p["Wh"].T,
            "bias_ih_l0": p.get("bx", p.get("b")),
            "bias_hh_l0": p["bh"] if "bh" in p else np.zeros_like(p["b"])}


def _recurrent_back(t, has_two_biases):
    out = {"Wx": t["weight_ih_l0"].T, "Wh": t["weight_hh_l0"].T}
    if has_two_biases:
        return dict(out, bx=t["bias_ih_l0"], bh=t["bias_hh_l0"])
    return dict(out, b=t["bias_ih_l0"] + t["bias_hh_l0"])


_LAYERS = {  # reference class -> (to PyTorch, back)
    nn.Linear: (_linear, _linear_back),
    nn.Embedding: (lambda p: {"weight": p["W"]}, lambda t: {"W": t["weight"]}),
    nn.LayerNorm: (lambda p: {"weight": p["gamma"], "bias": p["beta"]},
                   lambda t: {"gamma": t["weight"], "beta": t["bias"]}),
    nn.MultiHeadAttention: (_multihead, _multihead_back),
    nn.RNN: (_recurrent, lambda t: _recurrent_back(t, False)),
    nn.LSTM: (_recurrent, lambda t: _recurrent_back(t, False)),
    nn.GRU: (_recurrent, lambda t: _recurrent_back(t, True)),
}


def _kind(module):
    """The reference layer a module is (a fast twin or a subclass maps as its reference)."""
    return next((c for c in type(module).__mro__ if c in _LAYERS), None)


def _own_params(model):
    """(prefix, module, kind) for each module holding parameters of its own."""
    for prefix, module in model.named_modules():
        if module.params:
            yield prefix, module, _kind(module)


def torch_state_dict(model):
    """{PyTorch-style name: host float array (contiguous)} covering every parameter of
    ``model``."""
    out = {}
    for prefix, module, kind in _own_params(model):
        params = {k: to_numpy(v) for k, v in module.params.items()}
        entries = _LAYERS[kind][0](params) if kind else params
        out.update({prefix + k: np.ascontiguousarray(v) for k, v in entries.items()})
    return out


def from_torch_state_dict(model, state):
    """Load a state_dict in ``torch_state_dict``'s names and layouts into ``model`` (every
    entry must be there, with the right shape: the model's load_state_dict names a misfit)."""
    own = {}
    for prefix, module, kind in _own_params(model):
        names = torch_state_dict_names(module, kind)
        missing = [prefix + n for n in names if prefix + n not in state]
        if missing:
            raise KeyError(f"from_torch_state_dict: no entry {missing[0]!r} for "
                           f"{model.name()}")
        mine = {n: np.asarray(state[prefix + n]) for n in names}
        own.update({prefix + k: v for k, v in (_LAYERS[kind][1](mine) if kind else mine).items()})
    model.load_state_dict(own)
    return model


def torch_state_dict_names(module, kind):
    """The names (without prefix) ``module``'s parameters take in the state_dict."""
    params = {k: to_numpy(v) for k, v in module.params.items()}
    return list(_LAYERS[kind][0](params) if kind else params)


def save_safetensors(model, path):
    """Write ``torch_state_dict(model)`` to ``path`` as .safetensors, atomically."""
    data = save(torch_state_dict(model))
    with atomic_write(path) as f:
        f.write(data)
    return path


def load_safetensors(model, path):
    """Load a .safetensors file of ``torch_state_dict``'s layout into ``model``."""
    return from_torch_state_dict(model, load_file(str(path)))
