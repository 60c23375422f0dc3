"""Lesson 10, exercise 1: the ARMA(p, q) recursion (F1-F3, with the current shock eps_t).

Fill in ``arma_filter``, then grade it:  python lessons/10_timeseries.py --exercise 1
The lesson runs its own checks on your function: the AR(2), MA(2) and ARMA(1,1) recursions it
computes by hand on six shocks, minseq's arma_filter on an ARMA(2,2) with a constant, and a long
ARMA(1,1) simulated with your filter, whose phi and theta Hannan-Rissanen must recover.
"""

import numpy as np


def arma_filter(eps, const=0.0, ar=(), ma=()):
    """Run the ARMA recursion on given shocks.

    eps: the shocks eps_0 .. eps_{n-1}, shape (n,); const: c; ar: phi_1 .. phi_p (a list or
    array, maybe empty); ma: theta_1 .. theta_q (maybe empty).

    Returns X (n,) float64 with

        X_t = c + sum_{i=1..p} phi_i X_{t-i} + eps_t + sum_{j=1..q} theta_j eps_{t-j},

    where X and eps are 0 before time 0 (a term whose lag reaches before time 0 drops out).
    """
    eps = np.asarray(eps, dtype=np.float64)
    # YOUR CODE HERE: one value per t, from c, the last p values of X, eps_t and the last q
    # shocks. The placeholder returns the shocks unchanged (white noise).
    return eps.copy()
