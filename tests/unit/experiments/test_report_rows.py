"""The report's rows from aggregated counts (pipeline/experiments/report.py, no warehouse): CUPED and
Bayesian columns are the pure functions' results, corrections run across variants x metrics (equal to
statsmodels' multipletests to 1e-12), and a guardrail moving significantly the worse way fails the
experiment."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from pipeline.config import parse_config
from pipeline.experiments import stats
from pipeline.experiments.bayesian import posterior
from pipeline.experiments.cuped import cuped, once
from pipeline.experiments.report import COMPLETE, _rows
from tests.conftest import example_dict

DAY = dt.date(2026, 1, 8)
GUARDRAIL = {
    "name": "unsubscribed",
    "experiment": "offer",
    "rules": [{"transaction": "pos", "field": "product", "formula": {"eq": "UNSUBSCRIBE"}}],
    "role": "guardrail",
    "worse": "increase",
}


def config(correction: str = "holm", worse: str = "increase"):
    data = copy.deepcopy(example_dict())
    data["conversions"]["definitions"].append({**GUARDRAIL, "worse": worse})
    data["analysis"] = {"correction": correction}
    return parse_config(data, "nightjar.yaml", Path("."))


def counts(metric: str, variant: str, presented: int, converted: int, pre: int, both: int) -> dict:
    """The sums of ``presented`` customers presented once each (report_counts.sql)."""
    return dict(
        experiment="offer",
        metric=metric,
        variant=variant,
        is_control=variant == "control",
        from_date=DAY,
        to_date=DAY,
        presented=presented,
        converted=converted,
        value_sum=25.0 * converted,
        value_sq=625.0 * converted,
        in_progress=0,
        capped=0,
        undrawn=0,
        control_of="",
        customers=presented,
        presented_sq=presented,
        converted_sq=converted,
        presented_converted=converted,
        presented_value=25.0 * converted,
        pre_converted=pre,
        pre_and_converted=both,
        pre_and_presented=pre,
    )


FRAME = pd.DataFrame(
    [
        counts("primary", "control", 400, 40, 40, 24),
        counts("primary", "discount_10", 1200, 170, 120, 80),
        counts("primary", "discount_20", 1200, 260, 125, 95),
        counts("primary", "free_shipping", 1200, 118, 118, 70),
        counts("unsubscribed", "control", 400, 8, 0, 0),
        counts("unsubscribed", "discount_10", 1200, 27, 0, 0),
        counts("unsubscribed", "discount_20", 1200, 60, 0, 0),  # 5% against 2%: significantly worse
        counts("unsubscribed", "free_shipping", 1200, 25, 0, 0),
    ]
)


def by(rows, metric, variant):
    return next(r for r in rows if r["metric"] == metric and r["variant"] == variant)


# the customers of the sample-ratio check: 400 held out, 1,200 treated, all first presented on DAY, their
# sides drawn with the experiment's share (none recorded)
CUSTOMERS = pd.DataFrame(
    {
        "experiment": ["offer"] * 2,
        "arm": [""] * 2,
        "is_control": [True, False],
        "date": [DAY] * 2,
        "control_share": [None] * 2,
        "customers": [400, 1200],
    }
)


def test_cuped_and_bayesian_columns_are_the_pure_functions_results():
    rows = _rows(FRAME, config(), "total", COMPLETE, CUSTOMERS)
    row, control = by(rows, "primary", "discount_20"), by(rows, "primary", "control")
    t, c = once(1200, 260, 260, 125, 125, 95), once(400, 40, 40, 40, 40, 24)
    adj_t, adj_c, theta = cuped(t, c)
    lift, rel = stats.lift(adj_t, adj_c), stats.lift(adj_t, adj_c, relative=True)
    assert row["cuped_theta"] == theta and theta > 0
    assert (row["cuped_abs_lift"], row["cuped_abs_lift_low"], row["cuped_abs_lift_high"]) == (
        lift.lift,
        lift.low,
        lift.high,
    )
    assert row["cuped_p_value"] == lift.p_value
    assert (row["cuped_rel_lift"], row["cuped_rel_lift_low"], row["cuped_rel_lift_high"]) == (
        rel.lift,
        rel.low,
        rel.high,
    )
    raw = stats.estimate(stats.proportion(260, 1200), stats.proportion(40, 400))[1]
    assert row["cuped_variance_reduction"] == pytest.approx(
        1 - stats.estimate(adj_t, adj_c)[1] / raw, abs=1e-15
    )
    assert 0.1 < row["cuped_variance_reduction"] < 1
    # the adjusted interval is narrower than the unadjusted one
    assert row["cuped_abs_lift_high"] - row["cuped_abs_lift_low"] < row["abs_lift_high"] - row["abs_lift_low"]
    post = posterior(stats.proportion(260, 1200), stats.proportion(40, 400))
    assert (
        row["chance_to_beat_control"],
        row["expected_loss"],
        row["credible_low"],
        row["credible_high"],
    ) == (
        post.chance_to_beat_control,
        post.loss_variant,
        post.low,
        post.high,
    )
    assert row["pre_converted"] == 125 and "cuped_abs_lift" not in control
    # a metric without pre-period conversions is not adjusted: theta 0, no variance reduction
    guard = by(rows, "unsubscribed", "discount_20")
    assert guard["cuped_theta"] == 0 and guard["cuped_variance_reduction"] == 0
    assert guard["cuped_abs_lift_low"] == guard["abs_lift_low"]


@pytest.mark.parametrize("method, reference", [("holm", "holm"), ("bh", "fdr_bh")])
def test_corrections_run_across_variants_and_metrics(method, reference):
    rows = [r for r in _rows(FRAME, config(method), "total", COMPLETE, CUSTOMERS) if not r["is_control"]]
    assert len(rows) == 6  # 3 variants x 2 metrics
    expected = multipletests([r["p_value"] for r in rows], method=reference)[1]
    assert [r["p_value_adjusted"] for r in rows] == pytest.approx(list(expected), abs=1e-12)
    assert all(r["significant_adjusted"] == (r["p_value_adjusted"] < 0.05) for r in rows)


def test_a_guardrail_moving_the_worse_way_fails_the_experiment():
    rows = _rows(FRAME, config(worse="increase"), "total", COMPLETE, CUSTOMERS)
    assert by(rows, "unsubscribed", "discount_20")["significant"]
    assert {r["guardrail_failed"] for r in rows} == {True}  # every row of the experiment says so
    # the same movement of a guardrail whose harmful direction is a decrease is no failure
    assert {
        r["guardrail_failed"] for r in _rows(FRAME, config(worse="decrease"), "total", COMPLETE, CUSTOMERS)
    } == {False}
    # nor is a guardrail that does not move significantly
    calm = FRAME.copy()
    calm.loc[(calm.metric == "unsubscribed") & (calm.variant == "discount_20"), "converted"] = 25
    assert {r["guardrail_failed"] for r in _rows(calm, config(), "total", COMPLETE, CUSTOMERS)} == {False}


def test_undefined_lifts_are_empty_not_zero():
    frame = FRAME[FRAME.metric == "primary"].copy()
    frame.loc[frame.variant == "control", ["converted", "pre_converted", "pre_and_converted"]] = 0
    row = by(_rows(frame, config(), "total", COMPLETE, CUSTOMERS), "primary", "discount_20")
    # a control rate of 0 (no variance): no test, absolute or relative, adjusted or not, nor a posterior
    assert row["rel_lift"] is None and row["cuped_rel_lift"] is None and row["chance_to_beat_control"] is None
    assert row["abs_lift"] is None and row["p_value"] is None and row["cuped_abs_lift"] is None
    assert row["significant"] is False and row["p_value_adjusted"] is None
