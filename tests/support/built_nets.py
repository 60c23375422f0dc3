"""What a pipeline built: the parameter dtypes and the tier (fast twins or the plain layers) of
each network, for the tests that check a checkpoint is rebuilt as it was trained."""


def dtypes_of(nets):
    """For each net, the set of its parameters' dtype names."""
    return [{str(p.dtype) for m in net.modules() for p in m.params.values()} for net in nets]


def fast_tier(nets):
    """For each net, whether any of its layers is a minseq.fast twin."""
    return [any(type(m).__module__.startswith("minseq.fast") for m in net.modules())
            for net in nets]
