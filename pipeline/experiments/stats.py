"""Experiment statistics: lift of a variant against control, its 95% interval and p-value, and SRM.

* **Rates** (converted / presented): absolute lift p1 - p0 with the unpooled (Wald) 95% interval
  (p1 - p0) +- z * sqrt(p1(1-p1)/n1 + p0(1-p0)/n0), and the two-sided p-value of the pooled
  two-proportion z test (the same as a 2x2 chi-square test without continuity correction).
  Relative lift (p1 - p0) / p0, its interval the absolute one divided by p0 (p0 taken as known).
* **Value per presented customer**: Welch's t test (unequal variances) on the means, the 95%
  interval with the Welch-Satterthwaite degrees of freedom.
* **Sample-ratio mismatch**: Pearson's chi-square of the observed control / treated counts against
  the configured control share (1 degree of freedom); flagged when p < 0.001.

Inputs are counts and moments, never rows; undefined results (no data, zero variance) are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st

Z95 = _st.norm.ppf(0.975)
SRM_ALPHA = 0.001
NAN = float("nan")


@dataclass(frozen=True)
class Lift:
    lift: float
    low: float
    high: float
    p_value: float


def two_proportions(x1: int, n1: int, x0: int, n0: int) -> Lift:
    """Treated x1/n1 against control x0/n0: absolute lift, 95% interval, two-sided p-value."""
    if n1 == 0 or n0 == 0:
        return Lift(NAN, NAN, NAN, NAN)
    p1, p0 = x1 / n1, x0 / n0
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    pooled = (x1 + x0) / (n1 + n0)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p = 2 * _st.norm.sf(abs(diff) / se0) if se0 > 0 else NAN
    return Lift(diff, diff - Z95 * se, diff + Z95 * se, p)


def relative(lift: Lift, p0: float) -> Lift:
    """The lift relative to the control rate (interval: the absolute one over p0)."""
    if not p0:
        return Lift(NAN, NAN, NAN, lift.p_value)
    return Lift(lift.lift / p0, lift.low / p0, lift.high / p0, lift.p_value)


def welch(mean1: float, var1: float, n1: int, mean0: float, var0: float, n0: int) -> Lift:
    """Difference of means (treated - control) by Welch's t test; var are sample variances (ddof 1)."""
    if n1 < 2 or n0 < 2:
        return Lift(NAN, NAN, NAN, NAN)
    a, b = var1 / n1, var0 / n0
    se = math.sqrt(a + b)
    diff = mean1 - mean0
    if se == 0:
        return Lift(diff, NAN, NAN, NAN)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1))
    t = diff / se
    half = _st.t.ppf(0.975, df) * se
    return Lift(diff, diff - half, diff + half, 2 * _st.t.sf(abs(t), df))


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
    p = float(_st.chi2.sf(chi2, 1))
    return Srm(chi2, p, p < SRM_ALPHA)
