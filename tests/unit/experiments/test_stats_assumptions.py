"""What the report's tests assume (README, *What the tests assume*), pinned so that the README's figures
stay true: the customers are the units (control is drawn per customer), so a customer decided on
nights closer than the conversion window, whose one purchase converts several presentations, keeps
the tests at their level; the totals pool the presentation dates (not corrected for)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.cuped import Paired, cuped
from pipeline.experiments.report import build_report
from pipeline.experiments.stats import Ratio, lift, proportion, ratio, sequential
from tests.conftest import example_dict

WORLDS, CUSTOMERS, NIGHTS, PRE = 400, 1000, 28, 14
TESTS = ("per presentation", "per customer", "relative", "sequential", "value", "cuped")


def _arm(m: np.ndarray, d: np.ndarray, v: np.ndarray, x: np.ndarray) -> dict[str, object]:
    """One arm's samples from its customers' presentations m, converted d, value v, covariate x."""
    keep = m > 0
    m, d, v, x = m[keep], d[keep], v[keep], x[keep]
    conversions = Ratio(int(keep.sum()), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum())
    value = Ratio(int(keep.sum()), m.sum(), (m * m).sum(), v.sum(), (v * v).sum(), (m * v).sum())
    return {
        "presentations": proportion(int(d.sum()), int(m.sum())),
        "rate": ratio(conversions),
        "value": ratio(value, ddof=1),
        "paired": Paired(conversions, x.sum(), x.sum(), (x * d).sum(), (x * m).sum()),
    }


def aa_rejections(cadence: int, window: int, seed: int = 1) -> dict[str, float]:
    """A/A: customers held out 50/50 for good, each decided on one night in ``cadence`` over NIGHTS
    nights, buying on a day at their own daily rate (Gamma, mean 0.2%); a presentation converts when a
    purchase falls in its ``window``, as `conversions` counts, and is worth the customer's basket; the
    CUPED covariate is a purchase in the PRE days before the customer's first presentation. The share
    of worlds significant at 0.05 of each test (TESTS): the rate per presentation (the presentations
    taken as independent) and, as the report tests, per customer (absolute, relative, sequential),
    the value, and CUPED."""
    rng, extra = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    rejected = dict.fromkeys(TESTS, 0)
    for _ in range(WORLDS):
        rate = rng.gamma(0.5, 0.004, CUSTOMERS)
        buys = rng.random((CUSTOMERS, NIGHTS + window)) < rate[:, None]
        seen = np.concatenate([np.zeros((CUSTOMERS, 1)), buys.cumsum(axis=1)], axis=1)
        converted = (seen[:, window : window + NIGHTS] - seen[:, :NIGHTS]) > 0
        decided = (np.arange(NIGHTS)[None, :] % cadence) == rng.integers(0, cadence, CUSTOMERS)[:, None]
        held = rng.random(CUSTOMERS) < 0.5
        before = np.concatenate([extra.random((CUSTOMERS, PRE)) < rate[:, None], buys], axis=1).cumsum(axis=1)
        first = np.where(decided.any(axis=1), decided.argmax(axis=1), 0)
        at = np.arange(CUSTOMERS)
        x = (before[at, first + PRE - 1] - np.where(first > 0, before[at, first - 1], 0) > 0).astype(float)
        m, d = decided.sum(axis=1).astype(float), (converted & decided).sum(axis=1).astype(float)
        v = d * extra.gamma(2.0, 12.5, CUSTOMERS)
        b, a = _arm(m[~held], d[~held], v[~held], x[~held]), _arm(m[held], d[held], v[held], x[held])
        adj_b, adj_a, _ = cuped(b["paired"], a["paired"])  # type: ignore[arg-type]
        p = {
            "per presentation": lift(b["presentations"], a["presentations"]),  # type: ignore[arg-type]
            "per customer": lift(b["rate"], a["rate"]),  # type: ignore[arg-type]
            "relative": lift(b["rate"], a["rate"], relative=True),  # type: ignore[arg-type]
            "sequential": sequential(b["rate"], a["rate"]),  # type: ignore[arg-type]
            "value": lift(b["value"], a["value"]),  # type: ignore[arg-type]
            "cuped": lift(adj_b, adj_a),
        }
        for test, result in p.items():
            rejected[test] += result.p_value < 0.05
    return {test: n / WORLDS for test, n in rejected.items()}


@pytest.mark.parametrize("cadence, low, high", [(1, 0.6, 0.7), (5, 0.27, 0.37), (30, 0.03, 0.09)])
def test_per_customer_tests_keep_their_level_where_windows_overlap(cadence, low, high):
    # 30-day windows. Per presentation: deciding every night 65% of A/A worlds significant, every 5th
    # night 30%, with cadence_days at least window_days (no overlap) 4.75%, about the nominal 5%.
    # Per customer, as the report tests, about 5% in each (a one-sided binomial bound over 400 worlds)
    got = aa_rejections(cadence, 30)
    assert low <= got["per presentation"] <= high
    for test in ("per customer", "relative", "value", "cuped"):
        assert 0.02 <= got[test] <= 0.08, (test, got)
    assert got["sequential"] <= 0.08, got


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
