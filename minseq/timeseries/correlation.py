"""Sample autocovariance, autocorrelation (ACF) and partial autocorrelation (PACF).

    gamma_k = 1/n sum_{t=0}^{n-1-k} (X_t - m)(X_{t+k} - m),   rho_k = gamma_k / gamma_0

(the 1/n estimator, not 1/(n-k): it keeps the autocovariance matrix positive definite, so the
Yule-Walker fit is always stationary). The PACF at lag k is the last coefficient phi_kk of the
best AR(k) predictor, found for every k at once by the Durbin-Levinson recursion.

An AR(p) has a PACF that cuts off after lag p; an MA(q) has an ACF that cuts off after lag q.
For white noise both stay within +-1.96 / sqrt(n) about 95 % of the time.
"""

import numpy as np


def _demeaned(x, nlags, who):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{who}: the series must be one-dimensional, got shape {x.shape}")
    if not 0 <= nlags < x.size:
        raise ValueError(f"{who}: nlags must lie in [0, {x.size - 1}] for a series of "
                         f"{x.size} values, got {nlags}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{who}: the series contains NaN or infinite values")
    d = x - x.mean()
    if not np.any(d):
        raise ValueError(f"{who}: the series is constant, so its autocorrelation is undefined")
    return d


def autocovariance(x, nlags):
    """gamma_0 .. gamma_nlags of the series x (n,); returns (nlags + 1,)."""
    d = _demeaned(x, nlags, "autocovariance")
    n = d.size
    return np.array([d[:n - k] @ d[k:] / n for k in range(nlags + 1)])


def acf(x, nlags):
    """rho_0 .. rho_nlags (rho_0 = 1); returns (nlags + 1,)."""
    g = autocovariance(x, nlags)
    return g / g[0]


def durbin_levinson(gamma, p):
    """Solve the Yule-Walker equations of every order k = 1..p from autocovariances gamma.

    gamma: (p + 1,). Returns (phi, pacf, v): phi (p,) the AR(p) coefficients, pacf (p + 1,) the
    partial autocorrelations phi_kk (pacf[0] = 1), v the AR(p) one-step error variance.

        phi_kk = (gamma_k - sum_{j<k} phi_{k-1,j} gamma_{k-j}) / v_{k-1}
        phi_kj = phi_{k-1,j} - phi_kk phi_{k-1,k-j},   v_k = v_{k-1} (1 - phi_kk^2)
    """
    phi = np.zeros(0)
    pacf_values = [1.0]
    v = gamma[0]
    for k in range(1, p + 1):
        kk = (gamma[k] - phi @ gamma[1:k][::-1]) / v
        phi = np.concatenate([phi - kk * phi[::-1], [kk]])
        v *= 1.0 - kk * kk
        pacf_values.append(kk)
    return phi, np.array(pacf_values), v


def pacf(x, nlags):
    """phi_00 = 1, phi_11 .. phi_{nlags,nlags}; returns (nlags + 1,)."""
    return durbin_levinson(autocovariance(x, nlags), nlags)[1]
