"""Experiment statistics: hand-computed cases, and agreement with scipy on the same counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from pipeline.experiments.stats import (
    chi2_sf_1,
    lift,
    proportion,
    sequential,
    srm,
    t_quantile,
    t_sf,
    two_proportions,
    welch,
    welch_dof,
)


def test_two_proportions_by_hand():
    # 60/500 treated vs 40/500 control: diff 0.04;
    # unpooled se sqrt(.12*.88/500 + .08*.92/500) = sqrt(0.0003584) = 0.0189315;
    # Welch dof (a + b)^2 / (a^2/499 + b^2/499), a = .1056/500, b = .0736/500
    lift = two_proportions(60, 500, 40, 500)
    assert lift.lift == pytest.approx(0.04, abs=1e-12)
    se = math.sqrt(0.12 * 0.88 / 500 + 0.08 * 0.92 / 500)
    assert se == pytest.approx(0.0189315, abs=1e-7)
    a, b = 0.1056 / 500, 0.0736 / 500
    dof = (a + b) ** 2 / (a * a / 499 + b * b / 499)
    assert dof == pytest.approx(0.1792**2 / (0.1056**2 + 0.0736**2) * 499, abs=1e-9)  # 967.16
    q = st.t.ppf(0.975, dof)
    assert (lift.low, lift.high) == pytest.approx((0.04 - q * se, 0.04 + q * se), abs=1e-12)
    assert lift.p_value == pytest.approx(2 * st.t.sf(0.04 / se, dof), abs=1e-12)
    assert lift.p_value == pytest.approx(0.0348, abs=1e-4)


def test_relative_lift_by_the_delta_method_by_hand():
    # 60/500 vs 40/500: relative lift 0.5; var = .1056/(.08^2 * 500) + .0736 * .12^2/(.08^4 * 500)
    rel = lift(proportion(60, 500), proportion(40, 500), relative=True)
    var = 0.1056 / (0.0064 * 500) + 0.0736 * 0.0144 / (0.08**4 * 500)
    assert var == pytest.approx(0.0330 + 0.051750, abs=1e-6)
    dof = welch_dof(proportion(60, 500), proportion(40, 500))
    half = st.t.ppf(0.975, dof) * math.sqrt(var)
    assert (rel.lift, rel.low, rel.high) == pytest.approx((0.5, 0.5 - half, 0.5 + half), abs=1e-12)
    assert rel.p_value == pytest.approx(2 * st.t.sf(0.5 / math.sqrt(var), dof), abs=1e-12)
    # wider than the absolute interval over the control rate, which takes the control rate as known
    ab = two_proportions(60, 500, 40, 500)
    assert rel.high - rel.low > (ab.high - ab.low) / 0.08


@pytest.mark.parametrize(
    "x1, n1, x0, n0", [(60, 500, 40, 500), (7, 13, 2, 20), (1200, 9000, 1100, 9100), (1, 50, 3, 40)]
)
def test_two_proportions_agrees_with_scipy_welch(x1, n1, x0, n0):
    # a rate is the mean of 0/1 outcomes with variance p(1 - p); Welch's test from those moments
    p1, p0 = x1 / n1, x0 / n0
    ref = st.ttest_ind_from_stats(
        p1, math.sqrt(p1 * (1 - p1)), n1, p0, math.sqrt(p0 * (1 - p0)), n0, equal_var=False
    )
    got = two_proportions(x1, n1, x0, n0)
    assert got.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    # the interval excludes 0 exactly when p < 0.05: the p-value and interval share one error
    assert (got.p_value < 0.05) == (got.low > 0 or got.high < 0)


def test_welch_agrees_with_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2.0, 10.0, 80), rng.gamma(2.0, 8.0, 120)
    lift = welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    ref = st.ttest_ind(a, b, equal_var=False)
    assert lift.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (lift.low, lift.high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert lift.lift == pytest.approx(a.mean() - b.mean(), abs=1e-12)


def test_welch_by_hand():
    # means 5 and 3, variances 4 and 9, n 10 and 10: se = sqrt(0.4 + 0.9) = 1.140175, t = 1.754116,
    # df = 1.3^2 / (0.16/9 + 0.81/9) = 15.68 (Welch-Satterthwaite)
    lift = welch(5.0, 4.0, 10, 3.0, 9.0, 10)
    assert lift.lift == 2.0
    df = 1.69 / (0.16 / 9 + 0.81 / 9)
    assert df == pytest.approx(15.680412, abs=1e-6)
    assert lift.p_value == pytest.approx(2 * st.t.sf(2 / math.sqrt(1.3), df), abs=1e-12)
    assert lift.p_value == pytest.approx(0.0989, abs=1e-4)


def test_srm_agrees_with_scipy_and_flags_a_broken_split():
    ok = srm(205, 795, 0.2)  # expected 200 / 800
    ref = st.chisquare([205, 795], [200, 800])
    assert ok.chi2 == pytest.approx(ref.statistic, abs=1e-9)
    assert ok.chi2 == pytest.approx(25 / 200 + 25 / 800, abs=1e-12)
    assert ok.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert not ok.mismatch
    broken = srm(300, 700, 0.2)  # a 30% control where 20% was configured
    assert broken.mismatch and broken.p_value < 1e-10


def test_undefined_cases_are_nan_not_zero():
    assert math.isnan(two_proportions(0, 0, 3, 10).lift)
    assert math.isnan(welch(1.0, 0.0, 1, 2.0, 1.0, 5).p_value)
    assert math.isnan(srm(0, 0, 0.2).chi2)


def test_a_rate_of_0_or_1_gives_no_test_not_an_error():
    # treated 0/1200 against control 8/400: the treated rate's variance p(1 - p) is 0 (it would be
    # taken as known exactly), and the relative lift's delta-method variance is 0: no test, empty as
    # the README says of an undefined test (as gbstats), where the relative one raised
    # ZeroDivisionError for the whole report. Likewise a control without conversions, or with all.
    for treated, control in [
        (proportion(0, 1200), proportion(8, 400)),
        (proportion(9, 900), proportion(0, 100)),
        (proportion(9, 900), proportion(100, 100)),
    ]:
        for test in (lift, sequential):
            for relative in (False, True):
                got = test(treated, control, relative=relative)
                assert all(math.isnan(v) for v in (got.lift, got.low, got.high, got.p_value))


def test_sequential_by_the_formulas_of_its_docstring():
    # 60/500 vs 40/500, alpha 0.05, tuning 5000: N = 1000, se^2 = .1056/500 + .0736/500, s^2 = se^2 N;
    # half width s sqrt(2 (N rho^2 + 1) ln(sqrt(N rho^2 + 1) / alpha) / (N rho)^2) and p-value
    # min(1, sqrt(N rho^2 + 1) exp(-rho^2 N^2 (estimate / s)^2 / (2 (N rho^2 + 1)))) (N squared: the
    # statistic is the sum N x estimate over its standard deviation s sqrt(N))
    got = sequential(proportion(60, 500), proportion(40, 500))
    n, est, se2 = 1000, 0.04, (0.1056 + 0.0736) / 500
    s2, rho2 = se2 * n, (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 5000
    k = n * rho2 + 1
    half = math.sqrt(s2 * 2 * k * math.log(math.sqrt(k) / 0.05) / (n * n * rho2))
    p = min(1.0, math.sqrt(k) * math.exp(-rho2 * n**2 * est**2 / s2 / (2 * k)))
    assert (got.lift, got.low, got.high) == pytest.approx((est, est - half, est + half), abs=1e-12)
    assert got.p_value == pytest.approx(p, abs=1e-12)
    assert 0.05 < got.p_value < 1  # more conservative than the fixed-horizon test's 0.0348
    # a larger effect: rejected, and its interval (the effects the test does not reject) excludes 0
    strong = sequential(proportion(90, 500), proportion(40, 500))
    assert strong.p_value < 0.05 and strong.low > 0


def test_the_distribution_functions_equal_scipy_stats_exactly():
    """t_sf, t_quantile and chi2_sf_1 call scipy.special as scipy.stats does, without its per-call
    argument handling: the same floats, bit for bit, over the degrees of freedom and statistics a
    test meets (a NaN degree of freedom or statistic gives NaN, as scipy.stats)."""
    rng = np.random.default_rng(7)
    dofs = [*rng.uniform(1, 1e6, 40), *rng.uniform(0.05, 3, 40), 1.0, 2.0, 1e12, math.inf, math.nan]
    xs = [*rng.exponential(3, 40), 0.0, 40.0, math.inf, math.nan]
    qs = [*rng.uniform(0, 1, 20), 0.975, 0.995, 0.5, 1.0]

    def same(got: list[float], want: np.ndarray) -> bool:  # scipy.stats called once per array
        return all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want, strict=True))

    xs += [-x for x in xs]
    for dof in dofs:
        assert same([t_sf(x, dof) for x in xs], st.t.sf(xs, dof))
        assert same([t_quantile(q, dof) for q in qs], st.t.ppf(qs, dof))
    assert same([chi2_sf_1(x) for x in xs if not x < 0], st.chi2.sf([x for x in xs if not x < 0], 1))
