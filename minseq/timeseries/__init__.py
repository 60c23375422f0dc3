"""Classical time-series models on host arrays: AR, MA and ARMA (catalogue F1-F3).

Statistics on one short series is host work, so this package computes with NumPy directly (it is
one of minseq's host-side packages, like ``minseq.data``). Every function takes and returns
NumPy arrays; fits return an :class:`ARMAResult`.

    >>> from minseq import timeseries as ts
    >>> x = ts.simulate_ar(2000, ar=[0.6, -0.3], seed=0)
    >>> model = ts.fit_ar(x, 2)                      # least squares; method="yule-walker" too
    >>> ts.forecast(model, x, steps=5)
"""

from .arma import (ARMAResult, NonStationaryError, arma_filter, forecast, is_stationary,
                   predict, simulate_ar, simulate_arma, simulate_ma)
from .correlation import acf, autocovariance, pacf
from .fit import DF_CRITICAL_5PCT, dickey_fuller, fit_ar, fit_arma
from .sources import daily_counts

__all__ = [
    "ARMAResult", "NonStationaryError", "arma_filter", "simulate_ar", "simulate_ma",
    "simulate_arma", "is_stationary", "predict", "forecast", "acf", "pacf", "autocovariance",
    "fit_ar", "fit_arma", "dickey_fuller", "DF_CRITICAL_5PCT", "daily_counts",
]
