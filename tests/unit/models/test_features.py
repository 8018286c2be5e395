"""The event features of sql/models/features/activity.sql and the attr_* indicators of attr_values.sql
against a reference computed in pandas from the same random events and attributes: counts and values
per type and window, days since the last event of each type, counts per channel, days since the first
and the last event, one indicator per cleaned attr_* value; only the population's customers, only
events strictly before the cut-off (time and partition) and within history_days."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.core.sql import sql
from pipeline.models.config import ModelSpec
from pipeline.models.features import build_population, feature_frame

CUTOFF = dt.date(2026, 3, 1)
TYPES = ["completedOrder", "web sessions", "campaign-Opened"]
CHANNELS = [None, "Paid Search", "paid-search", "Email", "Organic Social"]
INTERESTS = [" Books", "books", "Home & Garden", "", "  ", "music"]  # cleaned: books, home_garden, music


def _warehouse(seed: int) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame, list[str]]:
    """A warehouse of random events (some after the cut-off, in a later partition or older than the
    history), its events as a frame, and the customers of the population."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect()
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("customers/identity/create_identities"))
    customers = [f"C{i:03d}" for i in range(40)]
    first_seen = [CUTOFF - dt.timedelta(days=int(d)) for d in rng.integers(-3, 100, len(customers))]
    con.execute(
        "CREATE TABLE customers "
        "(customuid VARCHAR, _first_seen_at DATE, num_age DOUBLE, attr_interests VARCHAR[])"
    )
    interests = [list(rng.choice(INTERESTS, int(rng.integers(0, 4)))) for _ in customers]
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?)",
        [[c, f, 30.0, i] for c, f, i in zip(customers, first_seen, interests, strict=True)],
    )
    con.execute(
        "INSERT INTO customer_identities VALUES ('C001', 'customuid', 'c001', 'customers', FALSE, TRUE)"
    )
    n = 3000
    stamp = pd.Timestamp(CUTOFF)
    # ages in seconds, with events exactly on a window's edge and one second past it
    ages = rng.integers(-86_400 * 3, 86_400 * 130, n)
    ages[:40] = np.repeat([7 * 86_400, 7 * 86_400 + 1, 30 * 86_400, 0], 10)
    occurred = stamp - pd.to_timedelta(ages, unit="s")
    partition = (
        occurred.normalize() + pd.to_timedelta(rng.integers(0, 2, n) * (ages < 86_400), unit="D")
    ).date
    values = [None if rng.random() < 0.3 else Decimal(int(rng.integers(1, 100_000))) / 100 for _ in range(n)]
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "customer_id": rng.choice(customers + [None], n),
            "customer_key": "k",
            "customer_key_kind": "customuid",
            "type": rng.choice(TYPES, n),
            "context": "WEB",
            "occurred_at": occurred,
            "value": values,
            "channel": rng.choice(np.array(CHANNELS, dtype=object), n),
            "source": "pos",
            "load_id": 1,
            "_partition_date": partition,
        }
    )
    con.register("_new", events)
    con.execute(
        "INSERT INTO events BY NAME SELECT * EXCLUDE (value), value::DECIMAL(38,18) AS value FROM _new"
    )
    con.unregister("_new")
    population = [c for c, f in zip(customers, first_seen, strict=True) if f < CUTOFF and c != "C001"]
    attributes = dict(zip(customers, interests, strict=True))
    return con, events, population, attributes


def _name(text: str) -> str:
    return re.sub("[^A-Za-z0-9]+", "_", text)


def _reference(
    events: pd.DataFrame, population: list[str], attributes: dict, windows: list[int], history: int
) -> pd.DataFrame:
    """The event features as the module's docstring and activity.sql define them, in pandas."""
    stamp = pd.Timestamp(CUTOFF)
    age_s = (stamp - events["occurred_at"]).dt.total_seconds().astype(np.int64)
    kept = events.assign(age_s=age_s)[
        events["customer_id"].isin(population)
        & (events["occurred_at"] < stamp)
        & (events["_partition_date"] < CUTOFF)
        & (events["occurred_at"] >= stamp - pd.Timedelta(days=history))
    ]
    out = pd.DataFrame(index=pd.Index(sorted(population), name="customer_id"))
    for kind, group in kept.groupby("type"):
        by = group.groupby("customer_id")
        out[f"days_since_last_{_name(kind)}"] = by["age_s"].min() / 86400.0
        for w in windows:
            inside = group[group["age_s"] <= w * 86_400].groupby("customer_id")
            if len(group[group["age_s"] <= w * 86_400]):
                out[f"count_{_name(kind)}_{w}d"] = inside.size().astype(float)
            sums = inside["value"].agg(
                lambda v: sum(x for x in v if x is not None) if v.notna().any() else None
            )
            if sums.notna().any():
                out[f"value_{_name(kind)}_{w}d"] = sums.dropna().astype(float)
    channel = kept["channel"].dropna().str.lower().str.replace("[^a-z0-9]+", "_", regex=True)
    for name, group in kept.loc[channel.index].groupby(channel):
        out[f"count_channel_{name}"] = group.groupby("customer_id").size().astype(float)
    out["days_since_first_event"] = kept.groupby("customer_id")["age_s"].max() / 86400.0
    out["days_since_last_event"] = kept.groupby("customer_id")["age_s"].min() / 86400.0
    for customer in population:  # every value of attr_interests as an indicator (scoring keeps them all)
        for value in attributes[customer]:
            if value.strip(" "):
                out.loc[
                    customer, f"attr_interests__{re.sub('[^a-z0-9]+', '_', value.strip(' ').lower())}"
                ] = 1.0
    for column in out.columns:
        if column.startswith(("count_", "value_", "attr_")):
            out[column] = out[column].fillna(0.0)
    return out


@pytest.mark.parametrize(
    ("seed", "windows", "history"), [(1, [7, 30, 90], 120), (2, [30, 7], 365), (3, [14], 60)]
)
def test_event_features_match_a_reference_over_random_events(seed, windows, history):
    con, events, population, attributes = _warehouse(seed)
    spec = ModelSpec(
        name="m",
        type="response",
        label={"rules": [{"transaction": "completedOrder"}]},
        windows=windows,
        history_days=history,
    )
    frame = feature_frame(con, spec, CUTOFF)
    expected = _reference(events, population, attributes, windows, history)
    assert list(frame.index) == sorted(population)
    event_columns = [c for c in frame.columns if c not in ("days_since_first_seen", "num_age")]
    assert sorted(event_columns) == sorted(expected.columns)
    values = [c for c in event_columns if c.startswith("value_")]
    exact = [c for c in event_columns if c not in values]
    pd.testing.assert_frame_equal(frame[exact], expected[exact].reindex(frame.index), check_exact=True)
    pd.testing.assert_frame_equal(frame[values], expected[values].reindex(frame.index), rtol=1e-12)
    assert frame["count_channel_paid_search"].sum() > 0  # two channels cleaned to one name, counted together
    assert {"attr_interests__books", "attr_interests__home_garden"} <= set(frame.columns)


def test_a_population_rule_on_a_goal_reads_it_as_of_the_cut_off():
    """A training population chosen by a goal_* flag with its timestamp sees the goal as of the cut-off:
    a customer who reached it at or after the cut-off was not in the population then (it was, read at
    its latest value: the future chose the training rows)."""
    con, _, population, _ = _warehouse(4)
    con.execute("ALTER TABLE customers ADD COLUMN goal_newsletter BOOLEAN")
    con.execute("ALTER TABLE customers ADD COLUMN goal_newsletter_timestamp TIMESTAMP")
    midnight = dt.datetime.combine(CUTOFF, dt.time())
    stamps = {population[0]: midnight, population[1]: midnight - dt.timedelta(seconds=1)}
    for customer, stamp in stamps.items():
        con.execute(
            "UPDATE customers SET goal_newsletter = TRUE, goal_newsletter_timestamp = ? WHERE customuid = ?",
            [stamp, customer],
        )
    rule = {"transaction": "customers", "field": "goal_newsletter", "formula": {"eq": True}}
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "completedOrder"}]}, population=[rule]
    )
    build_population(con, CUTOFF, spec=spec)
    assert [r[0] for r in con.execute("SELECT customer_id FROM _population").fetchall()] == [population[1]]
    build_population(con, CUTOFF + dt.timedelta(days=1), spec=spec)  # the night after: both reached it
    got = sorted(r[0] for r in con.execute("SELECT customer_id FROM _population").fetchall())
    assert got == sorted(stamps)


def test_a_goal_reached_at_or_after_the_cut_off_is_not_a_feature_of_it():
    """A goal_* flag is the customer data's latest value; with its goal_*_timestamp it is read as of the
    cut-off: a goal reached at the cut-off (midnight UTC) or later was not reached yet (0), one reached a
    second before it was (1), one reached at an unknown time stays as stored, as does a goal without a
    timestamp column (it cannot be dated)."""
    con, _, population, _ = _warehouse(4)
    con.execute("ALTER TABLE customers ADD COLUMN goal_newsletter BOOLEAN")
    con.execute("ALTER TABLE customers ADD COLUMN goal_newsletter_timestamp TIMESTAMP")
    con.execute("ALTER TABLE customers ADD COLUMN goal_app BOOLEAN")  # no timestamp column
    midnight = dt.datetime.combine(CUTOFF, dt.time())
    reached = {  # customer: (goal_newsletter, its time)
        population[0]: (True, midnight),
        population[1]: (True, midnight + dt.timedelta(days=9, hours=3)),
        population[2]: (True, midnight - dt.timedelta(seconds=1)),
        population[3]: (True, None),
        population[4]: (False, None),
        population[5]: (None, None),
    }
    for customer, (goal, stamp) in reached.items():
        con.execute(
            "UPDATE customers SET goal_newsletter = ?, goal_newsletter_timestamp = ?, goal_app = TRUE "
            "WHERE customuid = ?",
            [goal, stamp, customer],
        )
    spec = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "completedOrder"}]})
    frame = feature_frame(con, spec, CUTOFF)
    got = frame.loc[list(reached), "goal_newsletter"].tolist()
    assert got[:5] == [0.0, 0.0, 1.0, 1.0, 0.0] and np.isnan(got[5])
    assert (frame.loc[list(reached), "goal_app"] == 1.0).all()
    assert "goal_newsletter_timestamp" not in frame.columns
    # scoring a later night (its cut-off the day after) sees the goal reached in between
    later = feature_frame(con, spec, CUTOFF + dt.timedelta(days=10))
    assert later.loc[population[1], "goal_newsletter"] == 1.0


def test_values_adding_up_past_what_an_exact_sum_holds_are_summed_as_doubles():
    """A customer's two orders of 6e19 and 7e19 (each under 1e20, kept exactly) add up past what
    DECIMAL(38,18) holds: the features failed (an overflow of DuckDB's DECIMAL sum); their value
    features are now the sums as doubles, the other features those of the data without them."""
    con, _, population, _ = _warehouse(1)
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "completedOrder"}]}, windows=[7, 30]
    )
    before = feature_frame(con, spec, CUTOFF)
    who = population[0]
    at = dt.datetime.combine(CUTOFF, dt.time()) - dt.timedelta(days=2)
    con.executemany(
        "INSERT INTO events (event_id, customer_id, customer_key, customer_key_kind, type, context,"
        " occurred_at, value, source, load_id, _partition_date) "
        "VALUES (?, ?, 'k', 'customuid', 'completedOrder', 'WEB', ?, ?::DECIMAL(38,18), 'pos', 1, ?)",
        [[f"big{i}", who, at, v, at.date()] for i, v in enumerate([6e19, 7e19])],
    )
    after = feature_frame(con, spec, CUTOFF)
    big = ["value_completedOrder_7d", "value_completedOrder_30d"]
    for column in big:
        want = 1.3e20 + np.nan_to_num(before.loc[who, column])
        assert after.loc[who, column] == pytest.approx(want, rel=1e-15)
    counts = ["count_completedOrder_7d", "count_completedOrder_30d"]
    assert (after.loc[who, counts] == before.loc[who, counts] + 2).all()
    rest = [c for c in before.columns if c not in big + counts + ["days_since_last_completedOrder"]]
    others = [c for c in before.index if c != who]
    pd.testing.assert_frame_equal(after.loc[others, rest], before.loc[others, rest], rtol=1e-12)
