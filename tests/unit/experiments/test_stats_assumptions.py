"""What the report's tests assume and do not correct for (README, *What the tests assume*), pinned so
that the README's figures stay true: presentations are taken as independent units, and the totals pool
the presentation dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.report import build_report
from pipeline.experiments.stats import lift, proportion
from tests.conftest import example_dict

WORLDS, CUSTOMERS, NIGHTS = 400, 1000, 28


def aa_rejections(cadence: int, window: int, seed: int = 1) -> float:
    """A/A: customers held out 50/50 for good, each decided on one night in ``cadence`` over NIGHTS
    nights, buying on a day at their own daily rate (Gamma, mean 0.2%); a presentation converts when a
    purchase falls in its ``window``, as `conversions` counts. The share of worlds significant at 0.05."""
    rng = np.random.default_rng(seed)
    rejected = 0
    for _ in range(WORLDS):
        rate = rng.gamma(0.5, 0.004, CUSTOMERS)
        buys = rng.random((CUSTOMERS, NIGHTS + window)) < rate[:, None]
        seen = np.concatenate([np.zeros((CUSTOMERS, 1)), buys.cumsum(axis=1)], axis=1)
        converted = (seen[:, window : window + NIGHTS] - seen[:, :NIGHTS]) > 0
        decided = (np.arange(NIGHTS)[None, :] % cadence) == rng.integers(0, cadence, CUSTOMERS)[:, None]
        held = rng.random(CUSTOMERS) < 0.5
        n1, x1 = decided[~held].sum(), (converted & decided)[~held].sum()
        n0, x0 = decided[held].sum(), (converted & decided)[held].sum()
        rejected += lift(proportion(int(x1), int(n1)), proportion(int(x0), int(n0))).p_value < 0.05
    return rejected / WORLDS


@pytest.mark.parametrize("cadence, low, high", [(1, 0.6, 0.7), (5, 0.27, 0.37), (30, 0.03, 0.09)])
def test_overlapping_windows_make_the_intervals_too_narrow(cadence, low, high):
    # 30-day windows: deciding every night 65% of A/A worlds significant, every 5th night 30%, and
    # with cadence_days at least window_days (no overlap) 4.75%, about the nominal 5%
    assert low <= aa_rejections(cadence, 30) <= high


INSERT = """INSERT INTO conversions (date, customer_id, experiment, variant, is_control, converted,
                conversions, value, window_start, window_end, window_complete)
            SELECT $date, $date::VARCHAR || $variant || i, 'offer', $variant, $variant = 'control',
                   i < $converted, (i < $converted)::INT, 0, $date::TIMESTAMP,
                   $date::TIMESTAMP + INTERVAL 30 DAY, TRUE
            FROM range($presented) t(i)"""


def test_pooling_dates_while_shares_move_and_the_base_rate_drifts_shows_lifts_that_are_not_there():
    # no variant has any effect; the base rate doubles on the second night while the treated share
    # moves from discount_10 to discount_20 (80/20 to 20/80); control is a steady 20%
    con = duckdb.connect()
    con.execute(sql("experiments/create_conversions"))
    d1, d2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    for date, variant, presented, rate in [
        (d1, "control", 2000, 0.05),
        (d1, "discount_10", 6400, 0.05),
        (d1, "discount_20", 1600, 0.05),
        (d2, "control", 2000, 0.10),
        (d2, "discount_10", 1600, 0.10),
        (d2, "discount_20", 6400, 0.10),
    ]:
        values = {
            "date": date,
            "variant": variant,
            "presented": presented,
            "converted": int(presented * rate),
        }
        con.execute(INSERT, values)
    build_report(con, parse_config(example_dict(), "nightjar.yaml", Path(".")))
    got = con.execute(
        "SELECT variant, abs_lift, p_value FROM experiment_report "
        "WHERE scope = 'total' AND metric = 'primary' AND NOT is_control ORDER BY 1"
    ).fetchall()
    assert [(v, round(lift, 6)) for v, lift, _ in got] == [("discount_10", -0.015), ("discount_20", 0.015)]
    assert all(p < 0.005 for _, _, p in got)
