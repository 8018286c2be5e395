"""A range run builds `events` in batches of days (one pass per feed and batch): the same rows as
day by day."""

from __future__ import annotations

import datetime as dt

import dagster as dg

import pipeline.customers.events
from pipeline.core.warehouse import connect
from tests.conftest import make_config, run_nightly, write_pos

D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
ALL = "SELECT * FROM events ORDER BY ALL"


def rows(config, query=ALL):
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(query).fetchall()


def test_a_range_in_batches_equals_day_by_day_and_a_day_replaces_only_itself(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    files = tmp_path / "files"
    write_pos(files, D1, ["O1,C1,S1,P1,1,10.50", "O2,C2,S1,P1,1,3"])
    write_pos(files, D2, ["O4,C1,S1,P1,1,7"])
    write_pos(files, D3, ["O5,C1,S1,P1,1,8", "O6,C3,S2,P2,2,4"])
    monkeypatch.setattr(pipeline.customers.events, "EVENT_BATCH_DAYS", 2)  # D1..D2, then D3
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(
        config, D1, D3, assets=["tx_pos", "customer_identities", "events"], instance=instance
    )
    assert result.success
    ranged = rows(config)
    per_day = rows(config, "SELECT _partition_date, count(*) FROM events GROUP BY 1 ORDER BY 1")
    assert per_day == [(D1, 2), (D2, 1), (D3, 2)]
    assert result.asset_materializations_for_node("events")[0].metadata["rows"].value == 5
    logs = [
        e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("events 2026")
    ]
    assert logs == [
        "events 2026-01-01..2026-01-02: 3 rows ({'pos': 3})",
        "events 2026-01-03: 2 rows ({'pos': 2})",
    ]
    # the same partitions rebuilt one by one (the landed files unchanged, so the same load ids)
    for day in (D3, D1, D2):
        assert run_nightly(config, day, assets=["events"]).success
        assert rows(config) == ranged
