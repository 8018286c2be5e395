"""CUPED: a variant's mean adjusted by a pre-period covariate of the same customers (regression
adjustment, as GrowthBook's gbstats).

Per variant: n customers, the sums and sums of squares of the metric y (after presentation) and of
the covariate x (the pre-period), and the sum of the products x y. A 0/1 metric (a rate) has the
variance m(1 - m), any other the sample variance (ddof 1); covariances have ddof 1.

* theta = cov(y, x) / var(x), both over the two variants pooled (one theta for both);
* the adjusted mean is mean(y) - theta mean(x), its variance
  var(y) + theta^2 var(x) - 2 theta cov(y, x) (each variant's own moments; 0 where that is below 0,
  which the mix of m(1 - m) and ddof-1 covariances allows when a 0/1 y is almost exactly x);
* the lifts (pipeline/experiments/stats.py) run on the adjusted samples; a relative lift is over the
  control's unadjusted mean. With theta = 0 (no variance of x or y) nothing is adjusted.

The **variance reduction** is 1 - (variance of the adjusted lift) / (variance of the unadjusted one).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.experiments.stats import NAN, Sample


@dataclass(frozen=True)
class Paired:
    """One variant's metric y and its pre-period covariate x: counts and sums."""

    n: int
    y: float
    y_sq: float
    x: float
    x_sq: float
    xy: float
    y_binary: bool = True
    x_binary: bool = True


def _variance(n: int, total: float, squares: float, binary: bool) -> float:
    if n == 0:
        return NAN
    if binary:
        m = total / n
        return m * (1 - m)
    return (squares - total * total / n) / (n - 1) if n > 1 else 0.0


def _covariance(n: int, xy: float, x: float, y: float) -> float:
    return (xy - x * y / n) / (n - 1) if n > 1 else 0.0


def theta(treated: Paired, control: Paired) -> float:
    """The regression coefficient of y on x over both variants pooled (0 when either has no variance)."""
    n = treated.n + control.n
    x, y = treated.x + control.x, treated.y + control.y
    var_x = _variance(n, x, treated.x_sq + control.x_sq, treated.x_binary)
    var_y = _variance(n, y, treated.y_sq + control.y_sq, treated.y_binary)
    if not var_x or not var_y or var_x != var_x or var_y != var_y:
        return 0.0
    return _covariance(n, treated.xy + control.xy, x, y) / var_x


def unadjusted(p: Paired) -> Sample:
    """The metric without adjustment."""
    return Sample(p.n, p.y / p.n if p.n else NAN, _variance(p.n, p.y, p.y_sq, p.y_binary))


def adjusted(p: Paired, t: float) -> Sample:
    """The metric adjusted with ``theta`` t (its mean, variance and unadjusted mean)."""
    if t == 0 or p.n == 0:
        return unadjusted(p)
    var_y, var_x = _variance(p.n, p.y, p.y_sq, p.y_binary), _variance(p.n, p.x, p.x_sq, p.x_binary)
    cov = _covariance(p.n, p.xy, p.x, p.y)
    mean_y = p.y / p.n
    # a 0/1 metric's variance m(1 - m) beside the ddof-1 covariance can leave a tiny negative variance
    # when y is almost exactly x: it is 0 then
    return Sample(p.n, mean_y - t * p.x / p.n, max(var_y + t * t * var_x - 2 * t * cov, 0.0), base=mean_y)


def cuped(treated: Paired, control: Paired) -> tuple[Sample, Sample, float]:
    """(treated, control) adjusted, and theta."""
    t = theta(treated, control)
    return adjusted(treated, t), adjusted(control, t), t
