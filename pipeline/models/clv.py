"""Customer lifetime value: BG/NBD for the repeat purchases and the probability that a customer is
alive, Gamma-Gamma for the spend per purchase, each fitted by maximum likelihood.

The models and their formulas are those of Fader, Hardie and Lee, "Counting your customers the easy
way: an alternative to the Pareto/NBD model" (Marketing Science, 2005) and "RFM and CLV: using
iso-value curves for customer base analysis" (Journal of Marketing Research, 2005). A customer is
summarised by (frequency x: repeat purchase days, recency t_x: from the first to the last purchase,
T: from the first purchase to the end of the calibration window, both in the time unit, and the mean
value m of the repeat purchases). Everything here is vectorised over customers (NumPy/SciPy).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# the optimiser works on log-parameters (all are positive); BFGS to this gradient tolerance gives the
# published CDNOW parameters to five significant digits
_GRADIENT_TOLERANCE = 1e-9
_FAILED = 1e300  # the objective of parameters whose likelihood is not finite


class FitError(RuntimeError):
    """The likelihood could not be maximised (too few customers or repeat purchases)."""


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD: purchases while alive ~ Poisson(lambda), lambda ~ Gamma(r, alpha); after each purchase
    the customer drops out with probability p, p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma: a purchase's value ~ Gamma(p, nu), nu ~ Gamma(q, v) across customers."""

    p: float
    q: float
    v: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _arrays(*values) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in values]


def bgnbd_log_likelihood(params: BgNbd, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood of (x, t_x, T) under BG/NBD (the paper's equation 6)."""
    from scipy import special

    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    still_alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return common + np.logaddexp(still_alive, dropped)


def _maximise(negative_mean_ll, start: np.ndarray, what: str) -> np.ndarray:
    """The log-parameters maximising a mean log-likelihood: BFGS, or Nelder-Mead then BFGS when BFGS
    alone ends where the likelihood is not finite."""
    from scipy import optimize

    with np.errstate(all="ignore"):
        best = optimize.minimize(
            negative_mean_ll, start, method="BFGS", options={"gtol": _GRADIENT_TOLERANCE}
        )
        if not best.fun < _FAILED or not np.all(np.isfinite(best.x)):
            rough = optimize.minimize(negative_mean_ll, start, method="Nelder-Mead")
            best = optimize.minimize(
                negative_mean_ll, rough.x, method="BFGS", options={"gtol": _GRADIENT_TOLERANCE}
            )
    if not best.fun < _FAILED or not np.all(np.isfinite(best.x)):
        raise FitError(f"the {what} likelihood could not be maximised: {best.message}")
    return np.asarray(best.x)


def fit_bgnbd(x, t_x, T) -> BgNbd:
    """BG/NBD by maximum likelihood on customers' (frequency, recency, T)."""
    x, t_x, T = _arrays(x, t_x, T)
    if len(x) < 2 or not np.any(x > 0):
        raise FitError(
            f"BG/NBD needs customers with repeat purchases: {len(x)} customer(s), "
            f"{int(np.sum(x > 0))} with a repeat purchase"
        )

    # each distinct (x, t_x, T) computed once and spread back to every customer: the same values in
    # the same order as computed per customer (elementwise functions of the same inputs), so the
    # same mean and the same fit, for fewer special functions per likelihood
    distinct, inverse = np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)

    def negative(log_params: np.ndarray) -> float:
        ll = bgnbd_log_likelihood(BgNbd(*np.exp(log_params)), *distinct.T)[inverse]
        value = -float(np.mean(ll))
        return value if np.isfinite(value) else _FAILED

    scale = float(np.mean(T)) or 1.0
    return BgNbd(*np.exp(_maximise(negative, np.log([1.0, scale, 1.0, 1.0]), "BG/NBD")))


def runs_off(params: BgNbd, x, t_x, T, scale: float = 10.0) -> bool:
    """Whether a BG/NBD fit lies on the likelihood's ridge to its boundary: scaling r and alpha up
    together (the purchase rates' Gamma narrowing to one rate at the same mean) does not lower the mean
    log-likelihood, so the optimiser stopped at an arbitrary point of it (its place depends on the
    floating point of the machine). An interior maximum loses likelihood there."""
    x, t_x, T = _arrays(x, t_x, T)
    far = BgNbd(params.r * scale, params.alpha * scale, params.a, params.b)
    with np.errstate(all="ignore"):  # every customer's term: 0.12 s for a million, no distinct needed
        here, there = (float(np.mean(bgnbd_log_likelihood(q, x, t_x, T))) for q in (params, far))
    return bool(np.isfinite(there) and there >= here)


def p_alive(params: BgNbd, x, t_x, T) -> np.ndarray:
    """P(the customer is still alive at T | x, t_x, T); 1 for a customer without a repeat purchase."""
    from scipy import special

    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_odds_dead = np.full_like(x, -np.inf)
    log_odds_dead[repeat] = np.log(a / (b + x[repeat] - 1)) + (r + x[repeat]) * np.log(
        (alpha + T[repeat]) / (alpha + t_x[repeat])
    )
    return special.expit(-log_odds_dead)


def _log_hyp2f1(a, b, c, z) -> np.ndarray:
    """log 2F1(a, b; c; z) for 0 <= z < 1, through Euler's transformation where 2F1 overflows."""
    from scipy import special

    with np.errstate(all="ignore"):
        direct = np.log(special.hyp2f1(a, b, c, z))
        euler = np.log(special.hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
    return np.where(np.isfinite(direct), direct, euler)


def expected_purchases(params: BgNbd, t, x, t_x, T) -> np.ndarray:
    """E[purchases in the next t time units | x, t_x, T] (the paper's equation 10)."""
    from scipy import special

    x, t_x, T = _arrays(x, t_x, T)
    t = float(t)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    log_ratio = (r + x) * np.log((alpha + T) / (alpha + T + t))
    log_h = _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
    with np.errstate(all="ignore"):
        logged = (a + b + x - 1) / (a - 1) * -np.expm1(log_h + log_ratio)
        # 2F1 is negative where its c = a + b + x - 1 is (a + b < 1, no repeat purchase): no log then
        linear = (
            (a + b + x - 1)
            / (a - 1)
            * (1 - special.hyp2f1(r + x, b + x, a + b + x - 1, z) * np.exp(log_ratio))
        )
    unconditional = np.where(np.isfinite(logged), logged, linear)
    return unconditional * p_alive(params, x, t_x, T)


def gamma_gamma_log_likelihood(params: GammaGamma, x, m) -> np.ndarray:
    """Each customer's log-likelihood of the mean value m of x repeat purchases (x > 0)."""
    return _gamma_gamma_terms(*_arrays(x, m))(params)


def _gamma_gamma_terms(x: np.ndarray, m: np.ndarray):
    """The Gamma-Gamma log-likelihood of (x, m) as a function of the parameters, with what does not
    depend on them (the logs of x and m) computed once and the gamma functions of p·x once per
    distinct x: elementwise the same values in the same order, so the same likelihood to the bit."""
    from scipy import special

    log_m, log_x = np.log(m), np.log(x)
    xs, inverse = np.unique(x, return_inverse=True)

    def log_likelihood(params: GammaGamma) -> np.ndarray:
        p, q, v = params.p, params.q, params.v
        px, p_xs = p * x, p * xs
        return (
            special.gammaln(p_xs + q)[inverse]
            - special.gammaln(p_xs)[inverse]
            - special.gammaln(q)
            + q * np.log(v)
            + (px - 1) * log_m
            + px * log_x
            - (px + q) * np.log(x * m + v)
        )

    return log_likelihood


def fit_gamma_gamma(x, m) -> GammaGamma:
    """Gamma-Gamma by maximum likelihood on the customers with a repeat purchase of positive value."""
    x, m = _arrays(x, m)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 2:
        raise FitError(f"Gamma-Gamma needs customers with a repeat purchase of positive value: {len(x)}")
    log_likelihood = _gamma_gamma_terms(x, m)

    def negative(log_params: np.ndarray) -> float:
        value = -float(np.mean(log_likelihood(GammaGamma(*np.exp(log_params)))))
        return value if np.isfinite(value) else _FAILED

    start = np.log([1.0, 2.0, float(np.mean(m))])
    return GammaGamma(*np.exp(_maximise(negative, start, "Gamma-Gamma")))


def expected_spend(params: GammaGamma, x, m) -> np.ndarray:
    """E[the value of a purchase | x repeat purchases of mean value m] = p (v + x m) / (p x + q - 1);
    the population mean p v / (q - 1) for a customer without a repeat purchase. NaN where p x + q <= 1
    (a customer without a repeat purchase when q <= 1: spend so heavy-tailed that its mean diverges),
    where the formula's denominator is not positive."""
    x, m = _arrays(x, m)
    p, q, v = params.p, params.q, params.v
    m = np.where(x > 0, m, 0.0)
    denominator = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, p * (v + x * m) / denominator, np.nan)
