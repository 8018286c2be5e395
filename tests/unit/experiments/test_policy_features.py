"""The customer features policy_evaluation keeps between nights: read back while nothing they read
changed (equal to a fresh computation, bit for bit), computed again when the past changes (a late
event, a forgotten customer, a changed attribute, an exclusion, the model's settings), never for a
change after the cut-off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.core.sql import sql
from pipeline.experiments import policy_features as pf
from pipeline.models import features
from pipeline.models.config import ModelSpec

CUTOFF = dt.date(2026, 2, 1)
TYPES = ["completedOrder", "web session"]


def _warehouse(seed: int, path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """Random customers (some first seen after the cut-off) and events on both sides of the cut-off."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect(path)
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("customers/identity/create_identities"))
    con.execute(
        "CREATE TABLE customers (customuid VARCHAR, txt_city VARCHAR, num_age DOUBLE, attr_tags VARCHAR[], "
        "_first_seen_at DATE, _updated_at DATE, _load_id BIGINT)"
    )
    ids = [f"C{i:03d}" for i in range(60)]
    seen = [CUTOFF - dt.timedelta(days=int(d)) for d in rng.integers(-10, 60, len(ids))]
    cities = rng.choice(np.array(["Oslo", "Rome", None], dtype=object), len(ids))
    tags = [list(rng.choice(["a", "b", "c"], int(rng.integers(0, 3)))) for _ in ids]
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, 1)",
        [
            [c, t, float(rng.integers(18, 80)), g, s, s]
            for c, t, g, s in zip(ids, cities, tags, seen, strict=True)
        ],
    )
    n = 1500
    occurred = pd.Timestamp(CUTOFF) - pd.to_timedelta(rng.integers(-86_400 * 20, 86_400 * 50, n), unit="s")
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "customer_id": rng.choice(ids, n),
            "customer_key": "k",
            "customer_key_kind": "customuid",
            "type": rng.choice(TYPES, n),
            "context": "WEB",
            "occurred_at": occurred,
            "value": [Decimal(int(v)) / 100 for v in rng.integers(1, 10_000, n)],
            "channel": rng.choice(np.array(["Email", None], dtype=object), n),
            "source": "pos",
            "load_id": 1,
            "_partition_date": occurred.normalize().date,
        }
    )
    con.register("_new", events)
    con.execute(
        "INSERT INTO events BY NAME SELECT * EXCLUDE (value), value::DECIMAL(38,18) AS value FROM _new"
    )
    con.unregister("_new")
    return con


def _spec(**changes) -> ModelSpec:
    settings = {"name": "m", "type": "response", "label": {"rules": [{"transaction": "completedOrder"}]}}
    return ModelSpec(**{**settings, "windows": [7, 30], **changes})


def _computations(monkeypatch) -> list[dt.date]:
    calls: list[dt.date] = []
    real = pf.customer_features

    def counted(con, spec, cutoff, *args, **kwargs):
        calls.append(cutoff)
        return real(con, spec, cutoff, *args, **kwargs)

    monkeypatch.setattr(pf, "customer_features", counted)
    return calls


def _fresh(con, spec) -> pd.DataFrame:
    return features.customer_features(con, spec, CUTOFF)


CHANGES = {
    "a late event before the cut-off": "INSERT INTO events BY NAME SELECT * REPLACE ('late' AS event_id, "
    "occurred_at - INTERVAL 3 DAY AS occurred_at, _partition_date - 3 AS _partition_date) "
    "FROM events WHERE occurred_at < DATE '2026-02-01' LIMIT 1",
    "a forgotten customer": "DELETE FROM events WHERE customer_id = 'C007'; "
    "DELETE FROM customers WHERE customuid = 'C007'",
    "a changed attribute": "UPDATE customers SET txt_city = 'Lima' WHERE _first_seen_at < DATE '2026-02-01' "
    "AND customuid = (SELECT min(customuid) FROM customers WHERE _first_seen_at < DATE '2026-02-01')",
    "an event re-pointed to another customer": "UPDATE events SET customer_id = 'C001' "
    "WHERE event_id = (SELECT min(event_id) FROM events "
    "WHERE occurred_at < DATE '2026-02-01' AND customer_id <> 'C001')",
    "an excluded customer": "INSERT INTO customer_identities "
    "VALUES ('C002', 'customuid', 'c002', 'customers', FALSE, TRUE)",
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_kept_frame_is_reused_until_the_past_changes_and_always_equals_a_fresh_one(monkeypatch, change):
    con = _warehouse(seed=len(change))
    spec = _spec()
    calls = _computations(monkeypatch)
    first = pf.policy_features(con, spec, CUTOFF)
    pd.testing.assert_frame_equal(first, _fresh(con, spec), check_exact=True)
    again = pf.policy_features(con, spec, CUTOFF)  # nothing changed: read back, not computed
    assert calls == [CUTOFF]
    pd.testing.assert_frame_equal(again, _fresh(con, spec), check_exact=True)
    # a new day after the cut-off (events, a new customer, bookkeeping) is not what the frame read
    con.execute(
        "INSERT INTO events BY NAME SELECT * REPLACE ('new' AS event_id, TIMESTAMP '2026-02-25 10:00:00' AS "
        "occurred_at, DATE '2026-02-25' AS _partition_date) FROM events LIMIT 1; "
        "INSERT INTO customers VALUES ('C999', 'Oslo', 40, [], DATE '2026-02-25', DATE '2026-02-25', 2); "
        "UPDATE customers SET _load_id = 3, _updated_at = DATE '2026-02-25'"
    )
    pf.policy_features(con, spec, CUTOFF)
    assert calls == [CUTOFF]
    con.execute(CHANGES[change])  # the past changed: computed again, equal to a fresh computation
    changed = pf.policy_features(con, spec, CUTOFF)
    assert calls == [CUTOFF, CUTOFF]
    pd.testing.assert_frame_equal(changed, _fresh(con, spec), check_exact=True)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(changed, first, check_exact=True)
    pf.policy_features(con, spec, CUTOFF)
    assert calls == [CUTOFF, CUTOFF]


def test_other_settings_or_cut_off_compute_and_unused_frames_are_dropped(monkeypatch):
    con = _warehouse(seed=3)
    calls = _computations(monkeypatch)
    pf.policy_features(con, _spec(), CUTOFF)
    wider = pf.policy_features(con, _spec(windows=[7, 30, 60]), CUTOFF)  # settings are in the fingerprint
    assert len(calls) == 2 and "count_completedOrder_60d" in wider.columns
    earlier = CUTOFF - dt.timedelta(days=5)
    pf.policy_features(con, _spec(), earlier)
    assert len(calls) == 3
    kept = {r[0] for r in con.execute("SELECT frame FROM policy_feature_frames").fetchall()}
    assert kept == {pf.frame_name("m", CUTOFF), pf.frame_name("m", earlier)}
    pf.drop_unused(con, {("m", earlier)})
    assert [r[0] for r in con.execute("SELECT frame FROM policy_feature_frames").fetchall()] == [
        pf.frame_name("m", earlier)
    ]
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [pf.frame_name("m", CUTOFF)]
    ).fetchone()[0]
    registered = con.execute("SELECT table_name FROM customer_tables").fetchall()
    assert (pf.frame_name("m", earlier),) in registered  # forget reaches the kept rows


def test_a_read_only_warehouse_reads_a_kept_frame_and_keeps_nothing(monkeypatch, tmp_path):
    path, spec = str(tmp_path / "warehouse.duckdb"), _spec()
    con = _warehouse(seed=5, path=path)
    fresh = _fresh(con, spec)
    con.close()
    calls = _computations(monkeypatch)
    with duckdb.connect(path, read_only=True) as report:  # nothing kept yet: computed, not kept
        pd.testing.assert_frame_equal(pf.policy_features(report, spec, CUTOFF), fresh, check_exact=True)
    with duckdb.connect(path) as evaluation:
        pf.policy_features(evaluation, spec, CUTOFF)  # kept
    assert calls == [CUTOFF, CUTOFF]
    with duckdb.connect(path, read_only=True) as report:
        pd.testing.assert_frame_equal(pf.policy_features(report, spec, CUTOFF), fresh, check_exact=True)
    assert calls == [CUTOFF, CUTOFF]  # read back
