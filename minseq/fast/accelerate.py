"""Swap reference layers for their fast twins, sharing the same parameter arrays.

A fast twin is a subclass of its reference layer in ``minseq.nn``: same constructor, parameter
names, shapes and state dict, same outputs and gradients (tested equal), only ``forward`` and
``backward`` (and the scratch buffers they reuse) differ. Because it subclasses the reference,
a twin can take over a reference layer's attributes as they are, so ``accelerate`` needs no
constructor arguments and copies no weights: the twin holds the very same ``params`` and
``grads`` dicts, as a compiler's fusion pass rewrites a graph without touching its tensors.

A twin names itself ``fast.LSTM`` (its repr and its error messages), so a model shows which tier
each layer is. The layers that run on batch shards (``minseq.parallel``: attention and the
Transformer layers, and the Dropout inside them) take their references' place the same way.
"""

from .. import nn
from ..parallel import SHARDED

#: reference class -> the class ``accelerate`` puts in its place: the fast twins, filled by the
#: modules of ``minseq.fast``, and the layers on batch shards (``minseq.parallel``)
TWINS = {}


def _fast_name(self):
    return f"fast.{type(self).__name__}"


def twin(reference_cls):
    """Class decorator: register the decorated class as the fast twin of ``reference_cls``; it
    names itself ``fast.<class>`` unless it names itself otherwise."""
    def register(cls):
        if not issubclass(cls, reference_cls):
            raise TypeError(f"fast twin {cls.__name__} must subclass {reference_cls.__name__}")
        if cls.name is reference_cls.name:
            cls.name = _fast_name
        TWINS[reference_cls] = cls
        return cls
    return register


for _reference, _sharded in SHARDED.items():
    twin(_reference)(_sharded)


def twin_of(layer):
    """The fast twin of ``layer``, holding ``layer``'s own params and grads dicts (the same
    arrays: an optimiser built on either sees both), or ``layer`` itself when it has none."""
    cls = TWINS.get(type(layer))
    if cls is None:
        return layer
    fast = cls.__new__(cls)
    fast.__dict__.update(vars(layer))
    fast._cache = None
    return fast


def accelerate(model):
    """Replace, in place, every sub-module of ``model`` (and ``model`` itself) that has a fast
    twin by that twin, sharing its parameter arrays; returns the accelerated model.

    The model computes the same function with the same gradients (within float rounding) and
    its state dict is unchanged, so checkpoints move freely between the two tiers.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"accelerate: expected a minseq.nn.Module, got {type(model).__name__}")
    return _accelerate(model, {})


def _accelerate(module, done):
    """Children first, so a twin copies attributes that already point at twins; ``done`` maps
    id(module) to its twin, so a sub-module used in two places stays one module."""
    if id(module) in done:
        return done[id(module)]

    def swap(value):
        return _accelerate(value, done) if isinstance(value, nn.Module) else value

    for name, value in list(vars(module).items()):
        if isinstance(value, nn.Module):
            setattr(module, name, swap(value))
        elif isinstance(value, list):
            value[:] = [swap(v) for v in value]
        elif isinstance(value, tuple):
            setattr(module, name, tuple(swap(v) for v in value))
    done[id(module)] = result = twin_of(module)
    return result


def tier(model, reference=False):
    """``model`` as the command line runs it: accelerated, or as it is with ``reference=True``
    (``--reference``). Anything that is not a Module (a count baseline) has no layers to swap."""
    if reference or not isinstance(model, nn.Module):
        return model
    return accelerate(model)
