"""The ARMA recursion: simulate, predict one step ahead, forecast (catalogue F1-F3).

Standard ARMA(p, q) (F3 with its erratum corrected: the document omits the current shock eps_t):

    X_t = c + sum_{i=1..p} phi_i X_{t-i} + eps_t + sum_{j=1..q} theta_j eps_{t-j},
    eps_t ~ N(0, sigma^2) independent.

AR(p) (F1) is ARMA(p, 0) and MA(q) (F2) is ARMA(0, q). The process is stationary when every root
z of 1 - phi_1 z - ... - phi_p z^p lies outside the unit circle; its mean is then
c / (1 - sum phi_i).
"""

from dataclasses import dataclass, field

import numpy as np


class NonStationaryError(ValueError):
    """A series or an AR polynomial is not stationary, so an ARMA fit would be meaningless."""


@dataclass
class ARMAResult:
    """A fitted (or given) ARMA(p, q) model.

    const: c; ar: (phi_1 .. phi_p), shape (p,); ma: (theta_1 .. theta_q), shape (q,), empty for
    an AR model; sigma2: the shock variance; method: how it was fitted; nobs: series length.
    """

    const: float
    ar: np.ndarray
    ma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sigma2: float = 1.0
    method: str = "given"
    nobs: int = 0

    def __post_init__(self):
        self.const = float(self.const)
        self.ar = _coefficients(self.ar, "ar")
        self.ma = _coefficients(self.ma, "ma")
        self.sigma2 = float(self.sigma2)

    @property
    def p(self):
        return self.ar.size

    @property
    def q(self):
        return self.ma.size

    @property
    def mean(self):
        """The process mean c / (1 - sum phi_i) (defined for a stationary model)."""
        return self.const / (1.0 - self.ar.sum())

    def __repr__(self):
        fmt = lambda a: "[" + ", ".join(f"{v:.4f}" for v in a) + "]"  # noqa: E731
        return (f"ARMAResult(p={self.p}, q={self.q}, const={self.const:.4f}, ar={fmt(self.ar)}, "
                f"ma={fmt(self.ma)}, sigma2={self.sigma2:.4f}, method={self.method!r})")


def _coefficients(values, name):
    a = np.asarray(values, dtype=np.float64)
    if a.ndim > 1:
        raise ValueError(f"ARMA: {name} must be a flat sequence of coefficients, "
                         f"got shape {a.shape}")
    a = a.reshape(-1)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"ARMA: {name} coefficients must be finite, got {a}")
    return a


def ar_roots(ar):
    """Roots z of 1 - phi_1 z - ... - phi_p z^p (empty for p = 0)."""
    ar = _coefficients(ar, "ar")
    if ar.size == 0 or not np.any(ar):
        return np.zeros(0, dtype=complex)
    # np.roots wants the highest power first: -phi_p z^p - ... - phi_1 z + 1.
    return np.roots(np.concatenate([-ar[::-1], [1.0]]))


def is_stationary(ar):
    """True when every root of 1 - sum phi_i z^i lies strictly outside the unit circle."""
    roots = ar_roots(ar)
    return bool(np.all(np.abs(roots) > 1.0 + 1e-10))


def arma_filter(eps, const=0.0, ar=(), ma=()):
    """Run the ARMA recursion on given shocks, starting from X = 0 and eps = 0 before time 0.

    eps: shocks (n,); returns X (n,) with
    X_t = c + sum_i phi_i X_{t-i} + eps_t + sum_j theta_j eps_{t-j}.
    """
    eps = np.asarray(eps, dtype=np.float64)
    ar, ma = _coefficients(ar, "ar"), _coefficients(ma, "ma")
    p, q = ar.size, ma.size
    x = np.zeros(eps.size)
    for t in range(eps.size):
        past_x = x[max(t - p, 0):t][::-1]          # X_{t-1}, X_{t-2}, ...
        past_e = eps[max(t - q, 0):t][::-1]        # eps_{t-1}, eps_{t-2}, ...
        x[t] = const + ar[:past_x.size] @ past_x + eps[t] + ma[:past_e.size] @ past_e
    return x


def simulate_arma(n, ar=(), ma=(), const=0.0, sigma=1.0, seed=0, burn_in=200):
    """n values of a standard ARMA(p, q) process with N(0, sigma^2) shocks (seeded).

    The first ``burn_in`` values are dropped so the series starts near its stationary
    distribution rather than at 0. A non-stationary AR part has no such distribution: it is an
    error unless burn_in=0 (then the series starts from X = 0, e.g. a random walk).
    """
    if n < 1 or burn_in < 0:
        raise ValueError(f"simulate_arma: need n >= 1 and burn_in >= 0, got n={n}, "
                         f"burn_in={burn_in}")
    if burn_in and not is_stationary(ar):
        raise NonStationaryError(
            f"simulate_arma: ar={list(np.round(_coefficients(ar, 'ar'), 4))} is not stationary "
            "(a root of 1 - sum phi_i z^i lies on or inside the unit circle); there is no "
            "stationary start to burn in to. Pass burn_in=0 to simulate it from X = 0.")
    eps = np.random.default_rng(seed).standard_normal(n + burn_in) * sigma
    return arma_filter(eps, const, ar, ma)[burn_in:]


def simulate_ar(n, ar, const=0.0, sigma=1.0, seed=0, burn_in=200):
    """AR(p) (F1): X_t = c + sum phi_i X_{t-i} + eps_t. See :func:`simulate_arma`."""
    return simulate_arma(n, ar=ar, const=const, sigma=sigma, seed=seed, burn_in=burn_in)


def simulate_ma(n, ma, const=0.0, sigma=1.0, seed=0, burn_in=200):
    """MA(q) (F2): X_t = c + eps_t + sum theta_j eps_{t-j}. See :func:`simulate_arma`."""
    return simulate_arma(n, ma=ma, const=const, sigma=sigma, seed=seed, burn_in=burn_in)


def _one_step(model, x, steps):
    """Predictions for t = p .. n+steps-1: known X_t for t < n, forecasts beyond.

    Shocks are the one-step errors eps_t = X_t - Xhat_t, taken as 0 before time p and in the
    future (their expectation), the usual conditional convention.
    """
    p, q = model.p, model.q
    n = x.size
    xs = np.concatenate([x, np.zeros(steps)])
    eps = np.zeros(n + steps)
    pred = np.zeros(n + steps)
    for t in range(p, n + steps):
        pred[t] = (model.const + model.ar @ xs[t - p:t][::-1]
                   + model.ma[:min(q, t)] @ eps[max(t - q, 0):t][::-1])
        if t < n:
            eps[t] = xs[t] - pred[t]
        else:
            xs[t] = pred[t]
    return pred[p:]


def _series(x, who, at_least, varying=False):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{who}: the series must be one-dimensional, got shape {x.shape}")
    if x.size < at_least:
        raise ValueError(f"{who}: the series has {x.size} values but at least {at_least} are "
                         "needed for this model order")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{who}: the series contains NaN or infinite values")
    if varying and np.ptp(x) == 0:
        raise ValueError(f"{who}: the series is constant; there is nothing to fit")
    return x


def predict(model, x):
    """One-step-ahead predictions Xhat_t = E[X_t | X_0 .. X_{t-1}] for t = p .. n-1.

    model: an ARMAResult; x: the series (n,). Returns (n - p,), aligned with ``x[p:]``.
    """
    x = _series(x, "predict", max(model.p, 1))
    return _one_step(model, x, 0)


def forecast(model, x, steps):
    """Forecast ``steps`` values past the end of ``x`` (n,); returns (steps,).

    Each forecast feeds the next as if observed, and future shocks are 0, so the forecast decays
    to the process mean c / (1 - sum phi_i).
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"forecast: steps must be a positive integer, got {steps}")
    x = _series(x, "forecast", max(model.p, 1))
    return _one_step(model, x, int(steps))[-int(steps):]
