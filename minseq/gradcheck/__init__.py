"""Gradient checking: every hand-written backward against central differences.

``checker``: ``check_module`` and the numerical tools lessons use (``numerical_gradient``,
``relative_error``); ``cases``: what a case is (``CheckCase``) and the fixtures cases share;
``registry``: every registered case (``CASES``, ``run_case``), the layers' (``nn_cases``) and
the models' (``model_cases``), which ``python -m minseq gradcheck`` prints
as a table and the test suite runs on every backend.
"""

from .checker import GradientCheckError, check_module, numerical_gradient, relative_error

__all__ = ["GradientCheckError", "check_module", "numerical_gradient", "relative_error"]
