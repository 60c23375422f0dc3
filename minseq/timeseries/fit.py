"""Fitting AR(p) and ARMA(p, q) models, and the unit-root check that guards every fit.

AR(p) (catalogue F1), two ways:
  - "ols": least squares on the lagged design, X_t ~ [1, X_{t-1}, .., X_{t-p}] for t = p..n-1;
    sigma2 = RSS / (n - p), the conditional maximum-likelihood estimate.
  - "yule-walker": solve Gamma phi = gamma from the sample autocovariances (Durbin-Levinson);
    c = m (1 - sum phi), sigma2 = gamma_0 - phi . gamma_{1..p}.
ARMA(p, q) (F3) by Hannan-Rissanen: a long AR(m) estimates the shocks eps_t as its residuals,
then least squares of X_t on [1, X_{t-1..t-p}, epshat_{t-1..t-q}].

A non-stationary series (a random walk, a trend) is reported, not silently fitted: a fit raises
NonStationaryError when the augmented Dickey-Fuller statistic cannot reject a unit root at 5 %,
or when the fitted AR polynomial has a root on or inside the unit circle. Pass
check_stationary=False to fit anyway.
"""

import numpy as np

from .arma import ARMAResult, NonStationaryError, _series, ar_roots, is_stationary
from .correlation import autocovariance, durbin_levinson

#: Asymptotic 5 % critical value of the Dickey-Fuller t statistic, regression with a constant
#: (MacKinnon 2010): a statistic above it cannot reject a unit root.
DF_CRITICAL_5PCT = -2.86


def _lagged(x, lags, start):
    """Columns x_{t-1} .. x_{t-lags} for t = start .. n-1; returns (n - start, lags)."""
    n = x.size
    if lags == 0:
        return np.zeros((n - start, 0))
    return np.stack([x[start - i:n - i] for i in range(1, lags + 1)], axis=1)


def _ols(X, y):
    """Least squares with an intercept: returns (beta (1 + k,), residuals, standard errors)."""
    X1 = np.column_stack([np.ones(len(y)), X])
    beta, *_ = np.linalg.lstsq(X1, y, rcond=None)
    resid = y - X1 @ beta
    dof = max(len(y) - X1.shape[1], 1)
    cov = resid @ resid / dof * np.linalg.pinv(X1.T @ X1)
    return beta, resid, np.sqrt(np.maximum(np.diag(cov), 0.0))


def dickey_fuller(x, lags=0):
    """Augmented Dickey-Fuller t statistic for a unit root in x (n,).

    Regression: dX_t = a + g X_{t-1} + sum_{i=1..lags} d_i dX_{t-i} + e_t; returns g / se(g).
    A statistic below DF_CRITICAL_5PCT (-2.86) rejects the unit root: the series is stationary.
    """
    x = _series(x, "dickey_fuller", lags + 4)
    dx = np.diff(x)
    start = lags
    X = np.column_stack([x[start:-1], _lagged(dx, lags, start)])
    beta, _, se = _ols(X, dx[start:])
    return float(beta[1] / se[1]) if se[1] > 0 else float("-inf")


def _require_stationary(who, x, ar, lags):
    roots = ar_roots(ar)
    if not is_stationary(ar):
        raise NonStationaryError(
            f"{who}: the fitted AR coefficients {np.round(ar, 4).tolist()} have a root of "
            f"1 - sum phi_i z^i at |z| = {np.abs(roots).min():.4f} <= 1, so the model is not "
            "stationary. Difference the series (numpy.diff) and fit again.")
    stat = dickey_fuller(x, lags)
    if stat > DF_CRITICAL_5PCT:
        raise NonStationaryError(
            f"{who}: the series looks non-stationary: its Dickey-Fuller statistic {stat:.2f} is "
            f"above the 5 % critical value {DF_CRITICAL_5PCT}, so a unit root (a random walk or "
            "a trend) cannot be ruled out. Difference the series (numpy.diff) and fit again, or "
            "pass check_stationary=False to fit it anyway.")


def _check_order(who, name, value):
    if int(value) != value or value < 0:
        raise ValueError(f"{who}: {name} must be a non-negative integer, got {value}")
    return int(value)


def fit_ar(x, p, method="ols", check_stationary=True):
    """Fit AR(p): X_t = c + sum_{i=1..p} phi_i X_{t-i} + eps_t. x: (n,). Returns ARMAResult.

    method: "ols" (needs n >= 2p + 2) or "yule-walker" (needs n >= p + 2).
    """
    p = _check_order("fit_ar", "p", p)
    if p < 1:
        raise ValueError("fit_ar: p must be at least 1 (an AR(0) is just the mean)")
    if method == "ols":
        x = _series(x, "fit_ar", 2 * p + 2, varying=True)
        beta, resid, _ = _ols(_lagged(x, p, p), x[p:])
        const, ar, sigma2 = beta[0], beta[1:], resid @ resid / resid.size
    elif method == "yule-walker":
        x = _series(x, "fit_ar", p + 2, varying=True)
        gamma = autocovariance(x, p)
        ar, _, sigma2 = durbin_levinson(gamma, p)
        const = x.mean() * (1.0 - ar.sum())
    else:
        raise ValueError(f"fit_ar: method must be 'ols' or 'yule-walker', got {method!r}")
    if check_stationary:
        _require_stationary("fit_ar", x, ar, p - 1)
    return ARMAResult(const, ar, (), sigma2, method, x.size)


def fit_arma(x, p, q, long_ar=None, check_stationary=True):
    """Fit ARMA(p, q) by Hannan-Rissanen. x: (n,). Returns ARMAResult.

    long_ar: order m of the first-stage AR (default max(p + q + 1, round(10 log10 n)), at most
    n // 4). Its residuals stand in for the unobserved shocks from time m on; the second stage
    regresses X_t on [1, X_{t-1..t-p}, eps_{t-1..t-q}] for t >= m + q. sigma2 = mean squared
    second-stage residual.
    """
    p = _check_order("fit_arma", "p", p)
    q = _check_order("fit_arma", "q", q)
    if q == 0:
        return fit_ar(x, p, "ols", check_stationary)
    x = _series(x, "fit_arma", 4 * (p + q + 1), varying=True)
    n = x.size
    m = long_ar or min(max(p + q + 1, round(10 * np.log10(n))), n // 4)
    _, eps_long, _ = _ols(_lagged(x, m, m), x[m:])            # eps_t for t = m .. n-1
    start = m + q
    eps = np.concatenate([np.zeros(m), eps_long])             # (n,), zero before time m
    X = np.column_stack([_lagged(x, p, start), _lagged(eps, q, start)])
    beta, resid, _ = _ols(X, x[start:])
    const, ar, ma = beta[0], beta[1:1 + p], beta[1 + p:]
    if check_stationary and p:
        _require_stationary("fit_arma", x, ar, p - 1)
    return ARMAResult(const, ar, ma, resid @ resid / resid.size, "hannan-rissanen", n)
