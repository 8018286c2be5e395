"""The report of an experiment whose capacity binds (sql/experiments/capacity.sql,
sql/experiments/report_counts.sql): the customers a capacity cuts are the drawn ones of lowest
expected value, so the customers given a capped variant are its best ones. Analysed as given, an
experiment whose variants do nothing showed a lift wherever the conversion rate rises with the score;
analysed by the arm drawn (intent to treat) it is an A/A test again.

The simulation: WORLDS experiments with no true effect, each of its own CUSTOMERS (their scores
uniform, their conversion rate rising with it), 30 % held out, the others drawn `a` or `b` uniformly as
decide.sql draws an A/B test, `a` limited to CAPACITY a day as sql/experiments/capacity.sql limits
it (rows written as it writes them, before results had `drawn_variant`), their conversions (and
pre-period conversions, the CUPED covariate) uploaded and measured by
pipeline/experiments/conversions.py, the report's sums by its SQL and its lifts by its own function
over them. Then the same kind of world decided for real by decide.sql over two nights."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.config import parse_config
from pipeline.core.sql import bind, sql
from pipeline.experiments.conversions import measure, record_drawn_variants
from pipeline.experiments.decisions import CONVERSIONS, decide
from pipeline.experiments.report import Counts, _counts, _lifts, build_report, report_table
from tests.conftest import UPLOADED_CONVERSIONS as UPLOADS
from tests.conftest import example_dict

D = dt.date(2026, 3, 10)
WORLDS, CUSTOMERS, CAPACITY, CONTROL_SHARE = 300, 300, 50, 0.3
HELD_OUT = "control: held out by a hash of customer and experiment (control share 0.3)"


@functools.cache
def config():
    """Conversions uploaded per experiment (5-day windows); the experiments themselves are the worlds'
    rows in `results`, as decide.sql writes them."""
    data = copy.deepcopy(example_dict())
    data["transactions"].append(UPLOADS)
    data["conversions"] = {"window_days": 5, "definitions": [], "uploaded": UPLOADS["name"]}
    return parse_config(data, "nightjar.yaml", Path("."))


def results(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """The decisions of D of every world as decide.sql writes an A/B test's (before any capacity), and
    each customer's conversion rate: 0.05 + 0.5 x their score, whatever they are given."""
    n = WORLDS * CUSTOMERS
    score = rng.random(n)
    held = rng.random(n) < CONTROL_SHARE
    drawn = np.where(rng.random(n) < 0.5, "a", "b")
    frame = pd.DataFrame(
        {
            "date": D,
            "customer_id": [f"w{k}c{i}" for k in range(WORLDS) for i in range(CUSTOMERS)],
            "experiment": np.repeat([f"w{k}" for k in range(WORLDS)], CUSTOMERS),
            "variant": np.where(held, "control", drawn),
            "is_control": held,
            "score": score,
            "reason": np.where(held, HELD_OUT, "A/B: uniform among 2 eligible variant(s)"),
        }
    )
    return frame, 0.05 + 0.5 * score


def cut(frame: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """``frame`` after sql/experiments/capacity.sql on `a` in each world, written the way it writes
    it (the worlds are too many for a statement each in a test of seconds; test_the_cut_is_capacity_sql
    checks it gives the same rows): the rows given `a` beyond the first ``capacity`` by score get
    `no_treatment`, their reason prefixed."""
    given = frame[frame["variant"] == "a"]
    rank = given.groupby("experiment")["score"].rank(ascending=False, method="first")
    over = rank.index[rank > capacity]
    out = frame.copy()
    out.loc[over, "variant"] = "no_treatment"
    prefix = f"capacity: a takes {capacity} a day, given to higher expected values; "
    out.loc[over, "reason"] = prefix + out.loc[over, "reason"]
    return out


def uploads(frame: pd.DataFrame, rate: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """A conversion in the window (noon of D) and one in the pre-period (D - 3), each with the
    customer's rate, of a gamma-distributed value."""
    rows = []
    for at in (dt.datetime(2026, 3, 10, 12), dt.datetime(2026, 3, 7)):
        part = frame.loc[rng.random(len(rate)) < rate, ["customer_id", "experiment"]]
        part = part.assign(conversion_datetime=at)
        rows.append(part.assign(conversion_value=np.round(rng.gamma(2.0, 10.0, len(part)), 2)))
    return pd.concat(rows, ignore_index=True)


def land(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """``frame`` (customer_id, experiment, conversion_datetime, conversion_value) as the uploaded
    conversions' table, each row an event of its customer (identity resolved)."""
    con.register("_uploads", frame)
    con.execute(
        "CREATE TABLE tx_uploaded_conversions AS SELECT *, 'L' AS _load_id, "
        "row_number() OVER () AS _row_number, conversion_datetime::DATE AS _partition_date FROM _uploads"
    )
    con.execute(
        "CREATE TABLE events AS SELECT 'uploaded_conversions:L:' || _row_number AS event_id, customer_id"
        " FROM tx_uploaded_conversions"
    )
    con.unregister("_uploads")


def warehouse(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A warehouse holding ``frame`` as `results` (the decision step's helpers prepared)."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/prepare_decisions"))
    con.register("_decided", frame)
    con.execute("INSERT INTO results BY NAME SELECT * FROM _decided")
    con.unregister("_decided")
    return con


def simulate(seed: int = 7) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    """The worlds' warehouse after their decisions (CAPACITY on `a`) and conversions, and the
    report's sums of each world's variants."""
    rng = np.random.default_rng(seed)
    frame, rate = results(rng)
    con = warehouse(cut(frame, CAPACITY))
    land(con, uploads(frame, rate, rng))
    record_drawn_variants(con)  # the rows' arms drawn from their reasons, as a run does first
    measure(con, config(), D, frozenset(D + dt.timedelta(days=d) for d in range(5)))
    counts = _counts(con, CONVERSIONS, include_incomplete=False)
    return con, counts.assign(from_date=counts["date"])


def lifts(counts: pd.DataFrame, variant: str) -> pd.DataFrame:
    """The report's lifts of ``variant`` against control in each world."""
    spec = config().analysis
    rows = []
    for _, world in counts.groupby("experiment", sort=True):
        arms = {r["variant"]: Counts.of(r) for r in world.to_dict("records")}
        rows.append(_lifts(arms[variant], arms["control"], spec))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def capped() -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    return simulate()


def rejects(lift: pd.DataFrame, low: str, high: str) -> float:
    """The share of worlds whose interval excludes 0."""
    return float(((lift[low] > 0) | (lift[high] < 0)).mean())


def test_capacity_binds_on_the_best_scored_drawn_customers(capped):
    """The world as meant: in every world more customers draw `a` than it takes, and those given it
    are those of the highest scores (the bias the report must not inherit)."""
    con, _ = capped
    given, cut, gap = con.execute(
        """SELECT count(*) FILTER (WHERE variant = 'a'), count(*) FILTER (WHERE variant = 'no_treatment'),
                  avg(score) FILTER (WHERE variant = 'a') - avg(score) FILTER (WHERE variant = 'no_treatment')
           FROM results"""
    ).fetchone()
    assert given == WORLDS * CAPACITY
    assert cut > WORLDS * 40  # about 105 draw `a` in each world, 50 get it
    assert gap > 0.4


def test_a_capped_variant_without_effect_is_not_significant(capped):
    """Was (analysed by the variant given): the 95 % interval of the capped variant's absolute lift
    excluded 0 in 30 % of the worlds, its mean +0.124 (the rate of the best half of its draw against
    control's); the relative lift's in 14 %, CUPED's 25 % (mean +0.112), the value lift's 15 % (mean
    +2.46), the Bayesian credible interval's 16 % (mean chance to beat control 0.83). Now, by the arm
    drawn: 7.3 %, 5.7 %, 5.7 %, 5.7 %, 6.0 %; mean lift -0.004 (its standard error 0.004), chance to
    beat control 0.47 (the absolute interval's rate is 3.7-5.0 % with the seeds 1 to 6). The
    sequential interval, always valid and wide at this size, excluded 0 in 0 % and 0.3 %."""
    _, counts = capped
    lift = lifts(counts, "a")
    assert rejects(lift, "abs_lift_low", "abs_lift_high") <= 0.08
    assert rejects(lift, "rel_lift_low", "rel_lift_high") <= 0.08
    assert rejects(lift, "cuped_abs_lift_low", "cuped_abs_lift_high") <= 0.08
    assert rejects(lift, "value_lift_low", "value_lift_high") <= 0.08
    assert rejects(lift, "seq_abs_lift_low", "seq_abs_lift_high") <= 0.08
    assert rejects(lift, "credible_low", "credible_high") <= 0.08
    # the mean lift: 0 within four standard errors of the mean over the worlds
    for column in ("abs_lift", "cuped_abs_lift", "value_lift"):
        assert abs(lift[column].mean()) < 4 * lift[column].std() / np.sqrt(WORLDS), column
    assert abs(lift["chance_to_beat_control"].mean() - 0.5) < 0.05


def test_the_cut_is_capacity_sql():
    """The simulation's cut (``cut``) gives the rows sql/experiments/capacity.sql gives, on a few
    worlds."""
    frame, _ = results(np.random.default_rng(3))
    few = frame[frame["experiment"].isin(["w0", "w1", "w2"])].reset_index(drop=True)
    con = warehouse(few)
    text = sql("experiments/capacity")
    for k in range(3):
        con.execute(text, bind(text, {"day": D, "experiment": f"w{k}", "variant": "a", "capacity": CAPACITY}))
    columns = ["customer_id", "variant", "reason"]
    real = con.execute("SELECT customer_id, variant, reason FROM results ORDER BY customer_id").df()
    ours = cut(few, CAPACITY)[columns].sort_values("customer_id").reset_index(drop=True)
    assert (real["variant"] == "no_treatment").sum() > 100
    pd.testing.assert_frame_equal(real, ours, check_dtype=False)


# The same kind of world decided for real (sql/experiments/decide.sql, capacity.sql) over two nights:
# `ab` (an A/B test of a and b, `a` limited) and `nbo` (drawn by propensity, no capacity); conversions
# uploaded for both, and a guardrail of `ab` (conversions worth more than 20).
NIGHTS, PEOPLE = 2, 400
GUARDRAIL = {
    "name": "big",
    "experiment": "ab",
    "role": "guardrail",
    "rules": [{"transaction": UPLOADS["name"], "field": "conversion_value", "formula": {"gt": 20}}],
}


def decided(capacity: int) -> tuple[duckdb.DuckDBPyConnection, object]:
    """The two-night world with `ab`'s `a` limited to ``capacity`` a night, decided, measured and
    reported."""
    data = copy.deepcopy(example_dict())
    data["transactions"].append(UPLOADS)
    data["variants"] = [{"name": "a", "message": "A"}, {"name": "b", "message": "B"}]
    both = {"model": "purchase_30d", "variants": ["a", "b"], "control_share": CONTROL_SHARE}
    data["experiments"] = [
        {"name": "ab", "type": "AB", "capacity": {"a": capacity}, **both},
        {"name": "nbo", "type": "NBO", "exploration": 0.5, **both},
    ]
    data["groups"] = []
    data["conversions"] = {"window_days": 5, "definitions": [GUARDRAIL], "uploaded": UPLOADS["name"]}
    world = parse_config(data, "nightjar.yaml", Path("."))
    rng = np.random.default_rng(11)
    score = rng.random(PEOPLE)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at "
        "FROM range($n) t(i)",
        {"n": PEOPLE},
    )
    people = pd.DataFrame({"customer_id": [f"k{i}" for i in range(PEOPLE)], "score": score})
    con.register("_scored", people)
    con.execute(
        "CREATE TABLE predictions AS SELECT $day AS date, customer_id, 'purchase_30d' AS model, score "
        "FROM _scored",
        {"day": D - dt.timedelta(days=1)},
    )
    nights = [D + dt.timedelta(days=k) for k in range(NIGHTS)]
    for night in nights:
        decide(con, world, night)
    frame = pd.concat(
        [
            people.assign(experiment=e, conversion_datetime=at)
            for e in ("ab", "nbo")
            for at in (dt.datetime(2026, 3, 7), *(dt.datetime.combine(n, dt.time(12)) for n in nights))
        ]
    )
    hit = rng.random(len(frame)) < 0.05 + 0.5 * frame["score"].to_numpy()
    frame = frame[hit].drop(columns="score")
    land(con, frame.assign(conversion_value=np.round(rng.gamma(2.0, 10.0, len(frame)), 2)))
    loaded = frozenset(D + dt.timedelta(days=d) for d in range(NIGHTS + 5))
    for night in nights:
        measure(con, world, night, loaded)
    build_report(con, world)
    return con, world


def report(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT * FROM experiment_report ORDER BY experiment, metric, variant, scope, to_date"
    ).df()


def test_decisions_and_the_report_keep_the_arm_drawn():
    """The decision rows cut by the capacity keep the variant drawn (results.drawn_variant, carried to
    the conversions tables), and the report counts them in it, the primary metric and the guardrail
    alike: `a`'s row has every customer drawn `a` (given it or cut), `capped` of them cut, and there is
    no `no_treatment` row (the report had one, the cut customers compared with control, and `a`'s
    held only those given it)."""
    con, _ = decided(capacity=40)
    drawn = con.execute(
        """SELECT count(*) FILTER (WHERE variant = 'no_treatment'),
                  count(*) FILTER (WHERE variant = 'no_treatment' AND drawn_variant = 'a'
                                   AND starts_with(reason, 'capacity: a takes 40')),
                  count(*) FILTER (WHERE variant <> 'no_treatment' AND drawn_variant <> variant),
                  count(*) FILTER (WHERE experiment = 'ab' AND drawn_variant = 'a')
           FROM results"""
    ).fetchone()
    cut, cut_from_a, others_moved, drawn_a = drawn
    assert cut > 50 and cut == cut_from_a and others_moved == 0
    for table in ("conversions", "guardrail_conversions"):
        moved = con.execute(
            f"SELECT count(*) FROM {table} c JOIN results r USING (date, customer_id, experiment) "
            "WHERE c.drawn_variant IS DISTINCT FROM r.drawn_variant OR c.variant <> r.variant"
        ).fetchone()[0]
        assert moved == 0, table
    rows = report(con)
    totals = rows[(rows["scope"] == "total") & (rows["experiment"] == "ab")]
    assert set(totals["variant"]) == {"a", "b", "control"}
    for metric in ("primary", "big"):
        a = totals[(totals["metric"] == metric) & (totals["variant"] == "a")].iloc[0]
        assert (a["presented"], a["capped"]) == (drawn_a, cut)
    assert (rows.loc[rows["variant"] != "a", "capped"] == 0).all()


def test_the_report_table_shows_the_capped_and_the_control_compared_with():
    """The table on the asset's page (report_table) shows, beside `presented`, how many of them a
    capacity cut (sent nothing), and which control each lift is against: `a`'s presented there
    counted its cut customers with no sign of it, and nothing said which control a lift is against
    (a learned policy's: tests/unit/experiments/test_report_learned.py)."""
    con, _ = decided(capacity=40)
    headers, table = report_table(con)
    got = {(r[0], r[1], r[2]): dict(zip(headers, r, strict=True)) for r in table}
    totals = report(con).query("scope == 'total'").set_index(["experiment", "metric", "variant"])
    assert len(got) == len(totals) > 8
    for key, row in got.items():
        want = totals.loc[key]
        assert (row["presented"], row["capped"]) == (want["presented"], want["capped"]), key
        assert row["compared with"] == (None if want["is_control"] else want["comparison"]), key
    assert got["ab", "primary", "a"]["capped"] > 50
    assert got["ab", "primary", "b"]["compared with"] == "whole control"
    assert headers.index("capped") == headers.index("presented") + 1
    assert headers.index("compared with") == headers.index("abs lift") - 1


def test_without_a_binding_capacity_every_figure_is_unchanged():
    """A capacity above every night's draws cuts nobody: each row's arm drawn is the variant given,
    and every figure of the report (both experiments, both scopes, the guardrail) is the one analysed
    by the variant given, as before the report analysed the arm drawn."""
    con, world = decided(capacity=PEOPLE)
    assert con.execute("SELECT count(*) FROM results WHERE drawn_variant <> variant").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM results WHERE variant = 'no_treatment'").fetchone() == (0,)
    by_draw = report(con)
    for table in ("conversions", "guardrail_conversions"):
        con.execute(f"UPDATE {table} SET drawn_variant = variant")
    build_report(con, world)
    by_given = report(con)
    assert len(by_draw) > 20 and (by_draw["capped"] == 0).all()
    pd.testing.assert_frame_equal(by_draw, by_given)


def test_a_warehouse_from_before_the_column_gets_the_arms_drawn():
    """Rows written before `drawn_variant` existed (the column added empty) get it when the report is
    built: a decision's from its reason when a capacity cut it, else its variant; a conversion's from
    its decision, else (its decision gone) its variant. The cut customer then counts in `a`."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/create_conversions"))
    con.execute(
        """INSERT INTO results BY NAME
           SELECT $day AS date, customer_id, 'e' AS experiment, variant, variant = 'control' AS is_control,
                  0.5 AS score, reason
           FROM (VALUES ('k1', 'a', 'A/B: uniform among 2 eligible variant(s)'),
                        ('k2', 'no_treatment', 'capacity: a takes 1 a day, given to higher expected values; '
                                               || 'A/B: uniform among 2 eligible variant(s)'),
                        ('k3', 'control', 'control: held out')) t(customer_id, variant, reason)""",
        {"day": D},
    )
    for table, metric in (("conversions", ""), ("guardrail_conversions", "'big' AS metric, ")):
        con.execute(
            f"""INSERT INTO {table} BY NAME
                SELECT $day AS date, customer_id, 'e' AS experiment, {metric}variant,
                       variant = 'control' AS is_control, customer_id = 'k2' AS converted,
                       0 AS conversions, 0 AS value, $day::TIMESTAMP AS window_start,
                       $day::TIMESTAMP AS window_end, TRUE AS window_complete, FALSE AS pre_converted
                FROM (VALUES ('k1', 'a'), ('k2', 'no_treatment'), ('k3', 'control'), ('k4', 'no_treatment'))
                     t(customer_id, variant)""",
            {"day": D},
        )
    assert con.execute("SELECT count(*) FROM results WHERE drawn_variant IS NULL").fetchone() == (3,)
    build_report(con, config())
    arms = "SELECT string_agg(customer_id || ':' || drawn_variant, ' ' ORDER BY customer_id) FROM {}"
    assert con.execute(arms.format("results")).fetchone() == ("k1:a k2:a k3:control",)
    for table in ("conversions", "guardrail_conversions"):
        got = con.execute(arms.format(table)).fetchone()
        assert got == ("k1:a k2:a k3:control k4:no_treatment",), table
    a = con.execute(
        "SELECT metric, presented, capped, converted FROM experiment_report "
        "WHERE variant = 'a' AND scope = 'total' ORDER BY metric"
    ).fetchall()
    assert a == [("big", 2, 1, 1), ("primary", 2, 1, 1)]
