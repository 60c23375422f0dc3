"""Lesson 10, exercise 2, worked solution: the Durbin-Levinson recursion.

Grade it:  python lessons/10_timeseries.py --exercise 2 --solution
"""

import numpy as np


def durbin_levinson(gamma, p):
    """(phi (p,), pacf (p + 1,), v) of the Yule-Walker equations of orders 1..p."""
    gamma = np.asarray(gamma, dtype=np.float64)
    phi = np.zeros(0)                       # order 0: no coefficient yet
    pacf = [1.0]
    v = gamma[0]                            # order 0 predicts the mean: error variance gamma_0
    for k in range(1, p + 1):
        # what order k - 1 leaves unexplained of gamma_k, per unit of its error variance
        kk = (gamma[k] - phi @ gamma[k - 1:0:-1]) / v
        # the old coefficients, corrected by the new lag seen backwards in time
        phi = np.append(phi - kk * phi[::-1], kk)
        v = v * (1.0 - kk ** 2)             # each order removes a fraction kk^2 of the error
        pacf.append(kk)
    return phi, np.array(pacf), float(v)
