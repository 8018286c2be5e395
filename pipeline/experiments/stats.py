"""Experiment statistics: lift of a variant against control, its interval and p-value, and SRM.

Every comparison is of two **samples** (one per variant: n units, the mean of the metric and its
variance per unit). A conversion rate p = converted / presented over independent presentations is
the mean of a 0/1 metric, its variance p(1 - p); a value per presentation has the sample variance
(ddof 1).

* **Per customer** (the report): control is drawn per customer, and a customer decided on nights
  closer than the conversion window converts several presentations with one purchase, so the
  presentations are not independent; the customers are. Over a variant's K customers, with m_i the
  customer's presentations and d_i their metric (converted presentations, or value), the rate is the
  ratio r = sum d / sum m and its delta-method variance per customer
  (var(d) - 2 r cov(d, m) + r^2 var(m)) / mean(m)^2 (GrowthBook's ratio metrics, gbstats'
  RatioStatistic); the sample is (K, r, that variance). With ddof 0 (population moments: the rate)
  and every m_i = 1 it is p(1 - p) exactly; with ddof 1 (a value) the sample variance.

* **Absolute lift** m1 - m0, standard error se = sqrt(v1/n1 + v0/n0) (unpooled).
* **Relative lift** (m1 - m0) / m0 by the **delta method**: se = sqrt(v1/(m0^2 n1) + v0 m1^2/(m0^4 n0)),
  which counts the uncertainty of the control's mean too.
* The interval is estimate +- t(1 - alpha/2, dof) * se and the p-value is the two-sided t test of
  estimate / se, both with the Welch-Satterthwaite degrees of freedom
  dof = (v1/n1 + v0/n0)^2 / ((v1/n1)^2/(n1-1) + (v0/n0)^2/(n0-1)): the interval excludes 0 exactly
  when p < alpha. This is GrowthBook's frequentist engine (gbstats), checked against it in the tests.
* **Sequential** (always valid; a team may look every day): the mixture sequential probability
  ratio test (Waudby-Smith et al., 2023, arXiv 2103.06476v7; as gbstats): with N = n1 + n0,
  s^2 = se^2 N and rho^2 = (-2 ln alpha + ln(1 - 2 ln alpha)) / tuning (their eq. 161), the half
  width is s sqrt(2 (N rho^2 + 1) ln(sqrt(N rho^2 + 1) / alpha) / (N rho)^2) (eq. 9) and the p-value
  the inverse of the mixture's e-value (eq. 155),
  min(1, sqrt(N rho^2 + 1) exp(-rho^2 N^2 (estimate/s)^2 / (2 (N rho^2 + 1)))), that is
  min(1, sqrt(N rho^2 + 1) exp(-rho^2 N (estimate/se)^2 / (2 (N rho^2 + 1)))).
  ``tuning`` is the sample size at which the interval is tightest (default 5000).
* **Sample-ratio mismatch**: Pearson's chi-square of the observed control / treated counts against
  the configured control share (1 degree of freedom); flagged when p < 0.001.

Inputs are counts and moments, never rows; undefined results (no data, fewer than 2 in a sample,
an arm without variance: a rate of 0 or 1, a control mean of 0 for relative lifts) are NaN, where
gbstats gives its uninformative default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05
SEQUENTIAL_TUNING = 5000.0
SRM_ALPHA = 0.001
NAN = float("nan")


@dataclass(frozen=True)
class Lift:
    lift: float
    low: float
    high: float
    p_value: float


UNDEFINED = Lift(NAN, NAN, NAN, NAN)


@dataclass(frozen=True)
class Sample:
    """One variant's metric: presented customers, the mean per presented customer, its variance.

    ``base`` is the unadjusted mean when ``mean`` is adjusted (CUPED, pipeline/experiments/cuped.py):
    a relative lift is over the control's unadjusted mean. None: the mean itself."""

    n: int
    mean: float
    variance: float
    base: float | None = None

    @property
    def unadjusted(self) -> float:
        return self.mean if self.base is None else self.base


def proportion(converted: int, presented: int) -> Sample:
    """A conversion rate as a sample of 0/1 outcomes (variance p(1 - p))."""
    p = converted / presented if presented else NAN
    return Sample(presented, p, p * (1 - p))


@dataclass(frozen=True)
class Ratio:
    """One variant's metric per customer (the unit of randomisation): over its n customers, the sums of
    each customer's presentations m and metric d (converted presentations, or value), of their
    squares and of their products m d."""

    n: int
    m: float
    m_sq: float
    d: float
    d_sq: float
    md: float


def ratio(r: Ratio, ddof: int = 0) -> Sample:
    """The metric per presentation, sum d / sum m, as a sample of the r.n customers with the delta
    method's variance per customer; moments with ``ddof`` (0: population, a rate; 1: sample, a value).
    NaN without customers or presentations (the variance also when n <= ddof)."""
    if r.n == 0 or r.m == 0:
        return Sample(r.n, NAN, NAN)
    mean = r.d / r.m
    if r.n <= ddof:
        return Sample(r.n, mean, NAN)
    var_m, var_d = covariance(r.n, r.m, r.m, r.m_sq, ddof), covariance(r.n, r.d, r.d, r.d_sq, ddof)
    cov, per = covariance(r.n, r.m, r.d, r.md, ddof), r.m / r.n
    return Sample(r.n, mean, max((var_d - 2 * mean * cov + mean * mean * var_m) / (per * per), 0.0))


def covariance(n: int, a: float, b: float, ab: float, ddof: int) -> float:
    """The covariance of a and b over n units from their sums and the sum of their products (the
    variance of a: covariance(n, a, a, sum of squares, ddof))."""
    return (ab - a * b / n) / (n - ddof)


def moments(n: int, total: float, squares: float) -> Sample:
    """A sample from its count, sum and sum of squares (sample variance, ddof 1; NaN below 2)."""
    if n == 0:
        return Sample(0, NAN, NAN)
    mean = total / n
    return Sample(n, mean, max((squares - n * mean * mean) / (n - 1), 0.0) if n > 1 else NAN)


def _estimate(treated: Sample, control: Sample, relative: bool) -> tuple[float, float]:
    """(estimate, variance of the estimate) of the lift, absolute or by the delta method."""
    a, b = control, treated
    if relative:
        m0, m1 = a.unadjusted, b.unadjusted
        var = b.variance / (m0**2 * b.n) + a.variance * m1**2 / (m0**4 * a.n)
        return (b.mean - a.mean) / m0, var
    return b.mean - a.mean, b.variance / b.n + a.variance / a.n


def t_sf(x: float, dof: float) -> float:
    """Student's t survival function, equal to scipy.stats.t.sf: its own formula (scipy.special.stdtr)
    without the generic argument handling around it, which made a lift cost 0.3 ms instead of 10 us."""
    from scipy import special as _sc

    return float(_sc.stdtr(dof, -x))


def t_quantile(q: float, dof: float) -> float:
    """Student's t quantile of 0 < q <= 1, equal to scipy.stats.t.ppf (scipy.special.stdtrit; ``t_sf``)."""
    from scipy import special as _sc

    return float(_sc.stdtrit(dof, q))


def chi2_sf_1(x: float) -> float:
    """The chi-square survival function (1 degree of freedom) of x >= 0, equal to scipy.stats.chi2.sf
    (scipy.special.chdtrc; ``t_sf``)."""
    from scipy import special as _sc

    return float(_sc.chdtrc(1, x))


def welch_dof(treated: Sample, control: Sample) -> float:
    """The Welch-Satterthwaite degrees of freedom of the two samples."""
    a, b = control.variance / control.n, treated.variance / treated.n
    return (a + b) ** 2 / (a * a / (control.n - 1) + b * b / (treated.n - 1))


def _undefined(treated: Sample, control: Sample, relative: bool) -> bool:
    if treated.n < 2 or control.n < 2:
        return True
    if math.isnan(treated.variance) or math.isnan(control.variance):
        return True
    # an arm without variance (a rate of 0 or 1: no conversions, or all) gives no test, as in gbstats:
    # its p(1 - p) of 0 claims its rate is known exactly, so a small control group without a
    # conversion made an A/A test significant in nearly every such world
    if treated.variance <= 0 or control.variance <= 0:
        return True
    # a control mean of 0: no relative lift; nor an absolute one when adjusted (CUPED), whose control
    # variance comes from the covariate alone then (as gbstats: no result with a baseline mean of 0)
    return control.unadjusted == 0 or (relative and control.mean == 0)


def estimate(treated: Sample, control: Sample, relative: bool = False) -> tuple[float, float]:
    """(estimate, its variance) of the lift; NaN when undefined."""
    return (NAN, NAN) if _undefined(treated, control, relative) else _estimate(treated, control, relative)


def lift(treated: Sample, control: Sample, relative: bool = False, alpha: float = ALPHA) -> Lift:
    """The lift of ``treated`` over ``control`` (absolute, or relative to control's mean): estimate,
    1 - alpha interval and two-sided p-value of Welch's t test."""
    if _undefined(treated, control, relative):
        return UNDEFINED
    est, var = _estimate(treated, control, relative)
    if not var > 0:  # a relative lift of a treated mean of 0: the delta method's variance is 0
        return UNDEFINED
    se, dof = math.sqrt(var), welch_dof(treated, control)
    half = t_quantile(1 - alpha / 2, dof) * se
    return Lift(est, est - half, est + half, 2 * t_sf(abs(est) / se, dof))


def sequential(
    treated: Sample,
    control: Sample,
    relative: bool = False,
    alpha: float = ALPHA,
    tuning: float = SEQUENTIAL_TUNING,
) -> Lift:
    """The always-valid (mixture SPRT) interval and p-value of the lift."""
    if _undefined(treated, control, relative):
        return UNDEFINED
    est, var = _estimate(treated, control, relative)
    if not var > 0:  # as in lift
        return UNDEFINED
    n = treated.n + control.n
    rho2 = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / tuning
    k = n * rho2 + 1
    s2 = var * n
    half = math.sqrt(s2 * 2 * k * math.log(math.sqrt(k) / alpha) / (n * n * rho2))
    log_e = rho2 * (est * est * n / var) / (2 * k) - 0.5 * math.log(k)
    return Lift(est, est - half, est + half, math.exp(-log_e) if log_e > 0 else 1.0)


def two_proportions(x1: int, n1: int, x0: int, n0: int, alpha: float = ALPHA) -> Lift:
    """Treated x1/n1 against control x0/n0: the absolute lift of the rates."""
    return lift(proportion(x1, n1), proportion(x0, n0), alpha=alpha)


def welch(mean1: float, var1: float, n1: int, mean0: float, var0: float, n0: int) -> Lift:
    """Difference of means (treated - control) by Welch's t test; var are sample variances (ddof 1)."""
    return lift(Sample(n1, mean1, var1), Sample(n0, mean0, var0))


@dataclass(frozen=True)
class Srm:
    chi2: float
    p_value: float
    mismatch: bool


def srm(control: int, treated: int, control_share: float) -> Srm:
    """Chi-square of the control/treated split against the configured control share."""
    n = control + treated
    if n == 0 or not 0 < control_share < 1:
        return Srm(NAN, NAN, False)
    expected = (n * control_share, n * (1 - control_share))
    chi2 = sum((o - e) ** 2 / e for o, e in zip((control, treated), expected, strict=True))
    p = chi2_sf_1(chi2)
    return Srm(chi2, p, p < SRM_ALPHA)


def srm_drawn(control: int, expected: float, variance: float) -> Srm:
    """Chi-square of the customers held out against their expectation when each customer's side was
    drawn with a share of its own s (a share changed mid-experiment): ``expected`` the sum of the
    customers' s, ``variance`` of s (1 - s). With one share for all, :func:`srm`'s Pearson chi-square."""
    if not variance > 0:
        return Srm(NAN, NAN, False)
    chi2 = (control - expected) ** 2 / variance
    p = chi2_sf_1(chi2)
    return Srm(chi2, p, p < SRM_ALPHA)
