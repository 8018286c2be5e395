"""A run of a range dataset upserted by key (`replaces: none`) that moves a row out of a day outside
its own partitions tells Dagster that day changed: a materialization of that partition, saying why,
so the assets downstream of it show as needing a run."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from pipeline.core.warehouse import connect
from tests.conftest import example_dict, make_config, run_nightly

D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
HEADER = "order_id,customer_id,purchased_at,store,product,quantity,amount\n"


def _config(tmp_path):
    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    options = {"files": "range", "replaces": "none", "key": ["order_id"]}
    return make_config(tmp_path, transactions=[{**pos, **options}])


def _land(tmp_path, name: str, rows: str, mtime: int) -> None:
    path = tmp_path / "files" / name
    path.write_text(HEADER + rows)
    os.utime(path, (mtime, mtime))  # range files are loaded oldest first


def _partition_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """The materializations of tx_pos that the run recorded: partition -> metadata (as text)."""
    records = instance.fetch_materializations(dg.AssetKey("tx_pos"), limit=100).records
    return {
        r.partition_key: {k: v.value for k, v in r.asset_materialization.metadata.items()}
        for r in records
        if r.run_id == run_id and r.partition_key is not None and r.asset_materialization is not None
    }


def test_a_row_moved_out_of_a_day_outside_the_run_materializes_that_day(tmp_path) -> None:
    config = _config(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    _land(
        tmp_path, "trans_pos_a.csv", "O1,C1,01/01/2026,S1,P1,1,5\nO2,C2,01/02/2026,S1,P1,1,5\n", 1_700_000_000
    )
    assert run_nightly(config, D1, D2, assets=["tx_pos"], instance=instance).success
    # a later file moves O1 to the 3rd: a run of the 3rd deletes it from the 1st
    _land(tmp_path, "trans_pos_b.csv", "O1,C1,01/03/2026,S1,P1,2,9\n", 1_700_000_100)
    result = run_nightly(config, D3, assets=["tx_pos"], instance=instance)
    assert result.success
    with connect(config.warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT order_id, _partition_date FROM tx_pos ORDER BY 1").fetchall()
    assert rows == [("O1", D3), ("O2", D2)]  # the 1st is now empty
    events = _partition_events(instance, result.run_id)
    assert sorted(events) == ["2026-01-01", "2026-01-03"]  # the run's own day, and the day it emptied
    changed = events["2026-01-01"]
    assert changed["changed_by_run_of"] == "2026-01-03"
    assert changed["file"] == "trans_pos_b.csv"
    assert "replaces: none" in changed["reason"] and "order_id" in changed["reason"]
    assert changed["rows_now"] == 0
    # the day the run did not change is not reported
    assert "2026-01-02" not in events
