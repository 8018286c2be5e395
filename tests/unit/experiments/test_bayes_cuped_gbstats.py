"""CUPED and the Bayesian results equal GrowthBook's gbstats on the same counts, to 1e-9: CUPED of
customers presented once each with sample moments (ddof 1) as gbstats' regression adjustment of count
metrics (per customer with several presentations gbstats 0.8.0 has no regression-adjusted ratio;
tests/unit/experiments/test_report_customers.py checks the report's against the linearisation written
out)."""

from __future__ import annotations

import itertools
import math

import pytest

from pipeline.experiments.bayesian import posterior
from pipeline.experiments.cuped import Paired, cuped, once, unadjusted
from pipeline.experiments.stats import estimate, lift, proportion

# (n, y, x, xy) of 0/1 metric y and 0/1 pre-period covariate x: treated, control
BINARY = [((500, 60, 80, 30), (500, 40, 75, 22)), ((240, 31, 50, 17), (131, 4, 20, 3))]
# (n, y, y_sq, x, x_sq, xy) of a value metric and a value covariate
VALUES = [
    (
        (800, 9_500.0, 410_000.0, 9_000.0, 380_000.0, 350_000.0),
        (780, 8_200.0, 390_000.0, 8_600.0, 370_000.0, 330_000.0),
    )
]
RATES = [((60, 500), (40, 500)), ((31, 240), (4, 131)), ((1200, 9000), (1100, 9100))]


def _paired(s: tuple) -> Paired:
    """Customers presented once each (m = 1): their outcome y and covariate x."""
    if len(s) == 4:
        n, y, x, xy = s
        return once(n, y, y, x, x, xy)
    return once(*s)


def _stat(s: tuple) -> dict:
    """gbstats' regression-adjusted statistic of count metrics (sample moments, as ddof 1 here)."""
    n, y, y_sq, x, x_sq, xy = (s[0], s[1], s[1], s[2], s[2], s[3]) if len(s) == 4 else s
    return {
        "n": n,
        "post": {"n": n, "sum": y, "sum_squares": y_sq},
        "pre": {"n": n, "sum": x, "sum_squares": x_sq},
        "xy": xy,
    }


CUPED_CASES = list(itertools.product(BINARY + VALUES, [False, True]))
BAYES_CASES = list(itertools.product(RATES, [False, True]))


@pytest.fixture(scope="module")
def references(gbstats) -> tuple[list[dict], list[dict]]:
    cuped_refs = gbstats(
        [
            {
                "test": "frequentist",
                "relative": r,
                "alpha": 0.05,
                "tuning": 0.0,
                "a": _stat(a),
                "b": _stat(b),
            }
            for (b, a), r in CUPED_CASES
        ]
    )
    bayes_refs = gbstats(
        [
            {
                "test": "bayesian",
                "relative": r,
                "alpha": 0.05,
                "tuning": 0.0,
                "a": {"n": a[1], "sum": a[0]},
                "b": {"n": b[1], "sum": b[0]},
            }
            for (b, a), r in BAYES_CASES
        ]
    )
    return cuped_refs, bayes_refs


@pytest.mark.parametrize("case", range(len(CUPED_CASES)))
def test_cuped_equals_gbstats(references, case):
    (b, a), relative = CUPED_CASES[case]
    treated, control, _ = cuped(_paired(b), _paired(a), ddof=1)
    got, ref = lift(treated, control, relative=relative), references[0][case]
    assert got.lift == pytest.approx(ref["expected"], abs=1e-9)
    assert (got.low, got.high) == pytest.approx((ref["low"], ref["high"]), abs=1e-9)
    assert got.p_value == pytest.approx(ref["p_value"], abs=1e-9)


def test_cuped_reduces_the_variance_when_the_pre_period_correlates():
    b, a = _paired(VALUES[0][0]), _paired(VALUES[0][1])
    treated, control, theta = cuped(b, a)
    assert theta > 0
    assert estimate(treated, control)[1] < estimate(unadjusted(b), unadjusted(a))[1]


@pytest.mark.parametrize("case", range(len(BAYES_CASES)))
def test_bayesian_equals_gbstats(references, case):
    (b, a), relative = BAYES_CASES[case]
    got, ref = posterior(proportion(*b), proportion(*a), relative=relative), references[1][case]
    assert got.mean == pytest.approx(ref["expected"], abs=1e-9)
    assert (got.low, got.high) == pytest.approx((ref["low"], ref["high"]), abs=1e-9)
    assert got.chance_to_beat_control == pytest.approx(ref["chance_to_win"], abs=1e-9)
    assert [got.loss_control, got.loss_variant] == pytest.approx(list(ref["risk"]), abs=1e-9)


# (n, y, x, xy) edge cases: a control without conversions (whose pre-period varies), a treated arm
# without conversions, or with all of them
CUPED_EDGES = [
    ((1200, 170, 120, 80), (400, 0, 40, 0)),
    ((1200, 0, 120, 0), (400, 40, 40, 24)),
    ((1200, 1200, 120, 120), (400, 40, 40, 24)),
]


def test_cuped_edge_cases_give_gbstats_results_or_none_where_gbstats_gives_none(gbstats):
    """A control rate of 0 gives no CUPED test (gbstats: no result), absolute or relative, though the
    adjusted control mean is not 0 and its variance is not 0: it claimed a lift at p < 1e-35."""
    cases = [(b, a, r) for b, a in CUPED_EDGES for r in (False, True)]
    refs = gbstats(
        [
            {"test": "frequentist", "relative": r, "alpha": 0.05, "tuning": 0.0}
            | {"a": _stat(a), "b": _stat(b)}
            for b, a, r in cases
        ]
    )
    for (b, a, relative), ref in zip(cases, refs, strict=True):
        treated, control, _ = cuped(_paired(b), _paired(a), ddof=1)
        got = lift(treated, control, relative=relative)
        values = (got.lift, got.low, got.high)
        if ref["error"]:
            assert all(math.isnan(v) for v in (*values, got.p_value)), (b, a, relative, got)
        else:
            assert values == pytest.approx((ref["expected"], ref["low"], ref["high"]), abs=1e-9)
            assert got.p_value == pytest.approx(ref["p_value"], abs=1e-9)
