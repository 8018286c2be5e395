"""Bayesian results of a lift (GrowthBook's gbstats Bayesian engine, its default improper prior):
the posterior of the lift is normal with the estimate as its mean and the estimate's standard error
(pipeline/experiments/stats.py: unpooled, the delta method for relative lifts) as its sd.

* **chance to beat control**: P(lift > 0) = Phi(mean / sd);
* **expected loss** of shipping the variant: E[max(-lift, 0)] = sd phi(mean/sd) - mean Phi(-mean/sd)
  (and of keeping control: E[max(lift, 0)]);
* the **credible interval**: the alpha/2 and 1 - alpha/2 quantiles of the posterior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.experiments.stats import ALPHA, NAN, Sample, estimate


@dataclass(frozen=True)
class Posterior:
    mean: float
    low: float
    high: float
    chance_to_beat_control: float
    loss_variant: float  # expected loss of shipping the variant
    loss_control: float  # expected loss of keeping control


def posterior(treated: Sample, control: Sample, relative: bool = True, alpha: float = ALPHA) -> Posterior:
    from scipy import stats as _st

    mean, var = estimate(treated, control, relative)
    if math.isnan(mean) or not var > 0:
        return Posterior(NAN, NAN, NAN, NAN, NAN, NAN)
    sd = math.sqrt(var)
    z = mean / sd
    pdf, below = float(_st.norm.pdf(z)), float(_st.norm.cdf(-z))
    return Posterior(
        mean=mean,
        low=float(_st.norm.ppf(alpha / 2, mean, sd)),
        high=float(_st.norm.ppf(1 - alpha / 2, mean, sd)),
        chance_to_beat_control=float(_st.norm.sf(-z)),
        loss_variant=sd * pdf - mean * below,
        loss_control=sd * pdf + mean * (1 - below),
    )
