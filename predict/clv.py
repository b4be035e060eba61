"""Customer lifetime value: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

Own implementation on scipy of

- the BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005, "Counting your
  customers the easy way: an alternative to the Pareto/NBD model", Marketing
  Science 24(2)): while alive a customer buys at Poisson rate lambda
  (lambda ~ Gamma(r, alpha)); after every purchase she drops out with probability
  p (p ~ Beta(a, b));
- the Gamma-Gamma model of the average transaction value (Fader, Hardie and Lee
  2005, "RFM and CLV: using iso-value curves for customer base analysis", JMR
  42(4); Fader and Hardie 2013, "The Gamma-Gamma model of monetary value").

Inputs per customer, in the usual convention: `frequency` x = number of repeat
purchases (purchase days after the first), `recency` t_x = time from the first to
the last purchase, `age` T = time from the first purchase to the end of the
observation period, `monetary` = mean value of the repeat purchases. Any time unit
works (the CDNOW reference uses weeks); the rate parameter alpha is in that unit.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

# Published maximum-likelihood estimates on the CDNOW sample (2 357 customers,
# 39-week calibration period, time in weeks).
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_BGNBD_LOGLIK = -9582.4
# Fader and Hardie (2013), the same customers with at least one repeat purchase.
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


LOG_BOUND = 12.0


class FitError(RuntimeError):
    """The optimiser did not converge."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    n_customers: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    loglik: float
    n_customers: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _as_arrays(*columns) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows and their counts: the likelihood only needs each pattern once."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def bgnbd_loglik(
    params: tuple[float, float, float, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """Log-likelihood of each customer under BG/NBD (FHL 2005, equation 6)."""
    r, alpha, a, b = params
    x, t_x, big_t = frequency, recency, age
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    # ln(a / (b + x - 1)) - (r + x) ln(alpha + t_x), only where x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (
        np.log(a)
        - np.log(b + x[repeat] - 1)
        - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return a1 + a2 + np.logaddexp(a3, a4)


class _GroupedRft:
    """Distinct (x, t_x, T) triples and their counts, with each triple's index
    into the distinct values of x, of t_x and of T (a few dozen, a few thousand):
    each evaluation of the likelihood computes gammaln and log on those only,
    and the per-triple work is gathers and one logaddexp."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> None:
        (self.x, t_values, big_t_values), self.weight = _compress(x, t_x, big_t)
        self.xs, self.ix = np.unique(self.x, return_inverse=True)
        self.ts, self.it = np.unique(t_values, return_inverse=True)
        self.big_ts, self.ibig_t = np.unique(big_t_values, return_inverse=True)
        self.repeat = self.x > 0

    def loglik(self, params) -> float:
        """The BG/NBD log-likelihood of all customers (as `bgnbd_loglik`)."""
        r, alpha, a, b = params
        xs = self.xs
        per_x = (
            special.gammaln(r + xs)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.gammaln(a + b)
            + special.gammaln(b + xs)
            - special.gammaln(b)
            - special.gammaln(a + b + xs)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            repeat_term = np.log(a) - np.log(b + xs - 1)  # used where x > 0 only
        r_x = r + self.x
        a3 = -r_x * np.log(alpha + self.big_ts)[self.ibig_t]
        a4 = np.where(
            self.repeat,
            repeat_term[self.ix] - r_x * np.log(alpha + self.ts)[self.it],
            -np.inf,
        )
        return float(np.dot(self.weight, per_x[self.ix] + np.logaddexp(a3, a4)))


def fit_bgnbd(frequency, recency, age) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters (optimised on the log scale), on the
    distinct (x, t_x, T) triples weighted by their counts: the same likelihood
    as the sum over customers, at the cost of the triples."""
    x, t_x, big_t = _as_arrays(frequency, recency, age)
    _check_rft(x, t_x, big_t)
    grouped = _GroupedRft(x, t_x, big_t)
    scale = float(np.mean(big_t)) or 1.0

    def objective(log_params: np.ndarray) -> float:
        value = -grouped.loglik(np.exp(log_params))
        return value / len(x) if np.isfinite(value) else 1e30

    starts = [np.log([1.0, scale, 1.0, 1.0]), np.log([0.5, scale / 10, 0.5, 5.0])]
    result = _minimise(objective, starts)
    r, alpha, a, b = np.exp(result.x)
    loglik = grouped.loglik((r, alpha, a, b))
    return BgNbdParams(float(r), float(alpha), float(a), float(b), loglik, len(x))


def _minimise(objective, starts: list[np.ndarray]) -> optimize.OptimizeResult:
    """L-BFGS-B from each start (log-parameters bounded to [-12, 12]), then a
    Nelder-Mead polish of the best; deterministic. Nelder-Mead alone can stall in
    a flat region (a, b -> infinity with a / (a + b) fixed) of the BG/NBD
    likelihood, far below the maximum."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(starts[0])
    best = None
    for start in starts:
        result = optimize.minimize(
            objective,
            start,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000},
        )
        if best is None or result.fun < best.fun:
            best = result
    polished = optimize.minimize(
        objective,
        best.x,
        method="Nelder-Mead",
        options={"maxiter": 2000, "xatol": 1e-7, "fatol": 1e-10},
    )
    if polished.fun < best.fun and np.all(np.abs(polished.x) <= LOG_BOUND):
        best = polished
    if not np.isfinite(best.fun) or best.fun >= 1e29:
        raise FitError(f"maximum likelihood did not converge: {best.message}")
    return best


def _check_rft(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> None:
    if len(x) == 0:
        raise FitError("no customers to fit")
    if (
        np.any(x < 0)
        or np.any(t_x < 0)
        or np.any(t_x > big_t + 1e-9)
        or np.any((x == 0) & (t_x != 0))
    ):
        raise FitError("need 0 <= recency <= age, and recency = 0 when frequency = 0")


def p_alive(params: BgNbdParams, frequency, recency, age) -> np.ndarray:
    """P(still active at the end of the period | x, t_x, T) (FHL 2005, eq. 11)."""
    x, t_x, big_t = _as_arrays(frequency, recency, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    out = np.ones_like(x)
    repeat = x > 0
    xr = x[repeat]
    log_ratio = (
        np.log(a)
        - np.log(b + xr - 1)
        + (r + xr) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
    )
    out[repeat] = 1.0 / (1.0 + np.exp(log_ratio))
    return out


def expected_purchases(
    params: BgNbdParams, horizon: float, frequency, recency, age
) -> np.ndarray:
    """E[purchases in (T, T + horizon] | x, t_x, T] (FHL 2005, equation 10)."""
    x, t_x, big_t = _as_arrays(frequency, recency, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-7:
        # removable singularity at a = 1 (0 / 0): the function is continuous there
        a = 1.0 + 1e-7
    t = float(horizon)
    z = t / (alpha + big_t + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    power = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
    numerator = (a + b + x - 1) / (a - 1) * (1.0 - power * hyp)
    repeat = x > 0
    ratio = np.zeros_like(x)
    ratio[repeat] = np.exp(
        np.log(a)
        - np.log(b + x[repeat] - 1)
        + (r + x[repeat])
        * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
    )
    value = numerator / (1.0 + ratio)
    return np.maximum(value, 0.0)


def unconditional_expected_purchases(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)] for a customer who made her first purchase at time 0 (eq. 9)."""
    t = np.asarray(t, dtype=float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def gamma_gamma_loglik(
    params: tuple[float, float, float], frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """Log-likelihood of the mean repeat value m of x > 0 purchases."""
    p, q, gamma = params
    x, m = frequency, monetary
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(frequency, monetary) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters on customers with x > 0, m > 0."""
    x, m = _as_arrays(frequency, monetary)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) == 0:
        raise FitError("no customers with repeat purchases to fit Gamma-Gamma")
    (ux, um), weight = _compress(x, m)
    mean_m = float(np.mean(m))

    def objective(log_params: np.ndarray) -> float:
        value = -np.sum(weight * gamma_gamma_loglik(np.exp(log_params), ux, um))
        return value / len(x) if np.isfinite(value) else 1e30

    starts = [np.log([1.0, 2.0, mean_m]), np.log([5.0, 5.0, mean_m])]
    result = _minimise(objective, starts)
    p, q, gamma = np.exp(result.x)
    loglik = float(np.sum(weight * gamma_gamma_loglik((p, q, gamma), ux, um)))
    return GammaGammaParams(float(p), float(q), float(gamma), loglik, len(x))


def expected_average_value(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """E[M | m, x]: the mean value of future purchases, shrunk towards the
    population mean (p gamma / (q - 1)) the fewer repeat purchases there are."""
    x, m = _as_arrays(frequency, monetary)
    p, q, gamma = params.p, params.q, params.gamma
    m = np.where(x > 0, np.nan_to_num(m), 0.0)
    return (gamma + m * x) * p / (p * x + q - 1)


# --- CDNOW reference data ------------------------------------------------------


def _lifetimes_datasets() -> Path:
    """Folder of the CDNOW files bundled with the `lifetimes` package (only its data
    files are used, so its code need not import)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the CDNOW reference data comes with the `lifetimes` package: "
            "pip install --no-deps lifetimes"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def cdnow_summary() -> pd.DataFrame:
    """The CDNOW sample as used by FHL 2005: one row per customer (2 357), x,
    t_x, T in weeks and zbar, the mean value of the repeat purchases."""
    frame = pd.read_csv(
        _lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv"
    )
    return frame.rename(
        columns={"x": "frequency", "t_x": "recency", "T": "age", "zbar": "monetary"}
    )


def cdnow_transactions() -> pd.DataFrame:
    """The raw CDNOW sample: customer_id, date, cds, value (1997-01 to 1998-06)."""
    frame = pd.read_csv(
        _lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "cds", "value"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame[["customer_id", "date", "cds", "value"]]
