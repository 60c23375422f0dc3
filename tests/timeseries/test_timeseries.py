"""AR, MA and ARMA (catalogue F1-F3): the recursion, recovery of known coefficients, the
autocorrelation functions, forecasts, the stationarity guard and the behaviour-log series."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minseq import timeseries as ts

coef = st.floats(-0.9, 0.9)


# -- the recursion (F1-F3 written out by hand) ------------------------------------------------
@given(st.lists(coef, max_size=3), st.lists(coef, max_size=3), st.floats(-2, 2))
def test_arma_filter_is_the_standard_arma_recursion(ar, ma, c):
    eps = np.random.default_rng(0).standard_normal(12)
    x = ts.arma_filter(eps, c, ar, ma)
    for t in range(12):
        expected = c + eps[t]                                   # F3 with the current shock
        expected += sum(ar[i - 1] * x[t - i] for i in range(1, len(ar) + 1) if t - i >= 0)
        expected += sum(ma[j - 1] * eps[t - j] for j in range(1, len(ma) + 1) if t - j >= 0)
        assert x[t] == pytest.approx(expected, abs=1e-12)


def test_simulation_is_seeded():
    a = ts.simulate_arma(50, [0.5], [0.3], seed=3)
    assert np.array_equal(a, ts.simulate_arma(50, [0.5], [0.3], seed=3))
    assert not np.array_equal(a, ts.simulate_arma(50, [0.5], [0.3], seed=4))
    assert a.shape == (50,)


def test_simulate_ar_and_ma_are_arma_special_cases():
    assert np.array_equal(ts.simulate_ar(40, [0.4], const=1, seed=1),
                          ts.simulate_arma(40, ar=[0.4], const=1, seed=1))
    assert np.array_equal(ts.simulate_ma(40, [0.4], seed=1), ts.simulate_arma(40, ma=[0.4], seed=1))


def test_random_walk_needs_burn_in_zero():
    with pytest.raises(ts.NonStationaryError, match="burn_in=0"):
        ts.simulate_ar(100, [1.0])
    walk = ts.simulate_ar(100, [1.0], burn_in=0, seed=5)
    eps = np.random.default_rng(5).standard_normal(100)
    assert np.allclose(walk, np.cumsum(eps))


@pytest.mark.parametrize("ar, stationary", [([0.5], True), ([1.0], False), ([-1.1], False),
                                            ([0.5, 0.5], False), ([1.2, -0.5], True), ([], True)])
def test_is_stationary_reads_the_roots(ar, stationary):
    assert ts.is_stationary(ar) is stationary


# -- recovery ---------------------------------------------------------------------------------
# Tolerances: with n = 5000 the standard error of each coefficient is about 0.01-0.02, so 0.06
# is three or more standard errors.
TOL = 0.06


@pytest.mark.parametrize("method", ["ols", "yule-walker"])
def test_fit_ar_recovers_the_coefficients(method):
    x = ts.simulate_ar(5000, [0.6, -0.3], const=1.0, sigma=0.5, seed=11)
    m = ts.fit_ar(x, 2, method=method)
    assert m.ar == pytest.approx([0.6, -0.3], abs=TOL)
    assert m.const == pytest.approx(1.0, abs=TOL)
    assert m.sigma2 == pytest.approx(0.25, rel=0.1)
    assert m.mean == pytest.approx(1.0 / 0.7, abs=0.05)
    assert m.ma.size == 0 and m.method == method and m.nobs == 5000


def test_ols_and_yule_walker_nearly_agree_on_a_long_series():
    x = ts.simulate_ar(5000, [0.5, 0.2], seed=12)
    assert ts.fit_ar(x, 2).ar == pytest.approx(ts.fit_ar(x, 2, "yule-walker").ar, abs=0.01)


# Well-identified models: an AR root near an MA root nearly cancels (e.g. phi = 0.5, theta = -0.4)
# and leaves the coefficients poorly determined at any n.
@pytest.mark.parametrize("ar, ma", [([0.7], [0.4]), ([], [0.5, 0.3]), ([0.5, -0.3], [0.4])])
def test_fit_arma_recovers_the_coefficients(ar, ma):
    x = ts.simulate_arma(5000, ar, ma, const=0.5, seed=13)
    m = ts.fit_arma(x, len(ar), len(ma))
    assert m.ar == pytest.approx(ar, abs=TOL)
    assert m.ma == pytest.approx(ma, abs=TOL)
    assert m.sigma2 == pytest.approx(1.0, rel=0.1)
    assert m.method == "hannan-rissanen"


def test_fit_arma_without_ma_terms_is_the_ar_fit():
    x = ts.simulate_ar(500, [0.5], seed=14)
    assert ts.fit_arma(x, 1, 0).ar == pytest.approx(ts.fit_ar(x, 1).ar)


# -- refusing what cannot be fitted ---------------------------------------------------------
@pytest.mark.parametrize("fit", [lambda x: ts.fit_ar(x, 1),
                                 lambda x: ts.fit_ar(x, 2, "yule-walker"),
                                 lambda x: ts.fit_arma(x, 1, 1)])
def test_a_random_walk_is_reported_not_fitted(fit):
    walk = ts.simulate_ar(2000, [1.0], burn_in=0, seed=15)
    with pytest.raises(ts.NonStationaryError, match="non-stationary"):
        fit(walk)


def test_a_trend_is_reported_not_fitted():
    x = 0.05 * np.arange(500) + ts.simulate_ar(500, [0.3], seed=16)
    with pytest.raises(ts.NonStationaryError, match="Dickey-Fuller"):
        ts.fit_ar(x, 1)


def test_the_check_can_be_switched_off_and_shows_a_unit_root():
    walk = ts.simulate_ar(2000, [1.0], burn_in=0, seed=15)
    assert ts.fit_ar(walk, 1, check_stationary=False).ar[0] == pytest.approx(1.0, abs=0.02)


def test_an_explosive_fit_is_reported():
    x = 1.05 ** np.arange(60) + 0.01 * np.random.default_rng(0).standard_normal(60)
    with pytest.raises(ts.NonStationaryError, match="root"):
        ts.fit_ar(x, 1)


def test_dickey_fuller_separates_stationary_from_random_walk():
    assert ts.dickey_fuller(ts.simulate_ar(1000, [0.5], seed=17)) < ts.DF_CRITICAL_5PCT
    walk = ts.simulate_ar(1000, [1.0], burn_in=0, seed=17)
    assert ts.dickey_fuller(walk, lags=2) > ts.DF_CRITICAL_5PCT


@pytest.mark.parametrize("fit, n", [(lambda x: ts.fit_ar(x, 3), 7),
                                    (lambda x: ts.fit_ar(x, 3, "yule-walker"), 4),
                                    (lambda x: ts.fit_arma(x, 1, 1), 11)])
def test_a_series_shorter_than_the_order_needs_is_a_clear_error(fit, n):
    with pytest.raises(ValueError, match="at least"):
        fit(np.arange(n, dtype=float) % 3)


@pytest.mark.parametrize("call, message", [
    (lambda: ts.fit_ar(np.ones(50), 1), "constant"),
    (lambda: ts.fit_ar(np.zeros((10, 2)), 1), "one-dimensional"),
    (lambda: ts.fit_ar([1.0, np.nan] * 20, 1), "NaN"),
    (lambda: ts.fit_ar(np.arange(50.0) % 5, 1, method="mle"), "method"),
    (lambda: ts.fit_ar(np.arange(50.0) % 5, 0), "at least 1"),
    (lambda: ts.fit_arma(np.arange(50.0) % 5, 1, -1), "non-negative"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- ACF and PACF ---------------------------------------------------------------------------
@given(st.lists(st.floats(-10, 10), min_size=6, max_size=30).filter(lambda v: np.ptp(v) > 1e-3))
def test_acf_is_the_formula(values):
    x = np.array(values)
    d = x - x.mean()
    expected = [np.sum(d[:x.size - k] * d[k:]) / np.sum(d * d) for k in range(4)]
    assert ts.acf(x, 3) == pytest.approx(expected, abs=1e-10)


def test_ma_acf_cuts_off_after_lag_q_and_ar_pacf_after_lag_p():
    n = 5000
    band = 1.96 / np.sqrt(n)
    r = ts.acf(ts.simulate_ma(n, [0.6, 0.4], seed=18), 10)
    assert r[2] > 5 * band and np.all(np.abs(r[3:]) < 2 * band)
    phi = ts.pacf(ts.simulate_ar(n, [0.5, -0.4], seed=19), 10)
    assert abs(phi[2]) > 5 * band and np.all(np.abs(phi[3:]) < 2 * band)


def test_ar1_acf_decays_geometrically():
    r = ts.acf(ts.simulate_ar(20000, [0.7], seed=20), 4)
    assert r == pytest.approx(0.7 ** np.arange(5), abs=0.03)


def test_pacf_is_the_last_yule_walker_coefficient():
    x = ts.simulate_arma(300, [0.5], [0.4], seed=21)
    phi = ts.pacf(x, 4)
    assert phi[0] == 1 and phi[1] == pytest.approx(ts.acf(x, 1)[1])
    for k in range(1, 5):
        assert phi[k] == pytest.approx(ts.fit_ar(x, k, "yule-walker").ar[-1])


def test_nlags_must_fit_the_series():
    with pytest.raises(ValueError, match="nlags"):
        ts.acf(np.arange(5.0), 5)


# -- prediction and forecasts ---------------------------------------------------------------
def test_ar_forecast_by_hand_and_decay_to_the_mean():
    m = ts.ARMAResult(const=1.0, ar=[0.5, -0.2])
    x = np.array([0.0, 2.0, 3.0])
    f1 = 1.0 + 0.5 * 3.0 - 0.2 * 2.0
    f2 = 1.0 + 0.5 * f1 - 0.2 * 3.0
    assert ts.forecast(m, x, 2) == pytest.approx([f1, f2])
    assert ts.forecast(m, x, 200)[-1] == pytest.approx(m.mean)


def test_ma_forecast_uses_the_last_shock_then_the_mean():
    m = ts.ARMAResult(const=2.0, ar=[], ma=[0.5])
    x = np.array([3.0, 1.0])        # eps_0 = 3 - 2 = 1; eps_1 = 1 - (2 + 0.5 * 1) = -1.5
    assert ts.forecast(m, x, 3) == pytest.approx([2.0 - 0.75, 2.0, 2.0])


def test_predict_is_one_step_ahead_and_aligned():
    m = ts.ARMAResult(const=0.3, ar=[0.6, 0.1])
    x = ts.simulate_ar(30, [0.6, 0.1], const=0.3, seed=22)
    expected = 0.3 + 0.6 * x[1:-1] + 0.1 * x[:-2]
    assert ts.predict(m, x) == pytest.approx(expected)


def test_forecast_checks_its_arguments():
    m = ts.ARMAResult(const=0.0, ar=[0.5, 0.1])
    with pytest.raises(ValueError, match="steps"):
        ts.forecast(m, np.ones(5), 0)
    with pytest.raises(ValueError, match="at least 2"):
        ts.forecast(m, np.ones(1), 3)


# -- behaviour-log series -------------------------------------------------------------------
DAY = 86400


def test_daily_counts_of_one_behaviour_keep_empty_days():
    t = np.array([5, 10, 2 * DAY + 1, 2 * DAY + 2, 3 * DAY + 7, 100])
    b = np.array([3, 1, 3, 3, 1, 3])
    assert ts.daily_counts(t, b, 3).tolist() == [2, 0, 2, 0]
    assert ts.daily_counts(t, b, 1).tolist() == [1, 0, 0, 1]


def test_daily_counts_starts_at_the_first_event_day_and_takes_names():
    t = np.array([10 * DAY + 3.5, 12 * DAY, 12 * DAY + 1])
    b = np.array(["browse", "purchase", "purchase"])
    assert ts.daily_counts(t, b, "purchase").tolist() == [0, 0, 2]
    assert ts.daily_counts(t, b, "purchase", seconds_per_day=2 * DAY).tolist() == [0, 2]


def test_daily_counts_rejects_mismatched_tables():
    with pytest.raises(ValueError, match="equal length"):
        ts.daily_counts(np.arange(3), np.arange(4), 1)
    with pytest.raises(ValueError, match="empty"):
        ts.daily_counts(np.array([]), np.array([]), 1)
