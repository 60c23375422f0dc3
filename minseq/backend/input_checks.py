"""Turning the input checks that read device data on and off, and their one deliberate read.

Checks of shapes, dtypes and backends cost nothing and always run. Checks that must read the
data (ids in range, a real event in every row) copy it to the host: the Trainer skips them
once it has seen every row (``inputs_checked``), and each such read goes through
``read_for_check``, which the strict backend counts apart from hidden syncs.
"""

import contextlib

from .switch import xp
from .transfer import to_numpy

_inputs_checked = False


@contextlib.contextmanager
def inputs_checked():
    """Inside: the data was checked on an earlier pass over it, so the input checks that must
    read device data (ids in range, a real event in every row) are skipped; the checks of
    shapes, dtypes and backends still run. The Trainer enters it from its second epoch on (the
    same rows again), which leaves one host read per training step: the loss."""
    global _inputs_checked
    previous, _inputs_checked = _inputs_checked, True
    try:
        yield
    finally:
        _inputs_checked = previous


def checks_read_data():
    """False inside ``inputs_checked``: data-reading input checks may be skipped."""
    return not _inputs_checked


def read_for_check(a):
    """A host copy of the small array ``a`` for an input check: one deliberate device-to-host
    read (counted apart from hidden syncs by the strict backend's ``count_syncs``)."""
    if xp._name == "strict":
        from ..strict import checked_read
        return checked_read(a)
    return to_numpy(a)
