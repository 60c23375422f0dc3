"""Every registered gradient-check case: the layers' (nn_cases) and the models' (model_cases).

``CASES`` maps a name to a CheckCase (``cases``); ``run_case(name)`` checks one at its tolerance.
"""

from . import model_cases, nn_cases
from .checker import check_module

CASES = {**nn_cases.CASES, **model_cases.CASES}


def run_case(name, tol=None):
    """Check the case ``name`` at its tolerance (or ``tol``); returns {tensor: worst relative
    error} without raising."""
    c = CASES[name]
    module, inputs, kwargs = c.build()
    return check_module(module, *inputs, tol=c.tol if tol is None else tol, raise_on_fail=False,
                        grad_inputs=c.grad_inputs, **kwargs)
