# %%
"""Time series: AR, MA and ARMA simulated, read through ACF/PACF, fitted, forecast, and an LSTM.

Catalogue F1-F4 (document 003 §4.1, §4.4, §5.2). The recursions are computed by hand on printed
shocks, the ARMA erratum (the missing current shock) is shown literally and corrected,
coefficients are recovered by least squares, Yule-Walker and Hannan-Rissanen, a random walk is
refused, a daily purchase count from a behaviour log is fitted and forecast, and an LSTM
regressor on sliding windows is set against the AR forecast on the same held-out days.
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.timeseries.arma as arma_module
import minseq.timeseries.correlation as correlation_module
import minseq.timeseries.fit as fit_module
from minseq import backend, nn, optim
from minseq import timeseries as ts
from minseq.backend import xp
from minseq.data import Batches, MinMaxScaler, sliding_windows
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.train import Trainer

from helpers import EVENTS, Tagger

#: the six shocks the recursions of F1-F3 are computed on by hand
SHOCKS = np.array([0.5, -1.2, 0.3, 0.8, -0.4, 1.1])


class LSTMRegressor(nn.Module):
    """F4 / H3: windows (B, T, 1) -> LSTM -> last hidden state -> Linear -> next value (B, 1),
    trained with MSE. ``loss`` / ``backward_loss`` make it trainable by minseq.train.Trainer."""

    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden)
        self.head = nn.Linear(hidden, 1)
        self.criterion = nn.MSELoss()

    def forward(self, x):
        self._T = x.shape[1]
        _, (h_n, _) = self.lstm(x)                     # h_n = hs[:, -1]: no padding here
        return self.head(h_n)                           # (B, H) -> (B, 1)

    def backward(self, dy):
        dh_n = self.head.backward(dy)                   # (B, H)
        dhs = backend.xp.zeros(dh_n.shape[:1] + (self._T,) + dh_n.shape[1:], dtype=dh_n.dtype)
        dx, _, _ = self.lstm.backward(dhs, (dh_n, None))   # only the final state feeds the head
        return dx

    def loss(self, batch):
        x, y, _ = batch
        return self.criterion(self.forward(x), y)

    def backward_loss(self):
        self.backward(self.criterion.backward())


def recursion_by_hand(L, name, c, ar, ma, eps, current=True):
    """Print X_t = c + sum phi_i X_{t-i} + eps_t + sum theta_j eps_{t-j} term by term
    (without eps_t when ``current`` is False: the document's printed ARMA). eps: the shocks on
    the active backend; the recursion runs there, its numbers come to the host to be printed."""
    x = xp.zeros(len(eps))
    for t in range(len(eps)):
        terms = [f"{c:.1f}"]
        value = xp.asarray(float(c))
        for i, phi in enumerate(ar, 1):
            if t - i >= 0:
                terms.append(f"({phi:+.1f})({float(x[t - i]):.3f})")
                value = value + phi * x[t - i]
        if current:
            terms.append(f"eps_{t} ({float(eps[t]):+.3f})")
            value = value + eps[t]
        for j, theta in enumerate(ma, 1):
            if t - j >= 0:
                terms.append(f"({theta:+.1f})({float(eps[t - j]):+.3f})")
                value = value + theta * eps[t - j]
        x[t] = value
        print(f"  {name} X_{t} = " + " + ".join(terms) + f" = {float(value):.4f}")
    return x


def rmse_by_hand(pred, truth):
    """sqrt(mean((pred - truth)^2)) on the active backend, as a host number to print."""
    return float(xp.sqrt(((backend.asarray(pred) - truth) ** 2).mean()))


def correlogram(ax, values, band, title):
    lags = np.arange(values.size)
    ax.vlines(lags, 0, values, color="C0")
    ax.plot(lags, values, "o", color="C0", ms=3)
    ax.axhspan(-band, band, color="C1", alpha=0.2, label="+-1.96/sqrt(n)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("lag k")


def purchase_log(days, rng):
    """A synthetic event table of ``days`` days: browses and purchases with timestamps in
    seconds, behaviour ids into EVENTS.

    The daily purchase rate wanders as an AR(1) around 30 a day, so the daily counts carry a
    real dependence on yesterday (plus Poisson noise on top)."""
    rate = 30 + ts.simulate_ar(days, [0.8], sigma=4.0, seed=int(rng.integers(1 << 30)))
    purchases = rng.poisson(np.maximum(rate, 1.0))
    browses = rng.poisson(200, size=days)
    day_of = np.concatenate([np.repeat(np.arange(days), purchases),
                             np.repeat(np.arange(days), browses)])
    behaviour = np.concatenate([np.full(purchases.sum(), EVENTS.index("purchase")),
                                np.full(browses.sum(), EVENTS.index("browse"))])
    timestamps = day_of * 86400 + rng.uniform(0, 86400, size=day_of.size)
    order = np.argsort(timestamps)
    return timestamps[order], behaviour[order], purchases


def scale_on_training_days(y, split):
    """C2: min-max scale the whole series with the min and max of the training days y[:split]
    alone, so no held-out day shapes the inputs. Returns (scaler, z)."""
    scaler = MinMaxScaler().fit(y[:split, None])
    return scaler, scaler.transform(y[:, None])[:, 0]


def grade_filter(L, arma_filter):
    """Exercise 1: the student's recursion against the recursions by hand of F1-F3 on the six
    shocks and against minseq's; then inside ts.simulate_arma, where Hannan-Rissanen must
    recover the coefficients of the ARMA(1,1) it simulates."""
    for name, c, ar, ma in (("AR(2)", 0.5, [0.6, -0.3], []), ("MA(2)", 0.0, [], [0.6, 0.4]),
                            ("ARMA(1,1)", 0.0, [0.7], [0.4])):
        by_hand = recursion_by_hand(L, name, c, ar, ma, backend.asarray(SHOCKS))
        L.check_close(f"{name} equals the recursion by hand", arma_filter(SHOCKS, c, ar, ma),
                      by_hand, rtol=1e-12)
    shocks = np.random.default_rng(0).standard_normal(50)
    ar, ma = [0.5, -0.2], [0.3, 0.2]
    L.check_close("ARMA(2,2) with c = 1 on 50 shocks equals minseq's arma_filter",
                  arma_filter(shocks, 1.0, ar, ma), ts.arma_filter(shocks, 1.0, ar, ma),
                  rtol=1e-12)
    with mock.patch.object(arma_module, "arma_filter", arma_filter):
        x = ts.simulate_arma(2000, [0.7], [0.4], seed=2)
    fitted = ts.fit_arma(x, 1, 1)
    L.check("Hannan-Rissanen recovers phi = 0.7 and theta = 0.4 within 0.1 from 2000 values "
            "your filter simulated", abs(fitted.ar[0] - 0.7) < 0.1 and abs(fitted.ma[0] - 0.4)
            < 0.1, f"phi {fitted.ar[0]:.3f}, theta {fitted.ma[0]:.3f}")


def grade_yule_walker(L, durbin_levinson):
    """Exercise 2: the student's Durbin-Levinson on the lesson's AR(2) series against the 2 x 2
    Yule-Walker solve and the first two partial autocorrelations by hand; then inside ts.pacf
    and ts.fit_ar (the PACF must cut off after lag 2, the fit recover phi), and against minseq's
    recursion at order 6."""
    reference = correlation_module.durbin_levinson
    x = ts.simulate_arma(2000, [0.6, -0.4], seed=0)
    g = ts.autocovariance(x, 2)
    phi, partial, v = durbin_levinson(g, 2)
    by_hand = np.linalg.solve([[g[0], g[1]], [g[1], g[0]]], g[1:])
    rho1, rho2 = g[1] / g[0], g[2] / g[0]
    L.check_close("phi equals the 2 x 2 Yule-Walker solve by hand", phi, by_hand)
    L.check_close("phi_11 = rho_1", partial[1], rho1)
    L.check_close("phi_22 = (rho_2 - rho_1^2) / (1 - rho_1^2)", partial[2],
                  (rho2 - rho1 ** 2) / (1 - rho1 ** 2))
    L.check_close("v = gamma_0 - phi . (gamma_1, gamma_2), the shock variance", v,
                  g[0] - by_hand @ g[1:])
    with mock.patch.object(correlation_module, "durbin_levinson", durbin_levinson), \
            mock.patch.object(fit_module, "durbin_levinson", durbin_levinson):
        partial = ts.pacf(x, 12)
        fitted = ts.fit_ar(x, 2, method="yule-walker", check_stationary=False)
    band = 1.96 / np.sqrt(x.size)
    L.check("AR(2): the PACF is clear at lag 2 and inside 1.5 x the band after it",
            abs(partial[2]) > 3 * band and np.abs(partial[3:]).max() < 1.5 * band,
            f"phi_22 {partial[2]:.3f}, |phi_33..phi_12,12| <= {np.abs(partial[3:]).max():.3f}")
    L.check("fit_ar(method='yule-walker') recovers phi = (0.6, -0.4) within 0.1",
            np.abs(fitted.ar - [0.6, -0.4]).max() < 0.1, f"phi {np.round(fitted.ar, 3)}")
    gamma = ts.autocovariance(ts.simulate_arma(2000, [0.7], [0.4], seed=2), 6)
    for name, mine, theirs in zip(("phi", "pacf", "v"), durbin_levinson(gamma, 6),
                                  reference(gamma, 6)):
        L.check_close(f"order 6 on an ARMA(1,1): {name} equals minseq's", mine, theirs)


EXERCISES = [
    Exercise("arma_filter", "Write the ARMA(p, q) recursion X_t = c + sum phi_i X_{t-i} + eps_t "
             "+ sum theta_j eps_{t-j} (F1-F3, the current shock included) on given shocks, "
             "from X = 0 and eps = 0 before time 0.", grade_filter,
             reference=["minseq.timeseries.arma.arma_filter"]),
    Exercise("durbin_levinson", "Solve the Yule-Walker equations of every order 1..p from the "
             "autocovariances (the Durbin-Levinson recursion): the AR(p) coefficients, the "
             "partial autocorrelations phi_kk and the one-step error variance.",
             grade_yule_walker,
             reference=["minseq.timeseries.correlation.durbin_levinson"])]


# %%
L = Lesson(__file__, "Lesson 10 - Time series: AR, MA, ARMA and an LSTM regressor",
           ids=["F1", "F2", "F3", "F4"],
           goals=["compute the AR, MA and ARMA recursions by hand on printed shocks",
                  "tell AR from MA by where the PACF or the ACF cuts off",
                  "see why the document's ARMA, missing eps_t, is not ARMA",
                  "fit AR by least squares and Yule-Walker, ARMA by Hannan-Rissanen",
                  "refuse a non-stationary series, forecast a stationary one",
                  "turn a behaviour log into a daily count series and model it",
                  "train an LSTM regressor on sliding windows and compare it with AR"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
n = 2000 if L.fast else 5000
tol = 0.1 if L.fast else 0.06          # a few standard errors (about 1/sqrt(n)) each
band = 1.96 / np.sqrt(n)
eps = backend.asarray(SHOCKS)       # the hand recursions run on xp, ts on the host


# %% [markdown]
# ### F1: AR(2) by hand
#
# $$ X_t = c + \sum_{i=1..p} phi_i X_{t-i} + eps_t $$

# %%
with L.step("F1: AR(2) by hand", formula="X_t = c + sum_{i=1..p} phi_i X_{t-i} + eps_t"):
    L.say("Start from X = 0 before time 0 and feed six shocks through c = 0.5, "
          "phi = (0.6, -0.3).")
    x_ar = recursion_by_hand(L, "AR(2)", 0.5, [0.6, -0.3], [], eps)
    L.check_close("hand recursion equals ts.arma_filter",
                  ts.arma_filter(SHOCKS, 0.5, [0.6, -0.3]), x_ar, rtol=1e-12)


# %% [markdown]
# ### F2: MA(2) by hand
#
# $$ X_t = c + eps_t + \sum_{i=1..q} theta_i eps_{t-i} $$

# %%
with L.step("F2: MA(2) by hand", formula="X_t = c + eps_t + sum_{i=1..q} theta_i eps_{t-i}"):
    x_ma = recursion_by_hand(L, "MA(2)", 0.0, [], [0.6, 0.4], eps)
    L.check_close("hand recursion equals ts.arma_filter",
                  ts.arma_filter(SHOCKS, 0.0, (), [0.6, 0.4]), x_ma, rtol=1e-12)
    L.say("An MA(2) value is built from the last three shocks only: X_t and X_{t+3} share no "
          "shock, so their correlation is zero. That is the cut-off the ACF shows below.")


# %% [markdown]
# ### F3: ARMA(p, q), and the document's missing current shock
#
# $$ \text{as printed: } X_t = c + sum phi_i X_{t-i} + sum theta_j eps_{t-j} $$
# $$ standard: \quad X_t = c + sum phi_i X_{t-i} + eps_t + sum theta_j eps_{t-j} $$

# %%
with L.step("F3: ARMA(p, q), and the document's missing current shock",
            formula="as printed: X_t = c + sum phi_i X_{t-i} + sum theta_j eps_{t-j}\n"
                    "standard:   X_t = c + sum phi_i X_{t-i} + eps_t + sum theta_j eps_{t-j}"):
    x_arma = recursion_by_hand(L, "ARMA(1,1)", 0.0, [0.7], [0.4], eps)
    L.check_close("hand recursion equals ts.arma_filter",
                  ts.arma_filter(SHOCKS, 0.0, [0.7], [0.4]), x_arma, rtol=1e-12)
    L.say("The printed recursion on the same six shocks (no eps_t):")
    printed = recursion_by_hand(L, "printed ARMA(1,1)", 0.0, [0.7], [0.4], eps,
                                current=False)
    ar1 = ts.arma_filter(SHOCKS, 0.0, [0.7])
    L.check_close("the printed ARMA(1,1) is 0.4 x the AR(1) of the same shocks, one step "
                  "late", printed[1:], 0.4 * ar1[:-1], rtol=1e-12)
    L.say("X_t = 0.7 X_{t-1} + 0.4 eps_{t-1} is an AR(1) delayed by one step and scaled "
          "by theta: the printed ARMA(1,1) has no moving-average part left at all.")
    L.erratum("F3",
              "X_t = c + sum phi_i X_{t-i} + sum theta_j eps_{t-j}",
              "X_t = c + sum phi_i X_{t-i} + eps_t + sum theta_j eps_{t-j}",
              "without eps_t the printed ARMA(p, 0) has no noise at all: it is not the AR(p) "
              "of F1 but a deterministic decay to c / (1 - sum phi), so no data set is fitted "
              "by it. Below: p = 1, phi = 0.7, c = 1, 3000 steps from X = 0.",
              source="document 003 section 4.1.3")
    noise = np.random.default_rng(1).standard_normal(3000)
    literal = xp.zeros(3000)
    for t in range(1, 3000):
        literal[t] = 1.0 + 0.7 * literal[t - 1]          # the printed ARMA(1, 0)
    standard = backend.asarray(ts.arma_filter(noise, 1.0, [0.7]))
    L.show("printed ARMA(1,0), std after step 100    ", literal[100:].std())
    L.show("standard ARMA(1,0) = AR(1), same std     ", standard[100:].std())
    L.show("theory for AR(1): sigma / sqrt(1 - phi^2)", (1 - 0.7 ** 2) ** -0.5)
    L.check("the printed form has (almost) no variance: it is not F1's AR(1)",
            float(literal[100:].std()) < 1e-9 and float(standard[100:].std()) > 1.2)

models = {"AR(2): phi = (0.6, -0.4)": ([0.6, -0.4], []),
          "MA(2): theta = (0.6, 0.4)": ([], [0.6, 0.4]),
          "ARMA(1,1): phi = 0.7, theta = 0.4": ([0.7], [0.4])}
series = {name: ts.simulate_arma(n, ar, ma, seed=k)
          for k, (name, (ar, ma)) in enumerate(models.items())}


# %% [markdown]
# ### ACF and PACF: MA cuts off in the ACF, AR in the PACF
#
# $$ rho_k = \sum_{t} (X_t - m)(X_{t+k} - m) / \sum_{t} (X_t - m)^2 $$
# $$ phi_kk = last coefficient of the best AR(k) predictor (Durbin-Levinson) $$

# %%
with L.step("ACF and PACF: MA cuts off in the ACF, AR in the PACF",
            formula="rho_k = sum_t (X_t - m)(X_{t+k} - m) / sum_t (X_t - m)^2\n"
                    "phi_kk = last coefficient of the best AR(k) predictor (Durbin-Levinson)"):
    nlags = 12
    fig, axes = plt.subplots(3, 3, figsize=(11, 7.5))
    for row, (name, x) in enumerate(series.items()):
        r, phi = ts.acf(x, nlags), ts.pacf(x, nlags)
        print(f"  {name:<34} ACF 1..4 {np.round(r[1:5], 3)}   "
              f"PACF 1..4 {np.round(phi[1:5], 3)}")
        axes[row, 0].plot(x[:200], lw=0.8)
        axes[row, 0].set_title(name, fontsize=9)
        axes[row, 0].set_xlabel("t")
        axes[row, 0].set_ylabel("X_t")
        correlogram(axes[row, 1], r, band, f"ACF of {name.split(':')[0]}")
        correlogram(axes[row, 2], phi, band, f"PACF of {name.split(':')[0]}")
        axes[row, 1].set_ylabel("rho_k")
        axes[row, 2].set_ylabel("phi_kk")
    axes[0, 1].legend(fontsize=7)
    fig.suptitle("Lesson 10: simulated series with their ACF and PACF")
    L.savefig(fig, "acf_pacf")
    ma_acf = ts.acf(series["MA(2): theta = (0.6, 0.4)"], nlags)
    ar_pacf = ts.pacf(series["AR(2): phi = (0.6, -0.4)"], nlags)
    L.show("band 1.96 / sqrt(n)", band)
    L.check("MA(2): ACF is clear at lag 2 and inside 1.5 x the band after it",
            ma_acf[2] > 3 * band and np.abs(ma_acf[3:]).max() < 1.5 * band,
            f"|rho_3..12| <= {np.abs(ma_acf[3:]).max():.3f}")
    L.check("AR(2): PACF is clear at lag 2 and inside 1.5 x the band after it",
            abs(ar_pacf[2]) > 3 * band and np.abs(ar_pacf[3:]).max() < 1.5 * band,
            f"|phi_33..phi_12,12| <= {np.abs(ar_pacf[3:]).max():.3f}")


# %% [markdown]
# ### F1: fitting AR(2) two ways, ARMA(1,1) by Hannan-Rissanen
#
# $$ OLS: \quad X_t ~ [1, X_{t-1}, X_{t-2}], \quad least squares $$
# $$ Yule-Walker: \quad [g0 g1; g1 g0] \phi = [g1; g2], \quad c = m (1 - sum \phi) $$
# $$ Hannan-Rissanen: residuals of a long AR estimate eps_t, then least squares on [1, X_{t-1}, eps_{t-1}] $$

# %%
with L.step("F1: fitting AR(2) two ways, ARMA(1,1) by Hannan-Rissanen",
            formula="OLS:          X_t ~ [1, X_{t-1}, X_{t-2}],  least squares\n"
                    "Yule-Walker:  [g0 g1; g1 g0] phi = [g1; g2],  c = m (1 - sum phi)\n"
                    "Hannan-Rissanen: residuals of a long AR estimate eps_t, then least squares"
                    " on [1, X_{t-1}, eps_{t-1}]"):
    x = series["AR(2): phi = (0.6, -0.4)"]
    ols, yw = ts.fit_ar(x, 2), ts.fit_ar(x, 2, method="yule-walker")
    g = backend.asarray(ts.autocovariance(x, 2))                  # g_0, g_1, g_2
    lag = xp.abs(xp.arange(2)[:, None] - xp.arange(2)[None, :])     # |i - j|
    by_hand = xp.linalg.solve(g[lag], g[1:])           # [g0 g1; g1 g0] phi = [g1; g2]
    print("  true         phi = [ 0.6 -0.4]   sigma2 = 1")
    print(f"  OLS          phi = {np.round(ols.ar, 4)}   sigma2 = {ols.sigma2:.4f}")
    print(f"  Yule-Walker  phi = {np.round(yw.ar, 4)}   sigma2 = {yw.sigma2:.4f}")
    L.check_close("Yule-Walker by hand (2 x 2 solve) equals fit_ar", by_hand, yw.ar)
    L.check(f"both recover phi within {tol}", np.abs(ols.ar - [0.6, -0.4]).max() < tol
            and np.abs(yw.ar - [0.6, -0.4]).max() < tol)
    hr = ts.fit_arma(series["ARMA(1,1): phi = 0.7, theta = 0.4"], 1, 1)
    print(f"  ARMA(1,1) true phi = 0.7, theta = 0.4; Hannan-Rissanen: {hr}")
    L.check(f"Hannan-Rissanen recovers phi and theta within {tol}",
            abs(hr.ar[0] - 0.7) < tol and abs(hr.ma[0] - 0.4) < tol)

    walk = ts.simulate_ar(n, [1.0], burn_in=0, seed=9)
    L.say("A random walk X_t = X_{t-1} + eps_t has no fixed mean or variance. Least squares "
          "would happily return phi close to 1; minseq refuses and says why:")
    try:
        ts.fit_ar(walk, 1)
        refused = False
    except ts.NonStationaryError as err:
        refused = True
        print("  NonStationaryError: " + str(err)[:150] + "...")
    L.check("a random walk is reported as non-stationary, not fitted", refused)
    L.show("Dickey-Fuller statistic, random walk      ", ts.dickey_fuller(walk))
    L.show("Dickey-Fuller statistic, its differences  ", ts.dickey_fuller(np.diff(walk)))
    L.check("its differences are stationary", ts.dickey_fuller(np.diff(walk))
            < ts.DF_CRITICAL_5PCT)


# %% [markdown]
# ### Forecasting: feed each forecast back, future shocks 0
#
# $$ Xhat_{n+1} = c + phi_1 X_n + phi_2 X_{n-1}, \quad Xhat_{n+2} = c + phi_1 Xhat_{n+1} + phi_2 X_n, ... $$
# $$ Xhat_{n+h} \to c / (1 - phi_1 - phi_2) as h grows $$

# %%
with L.step("Forecasting: feed each forecast back, future shocks 0",
            formula="Xhat_{n+1} = c + phi_1 X_n + phi_2 X_{n-1},  "
                    "Xhat_{n+2} = c + phi_1 Xhat_{n+1} + phi_2 X_n, ...\n"
                    "Xhat_{n+h} -> c / (1 - phi_1 - phi_2) as h grows"):
    c, phi, last = float(ols.const), backend.asarray(ols.ar), backend.asarray(x[-2:])
    f1 = c + phi[0] * last[1] + phi[1] * last[0]
    f2 = c + phi[0] * f1 + phi[1] * last[1]
    fc = ts.forecast(ols, x, 30)
    L.show("X_{n-1}, X_n", last)
    L.show("Xhat_{n+1}, Xhat_{n+2} by hand", xp.stack([f1, f2]))
    L.check_close("equal ts.forecast", fc[:2], xp.stack([f1, f2]), rtol=1e-12)
    L.check("the forecast decays to the mean", abs(fc[-1] - ols.mean) < 1e-3,
            f"{fc[-1]:.4f} vs {ols.mean:.4f}")


# %% [markdown]
# ### A series from behaviour data: purchases per day
#
# $$ \mathrm{count}_d = \#\{\text{events with behaviour} = \text{purchase and } \mathrm{day}(t) = d\} $$

# %%
with L.step("A series from behaviour data: purchases per day",
            formula="count_d = #{events with behaviour = purchase and day(t) = d}"):
    rng = np.random.default_rng(5)
    days = 300 if L.fast else 400
    L.say("Not the behaviour log of the other lessons (helpers.behaviour_log): its users "
          "all arrive within its first 30 days and then fade away, so its daily purchases "
          "rise and fall once over about two months, a trend and not the long stationary "
          f"series an AR model needs. This step draws a log of its own, {days} days of "
          "browses and purchases whose daily purchase rate wanders as an AR(1).")
    t, b, purchases = purchase_log(days, rng)
    counts = ts.daily_counts(t, b, behaviour_code=EVENTS.index("purchase"))
    print(f"  {t.size} events over {days} days; purchases on the first days: {counts[:8]}")
    L.check("daily_counts recovers the purchases of every day", np.array_equal(counts,
                                                                                 purchases))
    y = counts.astype(float)
    split = int(0.8 * days)
    ar_model = ts.fit_ar(y[:split], 2)
    print(f"  fitted on the first {split} days: {ar_model}")
    # One-step predictions over the held-out days, each from the true days before it.
    pred = ts.predict(ar_model, y)[split - ar_model.p:]
    y_dev = backend.asarray(y)
    rmse_ar = rmse_by_hand(pred, y_dev[split:])
    rmse_mean = rmse_by_hand(y_dev[:split].mean(), y_dev[split:])
    print(f"  held-out one-step RMSE: AR(2) {rmse_ar:.3f}, training mean {rmse_mean:.3f}")
    L.check("AR(2) beats predicting the training mean on held-out days", rmse_ar < rmse_mean)


# %% [markdown]
# ### Document 003, section 4.4: its LSTM example, with its settings
#
# $$ LSTM(128, \tanh, return_sequences=True) \to Dense(1) at every step, \mathrm{MSE}, Adam $$
# $$ x = rand(time_steps = 10, input_size = 1), y = rand(10, 1), 100 epochs $$

# %%
with L.step("Document 003, section 4.4: its LSTM example, with its settings",
            formula="LSTM(128, tanh, return_sequences=True) -> Dense(1) at every step, MSE, "
                    "Adam\nx = rand(time_steps = 10, input_size = 1), y = rand(10, 1), "
                    "100 epochs"):
    minseq.manual_seed(0)
    doc_rng = np.random.default_rng(44)
    x_doc = backend.asarray(doc_rng.random((10, 1)), dtype=np.float32)
    y_doc = backend.asarray(doc_rng.random((10, 1)), dtype=np.float32)
    model = Tagger(nn.LSTM(1, 128), nn.Linear(128, 1))
    try:
        model(x_doc)
        refused = None
    except ValueError as e:
        refused = str(e)
    L.say(f"As printed, x has shape (10, 1): no batch axis. minseq refuses it: {refused}")
    L.check("the printed x (time_steps, input_size) is refused: a sequence layer needs "
            "(batch, time_steps, input_size)", refused is not None)
    x3, y3 = x_doc[None], y_doc[None]                           # (1, 10, 1): one sequence
    opt, mse = optim.Adam(model, lr=1e-3), nn.MSELoss()          # Keras' Adam default
    losses = []
    for _ in range(100):
        losses.append(float(mse(model(x3), y3)))
        model.backward(mse.backward())
        opt.step()
    L.show("MSE at epochs 1, 25, 50, 100", np.array(losses)[[0, 24, 49, 99]])
    spread = float(y_doc.var())
    L.say(f"With x[None] (1, 10, 1) the example runs: {model.num_parameters()} parameters "
          f"against 10 random targets. The loss falls toward {spread:.4f}, the MSE of "
          "predicting their mean: after 100 epochs the model has learnt little more than "
          "the mean, and whatever more it learns can only be noise. A falling training "
          "loss on random data says nothing about forecasting; F4 below scores held-out "
          "days.")
    L.check("the example's loss falls toward the MSE of the targets' mean",
            losses[-1] < 0.5 * losses[0] and losses[-1] < 2 * spread,
            f"{losses[0]:.4f} -> {losses[-1]:.4f}, mean's MSE {spread:.4f}")


# %% [markdown]
# ### Document 003, section 5.2: its project, with its numbers
#
# $$ np.random.seed(42); \quad x = rand(1000, 10, 10), \quad y = rand(1000, 10, 1) $$
# $$ LSTM(128, \tanh, return_sequences=True) \to Dense(128, \tanh) \to Dense(1), \mathrm{MSE}, Adam(lr 0.001) $$
# $$ fit(x, y, epochs=100, batch_size=32, validation_split=0.2); \quad evaluate(x, y) $$

# %%
with L.step("Document 003, section 5.2: its project, with its numbers",
            formula="np.random.seed(42);  x = rand(1000, 10, 10),  y = rand(1000, 10, 1)\n"
                    "LSTM(128, tanh, return_sequences=True) -> Dense(128, tanh) -> Dense(1), "
                    "MSE, Adam(lr 0.001)\n"
                    "fit(x, y, epochs=100, batch_size=32, validation_split=0.2);  "
                    "evaluate(x, y)"):
    legacy = np.random.RandomState(42)              # np.random.seed(42), then np.random.rand
    x_host = legacy.rand(1000, 10, 10).astype(np.float32)
    y_host = legacy.rand(1000, 10, 1).astype(np.float32)
    n_train = 1000 - int(0.2 * 1000)                # Keras holds out the LAST 20 % of rows
    batches = Batches(x_host[:n_train], y_host[:n_train], batch_size=32, seed=0)
    print(f"    x {x_host.shape}, y {y_host.shape}: {n_train} rows train, "
          f"{1000 - n_train} validate; {len(batches)} batches of 32 per epoch")
    L.check("validation_split=0.2 leaves 800 training rows: 25 batches of 32 an epoch",
            n_train == 800 and len(batches) == 25)
    x_doc, y_doc = backend.asarray(x_host), backend.asarray(y_host)
    y_train, y_valid = y_doc[:n_train], y_doc[n_train:]
    baseline = ((y_valid - y_train.mean()) ** 2).mean()    # predict the training mean
    L.say("x and y are independent uniform noise: nothing in x tells y, so on rows it has "
          "not seen no model beats the training mean, whose MSE is about Var(U(0, 1)) = "
          "1/12.")
    L.show("held-out MSE of the training mean", baseline)
    L.check("the training mean's held-out MSE is about 1/12 = 0.0833",
            abs(float(baseline) - 1 / 12) < 0.1 / 12, f"{float(baseline):.4f}")
    minseq.manual_seed(0)
    model = Tagger(nn.LSTM(10, 128),
                   nn.Sequential(nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1)))
    opt, mse = optim.Adam(model, lr=1e-3), nn.MSELoss()
    epochs = 100 if L.full else (2 if L.fast else 5)
    print(f"    {model.num_parameters()} parameters; {epochs} epochs "
          f"({epochs * len(batches)} Adam steps)"
          + ("" if L.full else ", the document's 100 with --full"))
    train_mse, valid_mse = [], []
    for _ in range(epochs):
        total = 0.0
        for xb, yb, _ in batches:
            total = total + mse(model(xb), yb)        # summed on the device, read per epoch
            model.backward(mse.backward())
            opt.step()
        train_mse.append(float(total) / len(batches))
        valid_mse.append(float(((model(x_doc[n_train:]) - y_valid) ** 2).mean()))
    everything = ((model(x_doc) - y_doc) ** 2).mean()      # evaluate(x, y): 800 seen rows
    print("    epoch  training MSE  held-out MSE")
    for k in sorted({0, epochs // 2, epochs - 1}):
        print(f"    {k + 1:5d}  {train_mse[k]:12.4f}  {valid_mse[k]:12.4f}")
    L.show("evaluate(x, y): MSE over all 1000 rows, 800 of them trained on", everything)
    L.check("the trained model does no better than the training mean on held-out rows",
            valid_mse[-1] > 0.99 * float(baseline),
            f"{valid_mse[-1]:.4f} against {float(baseline):.4f}")
    L.say("The document reports evaluate(x, y), an MSE over 1000 rows of which it trained "
          "on 800: as training goes on (--full) that number creeps below 1/12, the model "
          "memorising noise, while on new rows it never beats the mean. Score held-out rows "
          "only, as F4 does next.")


# %% [markdown]
# ### F4: an LSTM regressor on sliding windows against the AR(2) forecast
#
# $$ windows X_i = y[i : i+w], target y[i+w] (C6), scaled to [0, 1] on the training days (C2) $$
# $$ yhat = W h_w + b, \quad h = LSTM(X_i); \quad loss = \mathrm{MSE}; \quad Adam, lr 0.001 $$

# %%
with L.step("F4: an LSTM regressor on sliding windows against the AR(2) forecast",
            formula=("windows X_i = y[i : i+w], target y[i+w] (C6), scaled to [0, 1] on the "
                     "training days (C2)\n"
                     "yhat = W h_w + b,  h = LSTM(X_i);  loss = MSE;  Adam, lr 0.001")):
    w = 7
    scaler, z = scale_on_training_days(y, split)
    # Here the held-out days stay inside the training range, so fitting on every day would
    # give the same numbers; a spike on the held-out days shows whether the scaler sees them.
    spiked = np.where(np.arange(days) < split, y, 10 * y.max())
    L.check("the scaler's min and max come from the training days alone (a held-out "
            "spike changes no training input)",
            scaler.min_[0] == y[:split].min() and scaler.max_[0] == y[:split].max()
            and np.array_equal(scale_on_training_days(spiked, split)[1][:split], z[:split]))
    X, target = sliding_windows(z, w)                       # X[i] = z[i:i+w], target z[i+w]
    train_rows = np.arange(len(X)) + w < split              # windows whose target is a training day
    test_rows = np.arange(len(X)) + w >= split
    print(f"  {train_rows.sum()} training windows of {w} days, {test_rows.sum()} held out; "
          f"first window {np.round(X[0], 3)} -> {target[0]:.3f}")
    minseq.manual_seed(0)
    model = LSTMRegressor(hidden=16)
    epochs = 40 if L.fast else (300 if L.full else 120)
    lr = 0.01 if L.fast else 0.001       # the document's 0.001; --fast trains fewer epochs
    print(f"  Adam, lr {lr}, {epochs} epochs, batches of 32")
    history = Trainer(model, optim.Adam(model, lr=lr), progress=False).fit(
        Batches(X[train_rows, :, None].astype(np.float32),
                target[train_rows, None].astype(np.float32), batch_size=32, seed=0),
        epochs=epochs)
    model.eval()
    pred_z = backend.to_numpy(model(backend.asarray(X[test_rows, :, None],
                                                    dtype=backend.xp.float32)))
    pred_lstm = scaler.inverse_transform(pred_z)[:, 0]
    rmse_lstm = rmse_by_hand(pred_lstm, y_dev[split:])
    print(f"  training MSE (scaled) {history['train_loss'][0]:.4f} -> "
          f"{history['train_loss'][-1]:.4f} over {epochs} epochs")
    print(f"  held-out one-step RMSE: LSTM {rmse_lstm:.3f}, AR(2) {rmse_ar:.3f}, "
          f"training mean {rmse_mean:.3f}")
    L.check("the LSTM's training loss falls", history["train_loss"][-1]
            < 0.7 * history["train_loss"][0])
    L.check("the LSTM beats predicting the training mean", rmse_lstm < rmse_mean)
    L.say("On a short, nearly linear series the three-parameter AR(2) is hard to beat: the "
          "LSTM has over a thousand weights and learns the same one-step dependence from "
          "a few hundred windows. Its strength is in long, nonlinear, multi-feature "
          "sequences, which an AR cannot express.")

    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.plot(np.arange(days), y, lw=0.8, color="0.5", label="purchases per day")
    ax.plot(np.arange(split, days), pred, color="C0", label=f"AR(2) one step ahead "
            f"(RMSE {rmse_ar:.2f})")
    ax.plot(np.arange(split, days), pred_lstm, color="C2", label=f"LSTM one step ahead "
            f"(RMSE {rmse_lstm:.2f})")
    ax.plot(np.arange(days, days + 20), ts.forecast(ar_model, y, 20), "--", color="C3",
            label="AR(2) forecast, 20 days")
    ax.axvline(split, color="k", lw=0.6, ls=":")
    ax.set_title("Lesson 10: daily purchases from a behaviour log, AR(2) and LSTM fitted on the first 80 %")
    ax.set_xlabel("day")
    ax.set_ylabel("purchases")
    ax.legend(fontsize=8)
    L.savefig(fig, "daily_purchases_ar_lstm")
# %%
conclude(L.finish(
    summary=["AR(p) regresses a value on its own past, MA(q) averages the last q+1 shocks, "
             "ARMA does both; all three are one recursion (ts.arma_filter).",
             "The document's ARMA formula omits the current shock eps_t; taken literally an "
             "ARMA(p, 0) is a noiseless decay, not the AR(p) of F1.",
             "MA(q): the ACF cuts off after lag q. AR(p): the PACF cuts off after lag p.",
             "Least squares and Yule-Walker agree on long stationary series; a random walk "
             "must be differenced first, and minseq says so instead of fitting it.",
             "A forecast feeds its own predictions back and decays to the process mean.",
             "An LSTM regressor (F4) reads sliding windows of the scaled series; on a short "
             "linear series it does about as well as AR(2) with far more parameters."],
    exercises=EXERCISES + [
        "Fit AR(1), AR(2) and AR(5) to the daily purchases: does the held-out RMSE keep "
        "falling? Which PACF lags stand out?",
        "Simulate MA(1) with theta = 0.9 and fit AR(p) for p = 1..8 by Yule-Walker: why "
        "does an MA need many AR terms?",
        "Simulate the printed ARMA(1,1) on 2000 shocks and plot its ACF and PACF beside the "
        "standard ARMA(1,1)'s: which model would you identify?"]))
