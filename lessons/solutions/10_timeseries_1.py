"""Lesson 10, exercise 1, worked solution: the ARMA(p, q) recursion.

Grade it:  python lessons/10_timeseries.py --exercise 1 --solution
"""

import numpy as np


def arma_filter(eps, const=0.0, ar=(), ma=()):
    """X (n,) from the shocks eps (n,), X and eps 0 before time 0:
    X_t = c + sum phi_i X_{t-i} + eps_t + sum theta_j eps_{t-j}."""
    eps = np.asarray(eps, dtype=np.float64)
    phi, theta = np.asarray(ar, dtype=np.float64), np.asarray(ma, dtype=np.float64)
    x = np.zeros(eps.size)
    for t in range(eps.size):
        value = const + eps[t]                  # the current shock: the term F3 leaves out
        for i in range(1, min(phi.size, t) + 1):
            value += phi[i - 1] * x[t - i]      # a lag before time 0 has X = 0: no term
        for j in range(1, min(theta.size, t) + 1):
            value += theta[j - 1] * eps[t - j]
        x[t] = value                            # X_t feeds the next p steps
    return x
