"""Lesson 10, exercise 2: Yule-Walker for every order at once (the Durbin-Levinson recursion).

Fill in ``durbin_levinson``, then grade it:  python lessons/10_timeseries.py --exercise 2
The lesson runs its own checks on your function: phi against the 2 x 2 Yule-Walker solve by hand
on its AR(2) series, phi_11 and phi_22 against their formulas, the shock variance; then your
function inside ts.pacf (the PACF of the AR(2) must cut off after lag 2) and ts.fit_ar
(method="yule-walker" must recover phi), and against minseq's recursion at order 6.
"""

import numpy as np


def durbin_levinson(gamma, p):
    """The Yule-Walker equations of every order k = 1..p, from autocovariances.

    gamma: gamma_0 .. gamma_p, shape (p + 1,) (ts.autocovariance(x, p)); p >= 1.

    The AR(k) predictor X_t ~ phi_k1 X_{t-1} + .. + phi_kk X_{t-k} solves the k x k system
    sum_j phi_kj gamma_|i-j| = gamma_i (i = 1..k); its last coefficient phi_kk is the partial
    autocorrelation at lag k. From order k - 1 (coefficients phi_{k-1, j}, error variance
    v_{k-1}, v_0 = gamma_0):

        phi_kk = (gamma_k - sum_{j=1..k-1} phi_{k-1,j} gamma_{k-j}) / v_{k-1}
        phi_kj = phi_{k-1,j} - phi_kk phi_{k-1,k-j}   (j = 1..k-1)
        v_k    = v_{k-1} (1 - phi_kk^2)

    Returns (phi, pacf, v): phi (p,) the AR(p) coefficients phi_p1 .. phi_pp; pacf (p + 1,)
    = [1, phi_11, phi_22, .., phi_pp]; v the AR(p) one-step error variance v_p (a float).
    """
    gamma = np.asarray(gamma, dtype=np.float64)
    # YOUR CODE HERE: start from order 0 (no coefficients, v = gamma_0) and step k = 1..p.
    # The placeholder is order 0 at every lag: no coefficient, no partial correlation.
    phi = np.zeros(p)
    pacf = np.concatenate([[1.0], np.zeros(p)])
    return phi, pacf, float(gamma[0])
