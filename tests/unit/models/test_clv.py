"""Customer lifetime value: BG/NBD and Gamma-Gamma (pipeline/models/clv.py) on the CDNOW sample,
against the published parameters (Fader, Hardie and Lee 2005) and against lifetimes itself."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import special

from pipeline.models import clv, training
from pipeline.models.config import ModelSpec
from pipeline.models.features import NotEnoughData, TrainingError, TrainingWindow
from pipeline.models.types import Prepared, model_type
from pipeline.models.types import clv as clv_type
from pipeline.models.types.clv import SUMMARY, summarise, values

# "Counting your customers the easy way", table 1 (CDNOW, 39 weeks of calibration)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CALIBRATION_END = dt.date(1997, 10, 1)  # the paper's calibration: 1997-01-01 .. 1997-09-30


def columns(summary: pd.DataFrame) -> list[np.ndarray]:
    return [summary[c].to_numpy(dtype=float) for c in SUMMARY]


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> tuple[clv.BgNbd, clv.GammaGamma]:
    x, t_x, T, m = columns(cdnow_summary)
    return clv.fit_bgnbd(x, t_x, T), clv.fit_gamma_gamma(x, m)


def significant(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def test_bgnbd_reproduces_the_published_cdnow_parameters(fitted) -> None:
    bgnbd, _ = fitted
    got = bgnbd.as_dict()
    assert {k: significant(v) for k, v in got.items()} == {
        k: significant(v) for k, v in PUBLISHED_BGNBD.items()
    }
    for name, published in PUBLISHED_BGNBD.items():  # and to the paper's three decimals
        assert got[name] == pytest.approx(published, abs=6e-4), name


def test_summary_of_the_cdnow_transactions_is_the_published_summary(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    """sql/models/clv/summary.sql in weeks on the raw transactions gives the paper's summary: repeat
    purchase days, recency and T to the published two decimals, the mean repeat spend."""
    tx = cdnow_transactions.assign(customer_id=cdnow_transactions["customer_id"].astype(str))
    with duckdb.connect() as con:
        con.register("_tx", tx)
        con.execute(
            "CREATE TEMP TABLE _qualifying AS SELECT customer_id, day::TIMESTAMP AS occurred_at, value "
            "FROM _tx WHERE day < DATE '1997-10-01'"
        )
        con.execute("CREATE TEMP TABLE _population AS SELECT DISTINCT customer_id FROM _tx")
        got = summarise(con, CALIBRATION_END, "weeks")
    got.index = got.index.astype(int)
    want = cdnow_summary.reindex(got.index)
    assert len(got) == len(cdnow_summary) == 2357
    assert np.array_equal(got["frequency"], want["frequency"])
    for column in ("recency", "T"):
        assert np.abs(got[column] - want[column]).max() <= 0.005 + 1e-9, column
    assert np.abs(got["monetary_value"] - want["monetary_value"]).max() <= 0.005 + 1e-9


def test_summary_is_the_same_bits_whatever_order_the_events_come_in() -> None:
    """A purchase day's events are added up as decimals: the same summary for every order of the rows
    (as doubles, 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in their last bit; ingestion inserts the
    rows of a backfill in no particular order)."""
    rng = np.random.default_rng(7)
    values = [0.1, 0.2, 0.3, 0.7, 1e-3, 123.456, 0.07]
    rows = pd.DataFrame(
        {
            "customer_id": [f"C{i % 40}" for i in range(2_000)],
            "occurred_at": [dt.datetime(2026, 1, 1 + i % 60 // 2) for i in range(2_000)],
            "value": [values[i % len(values)] for i in range(2_000)],
        }
    )
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1  # the doubles themselves depend on the order
    summaries = []
    for order in (np.arange(len(rows)), np.arange(len(rows))[::-1], rng.permutation(len(rows))):
        with duckdb.connect() as con:
            con.register("_events", rows.iloc[order].reset_index(drop=True))
            con.execute("CREATE TEMP TABLE _qualifying AS SELECT * FROM _events")
            con.execute("CREATE TEMP TABLE _population AS SELECT DISTINCT customer_id FROM _events")
            summaries.append(summarise(con, dt.date(2026, 3, 1), "days"))
    assert (summaries[0]["monetary_value"] > 0).all()
    for other in summaries[1:]:
        pd.testing.assert_frame_equal(other, summaries[0], check_exact=True)


def test_p_alive_expected_purchases_and_spend_equal_lifetimes(fitted, cdnow_summary, lifetimes) -> None:
    bgnbd, spend = fitted
    x, t_x, T, m = columns(cdnow_summary)
    horizon = 39.0  # weeks: the paper's holdout
    ref = lifetimes(
        {
            "frequency": x.tolist(),
            "recency": t_x.tolist(),
            "T": T.tolist(),
            "monetary_value": m.tolist(),
            "t": horizon,
            "bgnbd": bgnbd.as_dict(),
            "gamma_gamma": spend.as_dict(),
        }
    )
    # the same formulas: with our parameters, lifetimes' values per customer
    assert np.abs(clv.p_alive(bgnbd, x, t_x, T) - ref["p_alive"]).max() < 1e-6
    assert np.abs(clv.expected_purchases(bgnbd, horizon, x, t_x, T) - ref["expected_purchases"]).max() < 1e-6
    repeat = (x > 0) & (m > 0)
    assert np.abs(clv.expected_spend(spend, x[repeat], m[repeat]) - ref["expected_spend"]).max() < 1e-6
    # the same maximum: lifetimes' own fits agree with ours
    for name, value in bgnbd.as_dict().items():
        assert value == pytest.approx(ref["fitted"]["bgnbd"][name], rel=1e-4), name
    for name, value in spend.as_dict().items():
        assert value == pytest.approx(ref["fitted"]["gamma_gamma"][name], rel=1e-3), name


def test_clv_values_multiply_purchases_by_spend(fitted, cdnow_summary) -> None:
    bgnbd, spend = fitted
    out = values(bgnbd, spend, cdnow_summary[SUMMARY], 39.0)
    assert np.allclose(out["clv"], out["expected_purchases"] * out["expected_spend"])
    assert out["p_alive"].between(0, 1).all()
    never_repeated = cdnow_summary["frequency"] == 0
    assert (out.loc[never_repeated, "p_alive"] == 1).all()
    # without a repeat purchase the spend is the population mean p v / (q - 1)
    assert np.allclose(out.loc[never_repeated, "expected_spend"], spend.p * spend.v / (spend.q - 1))


def test_expected_spend_is_nan_where_its_mean_diverges() -> None:
    """With q <= 1 the population mean p v / (q - 1) diverges: no spend (NaN) for a customer without a
    repeat purchase, never a negative one; a repeat customer's posterior mean stays finite."""
    got = clv.expected_spend(clv.GammaGamma(p=3.0, q=0.7, v=10.0), [0.0, 1.0], [0.0, 5.0])
    assert np.isnan(got[0])
    assert got[1] == pytest.approx(3.0 * (10.0 + 5.0) / (3.0 + 0.7 - 1))


def test_heavy_tailed_spend_leaves_no_negative_clv() -> None:
    """Spend drawn with q = 0.7 (customers' mean values heavy-tailed): the fit has q < 1, and no
    customer's expected spend or clv is negative (those without a repeat purchase have none)."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 3000).astype(float)
    m = rng.gamma(3.0 * x, 1 / rng.gamma(0.7, 1 / 10.0, 3000)) / x
    spend = clv.fit_gamma_gamma(x, m)
    assert spend.q < 1
    summary = pd.DataFrame(
        {"frequency": [0.0, 2.0], "recency": [0.0, 3.0], "T": [5.0, 5.0], "monetary_value": [0.0, 20.0]},
        index=["new", "repeat"],
    )
    out = values(clv.BgNbd(r=0.5, alpha=5.0, a=0.8, b=2.5), spend, summary, 4.0)
    assert out.loc["new", ["expected_spend", "clv"]].isna().all()
    assert (out.loc["repeat", ["expected_spend", "clv"]] > 0).all()


def test_expected_purchases_track_the_cdnow_holdout(fitted, cdnow_summary, cdnow_transactions) -> None:
    """Over the 39 holdout weeks the expected purchase days of the 2,357 customers add up to the
    actual ones within 15 % (measured: 1,653 expected, 1,882 actual purchase days), and customers
    with more expected purchases make more."""
    bgnbd, _ = fitted
    x, t_x, T, _m = columns(cdnow_summary)
    expected = pd.Series(clv.expected_purchases(bgnbd, 39.0, x, t_x, T), index=cdnow_summary.index)
    holdout = cdnow_transactions[cdnow_transactions["day"] >= pd.Timestamp(CALIBRATION_END)]
    actual = holdout.groupby("customer_id")["day"].nunique().reindex(expected.index, fill_value=0)
    assert expected.sum() == pytest.approx(actual.sum(), rel=0.15)
    assert np.corrcoef(expected, actual)[0, 1] > 0.5


def test_fit_says_why_it_cannot() -> None:
    with pytest.raises(clv.FitError, match="repeat purchases"):
        clv.fit_bgnbd([0, 0, 0], [0, 0, 0], [5, 6, 7])
    with pytest.raises(clv.FitError, match="positive value"):
        clv.fit_gamma_gamma([0, 2], [0, 0])


def boundary_week() -> pd.DataFrame:
    """34 customers of a 7-day warehouse (the read API tests' world), 5 with one repeat purchase, in
    weeks: BG/NBD has no finite fit on them."""
    counts = {(0, 0, 4): 7, (0, 0, 0): 6, (0, 0, 2): 5, (0, 0, 5): 4, (0, 0, 1): 3, (0, 0, 3): 3}
    counts |= {(0, 0, 6): 1, (1, 1, 1): 1, (1, 1, 2): 1, (1, 3, 3): 1, (1, 5, 6): 1, (1, 6, 6): 1}
    days = np.repeat(np.array(list(counts), dtype=float), list(counts.values()), axis=0)
    return pd.DataFrame(
        {"frequency": days[:, 0], "recency": days[:, 1] / 7, "T": days[:, 2] / 7, "monetary_value": 10.0}
    )


LTV = ModelSpec(
    name="ltv", type="clv", label={"rules": [{"transaction": "pos"}], "horizon_days": 30}, time_unit="weeks"
)


def test_a_fit_that_runs_off_to_its_boundary_is_not_enough_data() -> None:
    """A young warehouse's week (boundary_week): the likelihood grows as r and alpha do without bound
    (one purchase rate for all), the optimiser stops anywhere out there and the expected purchases can
    overflow (NaN in the clv table, which refused them); the clv type says there is not enough history
    (the version is recorded FAILED and the night goes on)."""
    X = boundary_week()
    summary = (X["frequency"], X["recency"], X["T"])
    assert clv.runs_off(clv.fit_bgnbd(*summary), *summary)  # off to the boundary, wherever it stopped
    day = dt.date(2026, 1, 9)
    window = TrainingWindow(day, dt.date(2026, 1, 8), dt.date(2026, 1, 8), dt.date(2026, 1, 10), True)
    prepared = Prepared(window, np.arange(len(X)).astype(str), X, np.zeros(len(X)), whole_history=X)
    with pytest.raises(NotEnoughData, match="BG/NBD has no finite fit on 34 customers \\(5 with a repeat"):
        model_type("clv").fit_own(prepared, LTV)
    # without any repeat purchase yet, the same: not enough data
    none = X.assign(frequency=0.0, recency=0.0)
    first = Prepared(window, prepared.ids, none, prepared.y, whole_history=none)
    with pytest.raises(NotEnoughData, match="BG/NBD needs customers with repeat purchases"):
        model_type("clv").fit_own(first, LTV)


def test_a_calibration_period_without_a_fit_leaves_the_whole_historys_fit_in_use() -> None:
    """A young warehouse: the calibration period before the cut-off (boundary_week) has no finite fit,
    the whole history up to the version day (customers drawn from BG/NBD over 8 weeks) has one. The
    version is trained with the whole history's fit (the parameters scoring reads), its holdout metrics
    NaN and a warning saying why; it was FAILED, as not enough data."""
    week = boundary_week()
    x, t_x, T = simulate_bgnbd(clv.BgNbd(r=0.5, alpha=2.0, a=0.6, b=3.0), 500, 8.0, seed=5)
    whole = pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": np.where(x > 0, 12.0, 0)})
    day = dt.date(2026, 2, 25)
    window = TrainingWindow(day, dt.date(2026, 1, 8), dt.date(2026, 1, 8), dt.date(2026, 2, 26), True)
    holdout = np.arange(len(week)) % 3.0
    prepared = Prepared(window, np.arange(len(week)).astype(str), week, holdout, whole_history=whole)
    trained = training.train(prepared, LTV)
    assert trained.status == training.FINISHED
    assert (
        trained.params["bgnbd"]
        == clv.fit_bgnbd(x, t_x, T).as_dict()
        == clv_type.fitted(trained.params)[0].as_dict()
    )
    assert trained.customers == 500 and trained.positives == int(np.sum(x > 0))
    assert trained.metrics["bgnbd_r"] == trained.params["bgnbd"]["r"]
    assert trained.params["fitted_through"] == "2026-02-25"  # the version day, the stored fit's last
    assert trained.metrics["holdout_purchases"] == holdout.sum()
    nan = ["holdout_expected_purchases", "holdout_mae", "holdout_correlation", "calibration_bgnbd_r"]
    assert all(np.isnan(trained.metrics[k]) for k in nan)
    assert trained.warning is not None and trained.warning.startswith(
        "no holdout evaluation (its metrics are NaN): the calibration period has no fit: BG/NBD has no "
        "finite fit on 34 customers (5 with a repeat purchase) over 365 days before 2026-01-08 (r = "
    )
    assert trained.warning.endswith(
        "not enough purchase history yet; in use with the fit of the purchases up to 2026-02-25 "
        "(history_days: 365)"
    )


def test_a_calibration_period_without_customers_has_no_holdout_and_a_history_without_them_fails() -> None:
    """No purchase before the cut-off but some up to the version day: trained with the whole history's
    fit and no holdout evaluation; no purchase in the whole history either: a training error."""
    x, t_x, T = simulate_bgnbd(clv.BgNbd(r=0.5, alpha=2.0, a=0.6, b=3.0), 300, 8.0, seed=6)
    whole = pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": np.where(x > 0, 12.0, 0)})
    day = dt.date(2026, 2, 25)
    window = TrainingWindow(day, dt.date(2026, 1, 8), dt.date(2026, 1, 8), dt.date(2026, 2, 26), True)
    empty = whole.iloc[:0]
    own = model_type("clv").fit_own(
        Prepared(window, np.array([]), empty, np.array([]), whole_history=whole), LTV
    )
    assert (
        own.customers == 300
        and own.metrics["holdout_purchases"] == 0
        and np.isnan(own.metrics["holdout_mae"])
    )
    assert (
        own.warning is not None
        and "has no fit: BG/NBD needs customers with repeat purchases: 0 customer(s)" in own.warning
    )
    nothing = Prepared(window, np.array([]), empty, np.array([]), whole_history=empty)
    with pytest.raises(
        TrainingError, match="no customer with a qualifying event in the 365 days before 2026-02-26"
    ):
        model_type("clv").fit_own(nothing, LTV)


def simulate_bgnbd(params: clv.BgNbd, n: int, T: float, seed: int, most: int = 80) -> list[np.ndarray]:
    """(x, t_x, T) of n customers drawn from BG/NBD itself: purchase rate ~ Gamma(r, alpha), dropout
    probability ~ Beta(a, b), repeat purchases at Poisson times, dropping out after the D-th with D
    geometric; observed over T time units after the first purchase."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    times = np.cumsum(rng.exponential(1.0, (n, most)) / rate[:, None], axis=1)
    x = np.minimum((times <= T).sum(axis=1), rng.geometric(dropout))
    assert x.max() < most  # the cap on repeat purchases drawn is never reached
    t_x = np.where(x > 0, times[np.arange(n), np.maximum(x - 1, 0)], 0.0)
    return [x.astype(float), t_x, np.full(n, float(T))]


def test_bgnbd_recovers_the_parameters_of_simulated_worlds() -> None:
    """Over 8 worlds of 4,000 customers drawn from known parameters, the mean fit is the truth within
    5-15 % (measured: 0.501, 5.98, 0.758, 2.38 for 0.5, 6, 0.8, 2.5)."""
    truth = clv.BgNbd(r=0.5, alpha=6.0, a=0.8, b=2.5)
    fits = np.array(
        [
            list(clv.fit_bgnbd(*simulate_bgnbd(truth, 4000, 52.0, seed)).as_dict().values())
            for seed in range(8)
        ]
    )
    got = dict(zip(["r", "alpha", "a", "b"], fits.mean(axis=0), strict=True))
    # an interior maximum: not taken for the boundary's ridge
    assert not clv.runs_off(clv.BgNbd(*fits[0]), *simulate_bgnbd(truth, 4000, 52.0, 0))
    for name, tolerance in (("r", 0.05), ("alpha", 0.08), ("a", 0.10), ("b", 0.15)):
        assert got[name] == pytest.approx(truth.as_dict()[name], rel=tolerance), name


def test_gamma_gamma_recovers_the_parameters_of_simulated_spend() -> None:
    """Purchase values ~ Gamma(p, nu), nu ~ Gamma(q, v) across customers with 1-10 repeat purchases:
    the mean of 8 fits of 4,000 customers is the truth within 10 % (measured: 6.24, 3.97, 14.5 for 6,
    4, 15)."""
    truth = clv.GammaGamma(p=6.0, q=4.0, v=15.0)
    fits = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        x = rng.integers(1, 11, 4000).astype(float)
        nu = rng.gamma(truth.q, 1 / truth.v, 4000)
        m = rng.gamma(truth.p * x, 1 / nu) / x  # the mean of x values: their sum is Gamma(p x, nu)
        fits.append(list(clv.fit_gamma_gamma(x, m).as_dict().values()))
    got = dict(zip(["p", "q", "v"], np.mean(fits, axis=0), strict=True))
    for name in ("p", "q", "v"):
        assert got[name] == pytest.approx(truth.as_dict()[name], rel=0.10), (name, got)


def test_expected_purchases_where_the_hypergeometric_term_is_negative() -> None:
    """A fit with a + b < 1 (measured on a 60-day world: a = 0.0079, b = 0.834) makes 2F1's c negative
    for customers without a repeat purchase, and 2F1 itself negative: the expectation is still the
    paper's equation 10, here checked against 2F1 summed as its power series."""
    params = clv.BgNbd(r=1.646, alpha=3.254, a=0.0079, b=0.834)
    x, t_x, T, t = np.array([0.0, 0.0, 3.0]), np.array([0.0, 0.0, 4.0]), np.array([5.4, 3.9, 6.0]), 30 / 7
    got = clv.expected_purchases(params, t, x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    n = np.arange(3000)[:, None]
    ratios = (r + x + n) * (b + x + n) / ((a + b + x - 1 + n) * (n + 1)) * z
    series = np.concatenate([np.ones((1, 3)), np.cumprod(ratios, axis=0)[:-1]]).sum(axis=0)
    assert (series[:2] < 0).all()  # the case: a negative 2F1
    unconditional = (a + b + x - 1) / (a - 1) * (1 - series * ((alpha + T) / (alpha + T + t)) ** (r + x))
    expected = unconditional * clv.p_alive(params, x, t_x, T)
    assert np.isfinite(got).all() and (got > 0).all()
    assert got == pytest.approx(expected, rel=1e-9)


def test_bgnbd_fitted_on_distinct_customers_is_the_fit_on_every_customer() -> None:
    """fit_bgnbd computes the likelihood once per distinct (x, t_x, T) (customers summarised in whole
    days repeat each other): the same parameters, bit for bit, as maximising it per customer."""
    truth = clv.BgNbd(r=0.5, alpha=6.0, a=0.8, b=2.5)
    x, t_x, _ = simulate_bgnbd(truth, 6000, 52.0, seed=5)
    T = np.random.default_rng(5).integers(1, 53, len(x)).astype(float)
    t_x = np.minimum(np.floor(t_x), T)
    assert len(np.unique(np.column_stack([x, t_x, T]), axis=0)) < len(x) / 2

    def every_customer(log_params: np.ndarray) -> float:
        value = -float(np.mean(clv.bgnbd_log_likelihood(clv.BgNbd(*np.exp(log_params)), x, t_x, T)))
        return value if np.isfinite(value) else clv._FAILED

    start = np.log([1.0, float(np.mean(T)), 1.0, 1.0])
    reference = clv.BgNbd(*np.exp(clv._maximise(every_customer, start, "BG/NBD")))
    assert clv.fit_bgnbd(x, t_x, T) == reference


def test_gamma_gamma_fitted_with_its_terms_computed_once_is_the_fit_of_the_formula() -> None:
    """fit_gamma_gamma takes the logs of x and m once and the gamma functions of p·x once per distinct
    x: the same likelihoods and parameters, bit for bit, as the formula written out per customer."""
    rng = np.random.default_rng(9)
    x = rng.integers(1, 11, 5000).astype(float)
    m = rng.gamma(6.0 * x, 1 / rng.gamma(4.0, 1 / 15.0, 5000)) / x

    def formula(p: float, q: float, v: float) -> np.ndarray:
        px = p * x
        return (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(v)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(x * m + v)
        )

    def negative(log_params: np.ndarray) -> float:
        value = -float(np.mean(formula(*np.exp(log_params))))
        return value if np.isfinite(value) else clv._FAILED

    params = clv.GammaGamma(p=5.0, q=3.0, v=12.0)
    assert np.array_equal(clv.gamma_gamma_log_likelihood(params, x, m), formula(5.0, 3.0, 12.0))
    start = np.log([1.0, 2.0, float(np.mean(m))])
    reference = clv.GammaGamma(*np.exp(clv._maximise(negative, start, "Gamma-Gamma")))
    assert clv.fit_gamma_gamma(x, m) == reference


def test_purchase_values_adding_up_past_what_an_exact_sum_holds_are_summed_as_doubles() -> None:
    """A purchase day of two orders (6e19 and 7e19, each under 1e20 and kept exactly) adds up past what
    DECIMAL(38,18) holds: the summary failed (an overflow of DuckDB's DECIMAL sum); it is now summed
    as doubles, the mean of the repeat days' values as before."""
    rows = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "B"],
            "occurred_at": [dt.datetime(2026, 1, d) for d in (1, 5, 5, 9, 2, 3)],
            "value": [1.0, 6e19, 7e19, 3.0, 2.5, 0.5],
        }
    )
    with duckdb.connect() as con:
        con.register("_events", rows)
        con.execute(
            "CREATE TEMP TABLE _qualifying AS "
            "SELECT customer_id, occurred_at, value::DECIMAL(38,18) AS value FROM _events"
        )
        con.execute("CREATE TEMP TABLE _population AS SELECT DISTINCT customer_id FROM _events")
        summary = summarise(con, dt.date(2026, 3, 1), "days")
    assert summary.loc["A", "frequency"] == 2 and summary.loc["A", "recency"] == 8
    assert summary.loc["A", "monetary_value"] == pytest.approx((1.3e20 + 3.0) / 2, rel=1e-15)
    assert summary.loc["B", "monetary_value"] == 0.5
