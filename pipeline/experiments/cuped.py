"""CUPED: a variant's metric adjusted by a pre-period covariate of the same customers (regression
adjustment, as GrowthBook's gbstats), per customer, the unit of randomisation.

Per variant, over its customers (pipeline/experiments/stats.py ``Ratio``): m_i the customer's
presentations, d_i their metric (converted presentations), and x_i the customer's covariate, measured
before any presentation of the experiment reached them (so it does not depend on the assignment).
The rate r = sum d / sum m is a ratio; the delta method makes it the mean of the linearised outcome
l_i = (d_i - r m_i) / mean(m) (to first order), so the regression adjustment runs on l:

* var(l) = (var(d) - 2 r cov(d, m) + r^2 var(m)) / mean(m)^2 (stats.ratio's variance) and
  cov(l, x) = (cov(d, x) - r cov(m, x)) / mean(m), all with the metric's ``ddof``;
* theta = cov(l, x) / var(x), both over the two variants pooled (one theta for both; 0 when either
  has no variance: nothing is adjusted);
* the adjusted rate is r - theta mean(x), its variance per customer
  var(l) + theta^2 var(x) - 2 theta cov(l, x) (each variant's own moments; 0 if rounding takes it
  below 0); the lifts (stats.py) run on the adjusted samples, a relative lift over the control's
  unadjusted rate.

When every customer has one presentation (m_i = 1) this is gbstats' RegressionAdjustedStatistic of
the outcome on x (with ddof 1, as gbstats' sample moments; checked equal). gbstats 0.8.0 has no
regression-adjusted ratio statistic: the linearisation above is the delta method's, as for the
unadjusted rate.

The **variance reduction** is 1 - (variance of the adjusted lift) / (variance of the unadjusted one).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.experiments.stats import NAN, Ratio, Sample, covariance, ratio


@dataclass(frozen=True)
class Paired:
    """One variant's metric per customer (``ratio``) and each customer's pre-period covariate x: the
    sums over its customers of x, x^2, x d and x m."""

    ratio: Ratio
    x: float
    x_sq: float
    xd: float
    xm: float


def once(n: int, y: float, y_sq: float, x: float, x_sq: float, xy: float) -> Paired:
    """n customers presented once each: the sums of their outcome y and covariate x."""
    return Paired(Ratio(n, n, n, y, y_sq, y), x, x_sq, xy, x)


def _pooled(a: Paired, b: Paired) -> Paired:
    ra, rb = a.ratio, b.ratio
    both = Ratio(ra.n + rb.n, ra.m + rb.m, ra.m_sq + rb.m_sq, ra.d + rb.d, ra.d_sq + rb.d_sq, ra.md + rb.md)
    return Paired(both, a.x + b.x, a.x_sq + b.x_sq, a.xd + b.xd, a.xm + b.xm)


def _moments(p: Paired, ddof: int) -> tuple[float, float, float]:
    """(var(l), var(x), cov(l, x)) of a variant's customers (NaN below ddof + 1 customers)."""
    r = p.ratio
    if r.n <= ddof or r.m == 0:
        return NAN, NAN, NAN
    rate, per = r.d / r.m, r.m / r.n
    cov = (covariance(r.n, r.d, p.x, p.xd, ddof) - rate * covariance(r.n, r.m, p.x, p.xm, ddof)) / per
    return ratio(r, ddof).variance, covariance(r.n, p.x, p.x, p.x_sq, ddof), cov


def theta(treated: Paired, control: Paired, ddof: int = 0) -> float:
    """The regression coefficient of the linearised outcome on x over both variants pooled (0 when
    either has no variance)."""
    var_l, var_x, cov = _moments(_pooled(treated, control), ddof)
    if not var_x > 0 or not var_l > 0:
        return 0.0
    return cov / var_x


def unadjusted(p: Paired, ddof: int = 0) -> Sample:
    """The metric without adjustment."""
    return ratio(p.ratio, ddof)


def adjusted(p: Paired, t: float, ddof: int = 0) -> Sample:
    """The metric adjusted with ``theta`` t (its mean, variance and unadjusted mean)."""
    if t == 0 or p.ratio.n == 0 or p.ratio.m == 0:
        return unadjusted(p, ddof)
    var_l, var_x, cov = _moments(p, ddof)
    rate = p.ratio.d / p.ratio.m
    return Sample(
        p.ratio.n, rate - t * p.x / p.ratio.n, max(var_l + t * t * var_x - 2 * t * cov, 0.0), base=rate
    )


def cuped(treated: Paired, control: Paired, ddof: int = 0) -> tuple[Sample, Sample, float]:
    """(treated, control) adjusted, and theta."""
    t = theta(treated, control, ddof)
    return adjusted(treated, t, ddof), adjusted(control, t, ddof), t
