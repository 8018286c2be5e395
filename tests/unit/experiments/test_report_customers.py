"""The report tests per customer, the unit of randomisation (pipeline/experiments/report.py,
sql/experiments/report_counts.sql): over a small `conversions` table in memory whose customers are
presented on several nights (treated ones with changing variants), every cumulative and total row's
lifts equal the delta method over each customer's presentations, computed here from the rows with
numpy (population moments for the rate, sample moments for the value), and CUPED's over the
customers' covariate of their first presentation; the guardrail metric the same."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments import report as experiments_report
from pipeline.experiments.report import build_report
from tests.conftest import example_dict

D1 = dt.date(2026, 1, 1)
NIGHTS, CUSTOMERS = 4, 400
GUARDRAIL = {
    "name": "unsubscribed",
    "experiment": "offer",
    "rules": [{"transaction": "pos", "field": "product", "formula": {"eq": "UNSUBSCRIBE"}}],
    "role": "guardrail",
}
COLUMNS = [
    "date",
    "customer_id",
    "experiment",
    "variant",
    "is_control",
    "converted",
    "value",
    "pre_converted",
]


def world(seed: int = 5) -> pd.DataFrame:
    """Presentations of `offer`: each customer on some of NIGHTS nights, a fifth held out for good, the
    others given discount_10 or discount_20 night by night; a customer's own propensity makes their
    presentations convert together (a purchase converts every open window), the pre-period flag
    varies between their presentations. Windows of the last night are not complete."""
    rng = np.random.default_rng(seed)
    own = rng.beta(0.5, 3, CUSTOMERS)
    held = rng.random(CUSTOMERS) < 0.2
    rows = []
    for i in range(CUSTOMERS):
        for night in range(NIGHTS):
            if rng.random() < 0.6:
                variant = "control" if held[i] else ("discount_10", "discount_20")[rng.integers(2)]
                converted = bool(rng.random() < own[i])
                value = round(float(rng.gamma(2, 10)), 2) if converted else 0.0
                pre = bool(rng.random() < 0.2 + own[i])
                rows.append(
                    (D1 + dt.timedelta(night), f"k{i}", "offer", variant, held[i], converted, value, pre)
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def report(frame: pd.DataFrame, guardrail: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute(sql("experiments/create_conversions"))
    last = D1 + dt.timedelta(NIGHTS - 1)
    for table, part, metric in (("conversions", frame, ""), ("guardrail_conversions", guardrail, "metric, ")):
        con.register("_rows", part)
        con.execute(
            f"INSERT INTO {table} (date, customer_id, experiment, {metric}variant, is_control, converted, "
            "conversions, value, window_start, window_end, window_complete, pre_converted) "
            f"SELECT date, customer_id, experiment, {metric}variant, is_control, converted, converted::INT, "
            "value, date::TIMESTAMP, date::TIMESTAMP + INTERVAL 30 DAY, date < $last, pre_converted "
            "FROM _rows",
            {"last": last},
        )
        con.unregister("_rows")
    data = copy.deepcopy(example_dict())
    data["conversions"]["definitions"].append(GUARDRAIL)
    build_report(con, parse_config(data, "nightjar.yaml", Path(".")))
    return con.execute("SELECT * FROM experiment_report").df()


def per_customer(frame: pd.DataFrame, variant: str, to_date: dt.date) -> pd.DataFrame:
    """Each customer's m (presentations), d (converted), v (value) of ``variant`` up to ``to_date``
    (complete windows), and x: the pre-period flag of their first presentation of the experiment."""
    first = frame.sort_values(["date", "variant"]).groupby("customer_id")["pre_converted"].first()
    counted = frame[(frame.date <= to_date) & (frame.date < D1 + dt.timedelta(NIGHTS - 1))]
    own = counted[counted.variant == variant].groupby("customer_id")
    got = own.agg(m=("converted", "size"), d=("converted", "sum"), v=("value", "sum"))
    return got.assign(x=first.reindex(got.index).astype(float)).astype(float)


def delta(c: pd.DataFrame, outcome: str, ddof: int) -> tuple[float, float]:
    """(rate, per-customer variance) of sum outcome / sum m by the delta method, written out."""
    r = c[outcome].sum() / c.m.sum()
    cov = np.cov(c[outcome], c.m, ddof=ddof)
    return r, (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / c.m.mean() ** 2


def welch(est: float, v1: float, n1: int, v0: float, n0: int) -> tuple[float, float, float, float]:
    se2 = v1 / n1 + v0 / n0
    dof = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))
    half = st.t.ppf(0.975, dof) * np.sqrt(se2)
    return est, est - half, est + half, 2 * st.t.sf(abs(est) / np.sqrt(se2), dof)


def cuped(t: pd.DataFrame, c: pd.DataFrame) -> tuple[float, float, float, float]:
    """The adjusted lift: the linearised outcome l = (d - r m) / mean(m) regressed on x, theta over both
    groups pooled, each group's variance var(l) + theta^2 var(x) - 2 theta cov(l, x) (ddof 0)."""

    def linear(g: pd.DataFrame) -> np.ndarray:
        return ((g.d - g.d.sum() / g.m.sum() * g.m) / g.m.mean()).to_numpy()

    both = pd.concat([t, c])
    theta = np.cov(linear(both), both.x, ddof=0)[0, 1] / np.var(both.x)
    out = []
    for g in (t, c):
        cov = np.cov(linear(g), g.x, ddof=0)
        out.append(
            (
                g.d.sum() / g.m.sum() - theta * g.x.mean(),
                cov[0, 0] + theta**2 * cov[1, 1] - 2 * theta * cov[0, 1],
            )
        )
    (m1, v1), (m0, v0) = out
    return welch(m1 - m0, v1, len(t), v0, len(c))


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    frame = world()
    rng = np.random.default_rng(11)
    guardrail = frame.assign(metric="unsubscribed", converted=rng.random(len(frame)) < 0.3, value=0.0)
    return frame, guardrail, report(frame, guardrail)


def test_every_row_tests_the_customers_by_the_delta_method(built):
    frame, guardrail, got = built
    assert frame.groupby("customer_id").size().max() > 1  # customers repeat: the point of the test
    checked = 0
    for row in got.itertuples():
        data = frame if row.metric == "primary" else guardrail
        to_date = pd.Timestamp(row.to_date).date()
        c = per_customer(data, row.variant, to_date)
        assert (row.customers, row.presented, row.converted) == (len(c), c.m.sum(), c.d.sum())
        assert row.pre_converted == c.x.sum()
        if row.is_control:
            continue
        a = per_customer(data, "control", to_date)
        (r1, v1), (r0, v0) = delta(c, "d", 0), delta(a, "d", 0)
        want = welch(r1 - r0, v1, len(c), v0, len(a))
        assert (row.abs_lift, row.abs_lift_low, row.abs_lift_high, row.p_value) == pytest.approx(
            want, abs=1e-12
        )
        if row.metric == "primary":  # the guardrail has no value
            (w1, u1), (w0, u0) = delta(c, "v", 1), delta(a, "v", 1)
            want = welch(w1 - w0, u1, len(c), u0, len(a))
            got_value = (row.value_lift, row.value_lift_low, row.value_lift_high, row.value_p_value)
            assert got_value == pytest.approx(want, abs=1e-9)
            want = cuped(c, a)
            got_cuped = (
                row.cuped_abs_lift,
                row.cuped_abs_lift_low,
                row.cuped_abs_lift_high,
                row.cuped_p_value,
            )
            assert got_cuped == pytest.approx(want, abs=1e-12)
        checked += 1
    # 2 variants x 2 metrics x (3 cumulative dates + the total), all with lifts
    assert checked == 16


def test_per_customer_intervals_are_wider_than_per_presentation_where_customers_repeat(built):
    frame, _, got = built
    row = got[(got.scope == "total") & (got.metric == "primary") & (got.variant == "discount_20")].iloc[0]
    last = D1 + dt.timedelta(NIGHTS - 2)
    c, a = per_customer(frame, "discount_20", last), per_customer(frame, "control", last)
    p1, p0 = c.d.sum() / c.m.sum(), a.d.sum() / a.m.sum()
    naive = welch(p1 - p0, p1 * (1 - p1), c.m.sum(), p0 * (1 - p0), a.m.sum())
    # 1.09 times as wide here, where a customer's presentations of a variant are fewer than 2 on average
    assert row.abs_lift_high - row.abs_lift_low > 1.05 * (naive[2] - naive[1])


def test_the_wide_value_sums_give_the_bits_of_the_exact_ones(built, monkeypatch):
    """The report's value sums taken apart (as when the values could add up to 1e20: whole parts and
    fractions, sql/experiments/report_counts.sql) give the exact sums' values per presentation, bit for
    bit, and the same rows (the sums of squares and products are doubles added in parallel: their last
    bits vary from run to run either way)."""
    frame, guardrail, _ = built
    # values of ~1e15 with 18 decimals: their sums (~1e16) added as doubles would differ in 2 of 12 rows
    frame = frame.assign(value=frame["value"] * np.random.default_rng(1).random(len(frame)) * 1e14)
    want = report(frame, guardrail)
    monkeypatch.setattr(experiments_report, "EXACT_SUM_LIMIT", 0.0)  # every table summed the wide way
    wide = report(frame, guardrail)
    assert want["value_per_presented"].notna().all() and (want["value_per_presented"] > 0).any()
    assert wide["value_per_presented"].tolist() == want["value_per_presented"].tolist()
    pd.testing.assert_frame_equal(wide, want, check_exact=False, rtol=1e-12)
