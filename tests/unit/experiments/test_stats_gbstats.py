"""The lifts, intervals and p-values equal GrowthBook's gbstats (frequentist and sequential engines; per
customer also the Bayesian one) on the same counts, to 1e-9."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pipeline.experiments.bayesian import posterior
from pipeline.experiments.stats import Ratio, Sample, lift, moments, proportion, ratio, sequential

# (treated converted, presented), (control converted, presented); the second is a small control
# group like the demo's (few responders), where the delta method matters most
RATES = [((60, 500), (40, 500)), ((31, 240), (4, 131)), ((1200, 9000), (1100, 9100)), ((3, 40), (7, 55))]
# (n, sum, sum of squares) of a value per presented customer
MEANS = [((800, 9_500.0, 410_000.0), (780, 8_200.0, 390_000.0)), ((45, 300.0, 6_100.0), (30, 150.0, 2_900.0))]
CASES = list(itertools.product(["frequentist", "sequential"], [False, True], [0.05, 0.1]))


def _stat(s: tuple) -> dict:
    return {"n": s[1], "sum": s[0]} if len(s) == 2 else {"n": s[0], "sum": s[1], "sum_squares": s[2]}


def _sample(s: tuple) -> Sample:
    return proportion(s[0], s[1]) if len(s) == 2 else moments(*s)


def _tuning(alpha: float) -> float:
    return 5000.0 if alpha == 0.05 else 800.0


@pytest.fixture(scope="module")
def references(gbstats) -> list[dict]:
    """gbstats' results of every case and pair, in one run (importing gbstats takes seconds)."""
    return gbstats(
        [
            {"test": t, "relative": r, "alpha": al, "tuning": _tuning(al), "a": _stat(a), "b": _stat(b)}
            for t, r, al in CASES
            for b, a in RATES + MEANS
        ]
    )


@pytest.mark.parametrize("case", range(len(CASES)))
def test_equal_to_gbstats(references, case):
    test, relative, alpha = CASES[case]
    pairs = RATES + MEANS
    refs = references[case * len(pairs) : (case + 1) * len(pairs)]
    for (b, a), ref in zip(pairs, refs, strict=True):
        if test == "sequential":
            got = sequential(_sample(b), _sample(a), relative=relative, alpha=alpha, tuning=_tuning(alpha))
        else:
            got = lift(_sample(b), _sample(a), relative=relative, alpha=alpha)
        assert got.lift == pytest.approx(ref["expected"], abs=1e-9)
        assert (got.low, got.high) == pytest.approx((ref["low"], ref["high"]), abs=1e-9)
        assert got.p_value == pytest.approx(ref["p_value"], abs=1e-9)


def test_a_small_control_group_is_not_significant_on_the_relative_scale():
    # 31/240 against 4/131: the absolute interval over the control rate claimed a sure win
    b, a = proportion(31, 240), proportion(4, 131)
    naive, rel = lift(b, a), lift(b, a, relative=True)
    assert naive.low / a.mean > 1.5 and naive.p_value < 0.001  # the control rate taken as known
    assert rel.low < 0 < rel.high and rel.p_value > 0.1  # its uncertainty counted
    assert (rel.low, rel.high) == pytest.approx((-1.09584, 7.55625), abs=1e-5)


# edge cases: (treated converted, presented), (control converted, presented): an arm without
# conversions or with all of them (its rate's variance p(1 - p) is 0), tiny and unequal groups
EDGES = [
    ((0, 500), (40, 500)),
    ((500, 500), (40, 500)),
    ((40, 500), (0, 500)),
    ((40, 500), (500, 500)),
    ((0, 500), (0, 500)),
    ((0, 500), (500, 500)),
    ((9, 900), (0, 100)),
    ((0, 3), (1, 3)),
    ((1, 2), (1, 2)),
    ((5, 100_000), (2, 100)),
]
EDGE_KINDS = list(itertools.product(["frequentist", "sequential", "bayesian"], [False, True]))


def test_edge_cases_give_gbstats_results_or_none_where_gbstats_gives_none(gbstats):
    """Where gbstats has no result (its uninformative default: an arm without variance, a control mean
    of 0) the lift is undefined (NaN: empty in the report, not 0); elsewhere it equals gbstats."""
    cases = [(t, r, b, a) for t, r in EDGE_KINDS for b, a in EDGES]
    refs = gbstats(
        [
            {"test": t, "relative": r, "alpha": 0.05, "tuning": 5000.0, "a": _stat(a), "b": _stat(b)}
            for t, r, b, a in cases
        ]
    )
    defined = 0
    for (test, relative, b, a), ref in zip(cases, refs, strict=True):
        want = (ref["expected"], ref["low"], ref["high"])
        if test == "bayesian":
            post = posterior(_sample(b), _sample(a), relative=relative)
            got = (post.mean, post.low, post.high)
        else:
            r = (lift if test == "frequentist" else sequential)(_sample(b), _sample(a), relative=relative)
            got, want = (r.lift, r.low, r.high, r.p_value), (*want, ref["p_value"])
        if ref["error"]:
            assert all(math.isnan(v) for v in got), (test, relative, b, a, got)
        else:
            defined += 1
            assert got == pytest.approx(want, abs=1e-9), (test, relative, b, a, got, ref)
    assert defined == 2 * len(EDGE_KINDS)  # (1, 2) against (1, 2) and the large unequal groups


def _customers(seed: int, n: int, rate: float, value: bool = False) -> tuple:
    """Per-customer sums (n, m, m^2, d, d^2, m d) of n customers presented m >= 1 times each, d their
    converted presentations (their own propensity: they convert together) or, with ``value``, value."""
    rng = np.random.default_rng(seed)
    m = 1 + rng.poisson(1.5, n)
    d = rng.binomial(m, rng.beta(1, 1 / rate - 1, n)).astype(float)
    if value:
        d = d * rng.gamma(2.0, 12.5, n)
    return n, float(m.sum()), float((m * m).sum()), float(d.sum()), float((d * d).sum()), float((m * d).sum())


# treated, control: rates with customers presented several times; a small control group; values
RATIOS = [
    (_customers(1, 600, 0.12), _customers(2, 580, 0.10)),
    (_customers(3, 240, 0.13), _customers(4, 70, 0.05)),
    (_customers(5, 400, 0.10, value=True), _customers(6, 380, 0.10, value=True)),
]
RATIO_KINDS = list(itertools.product(["frequentist", "sequential", "bayesian"], [False, True], [0.05, 0.1]))


def _ratio_stat(s: tuple) -> dict:
    n, m, m_sq, d, d_sq, md = s
    return {
        "n": n,
        "numerator": {"n": n, "sum": d, "sum_squares": d_sq},
        "denominator": {"n": n, "sum": m, "sum_squares": m_sq},
        "product": md,
    }


def test_per_customer_ratios_equal_gbstats_ratio_statistic(gbstats):
    """Per customer (the report): the ratio sum d / sum m with the delta method's variance, as gbstats'
    RatioStatistic of two count metrics (its sample moments: ddof 1), through the frequentist,
    sequential and Bayesian engines, absolute and relative."""
    cases = [(k, r, al, b, a) for k, r, al in RATIO_KINDS for b, a in RATIOS]
    refs = gbstats(
        [
            {
                "test": k,
                "relative": r,
                "alpha": al,
                "tuning": _tuning(al),
                "a": _ratio_stat(a),
                "b": _ratio_stat(b),
            }
            for k, r, al, b, a in cases
        ]
    )
    for (kind, relative, alpha, b, a), ref in zip(cases, refs, strict=True):
        treated, control = ratio(Ratio(*b), ddof=1), ratio(Ratio(*a), ddof=1)
        assert not ref["error"]
        if kind == "bayesian":
            post = posterior(treated, control, relative=relative, alpha=alpha)
            got: tuple = (post.mean, post.low, post.high, post.chance_to_beat_control)
            want: tuple = (ref["expected"], ref["low"], ref["high"], ref["chance_to_win"])
            assert [post.loss_control, post.loss_variant] == pytest.approx(list(ref["risk"]), abs=1e-9)
        else:
            test = lift if kind == "frequentist" else sequential
            extra = {} if kind == "frequentist" else {"tuning": _tuning(alpha)}
            r = test(treated, control, relative=relative, alpha=alpha, **extra)
            got, want = (
                (r.lift, r.low, r.high, r.p_value),
                (ref["expected"], ref["low"], ref["high"], ref["p_value"]),
            )
        assert got == pytest.approx(want, abs=1e-9), (kind, relative, alpha)


def test_customers_presented_once_give_the_per_presentation_figures():
    # every m_i = 1: population moments give the rate's p(1 - p), sample moments the value's variance
    for (x1, n1), (x0, n0) in RATES:
        per_customer = [ratio(Ratio(n, n, n, x, x, x)) for x, n in ((x1, n1), (x0, n0))]
        per_presentation = [proportion(x1, n1), proportion(x0, n0)]
        for relative in (False, True):
            got, want = lift(*per_customer, relative=relative), lift(*per_presentation, relative=relative)
            assert (got.lift, got.low, got.high, got.p_value) == pytest.approx(
                (want.lift, want.low, want.high, want.p_value), rel=1e-12, abs=1e-15
            )
    for b, a in MEANS:
        got = lift(*(ratio(Ratio(n, n, n, s, sq, s), ddof=1) for n, s, sq in (b, a)))
        want = lift(moments(*b), moments(*a))
        assert (got.lift, got.low, got.high, got.p_value) == pytest.approx(
            (want.lift, want.low, want.high, want.p_value), rel=1e-12, abs=1e-15
        )
    # population against sample moments: the variance (n - 1) / n of gbstats'
    n = RATIOS[0][0][0]
    assert ratio(Ratio(*RATIOS[0][0])).variance == pytest.approx(
        ratio(Ratio(*RATIOS[0][0]), ddof=1).variance * (n - 1) / n, rel=1e-12
    )
