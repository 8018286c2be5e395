"""An identity change reaches the days already attributed: a web session by an unknown device (day 1),
an order by a known customer (day 2), and on day 3 a customer file links the device to the buyer.
The day-3 run re-points the session to the buyer (identity matching) and attributes day 2 again, as a
warehouse that knew the link from the start attributes it, and tells Dagster it did."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from pipeline.attribution.credits import CREDITS, SUMMARY
from pipeline.core.warehouse import connect
from tests.conftest import example_dict, make_config, run_nightly, write_pos

D1, D2, D3 = (dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(3))
ASSETS = ["customers", "customer_identities", "tx_pos", "tx_web_sessions", "events", CREDITS, SUMMARY]
# every column but the event ids (the loads that numbered them differ between the two warehouses)
CREDIT_COLUMNS = (
    "_partition_date, conversion, customer_id, model, model_type, channel, channel_id, touched_at, "
    "converted_at, conversion_value, credit_share, credited_value, touches"
)


def _session(session_id: str, key: str, at: str, channel: str) -> str:
    row = {
        "session_id": session_id,
        "customer_id": key,
        "started_at": at,
        "page_views": 1,
        "channel": channel,
    }
    return json.dumps({**row, "purchased": False, "revenue": 0}) + "\n"


def _customers(folder: Path, day: dt.date, idfa: str) -> None:
    (folder / "files" / f"customers_{day:%Y%m%d}.csv").write_text(
        f"customuid,emailsha256,idfa\nC,e1,{idfa}\n"
    )


def _world(folder: Path, device_of_c: str):
    """Customer C (device ``device_of_c``); a Paid Search session by device A on day 1, C's order on
    day 2, and a Direct session of an unknown key every day after the first."""
    feeds = {t["name"]: t for t in example_dict()["transactions"]}
    web = {**feeds["web_sessions"], "customer_key": ["customuid", "idfa"]}
    config = make_config(folder, D1, transactions=[feeds["pos"], web])
    files = folder / "files"
    _customers(folder, D1, device_of_c)
    for day in (D1, D2, D3):
        write_pos(files, day, ["O1,C,ST01,SKU1,1,50.00"] if day == D2 else [])
        who, channel = ("A", "Paid Search") if day == D1 else ("B", "Direct")
        (files / f"web_sessions_{day:%Y%m%d}.jsonl").write_text(
            _session(f"S{day.day}", who, f"{day} 10:00:00", channel)
        )
    return config


def _outputs(config, day: dt.date) -> tuple[list, list]:
    with connect(config.warehouse_path, read_only=True) as con:
        credits = con.execute(
            f"SELECT {CREDIT_COLUMNS} FROM {CREDITS} WHERE _partition_date = ? ORDER BY ALL", [day]
        ).fetchall()
        summary = con.execute(f"SELECT * FROM {SUMMARY} WHERE date = ? ORDER BY ALL", [day]).fetchall()
    return credits, summary


def _partitions(result, asset: str) -> set[str]:
    return {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.path == [asset]
    }


def test_a_later_link_attributes_the_days_it_reaches_again_as_a_fresh_warehouse_does(tmp_path):
    late = _world(tmp_path / "late", device_of_c="Z")
    instance = dg.DagsterInstance.ephemeral()
    for day in (D1, D2):
        assert run_nightly(late, day, assets=ASSETS, instance=instance).success
    last_click = f"SELECT channel FROM {CREDITS} WHERE model = 'Last Click' AND _partition_date = ?"
    with connect(late.warehouse_path, read_only=True) as con:
        assert con.execute(last_click, [D2]).fetchall() == [("(unattributed)",)]  # the session is A's
    _customers(tmp_path / "late", D3, "A")  # the login: device A is C's
    result = run_nightly(late, D3, assets=ASSETS, instance=instance)
    assert result.success
    with connect(late.warehouse_path, read_only=True) as con:
        assert con.execute(last_click, [D2]).fetchall() == [("Paid Search",)]
        assert con.execute("SELECT count(*) FROM identity_event_changes").fetchall() == [(0,)]
    # Dagster sees day 2 (and day 1, the session's own, re-learnt by Markov / Shapley) changed
    for asset in (CREDITS, SUMMARY):
        assert _partitions(result, asset) == {str(D1), str(D2), str(D3)}
    fresh = _world(tmp_path / "fresh", device_of_c="A")
    assert run_nightly(fresh, D1, D3, assets=ASSETS).success
    for day in (D1, D2, D3):
        assert _outputs(late, day) == _outputs(fresh, day), day
    # a run with no identity change attributes only its own days
    again = run_nightly(late, D3, assets=ASSETS, instance=instance)
    assert again.success and _partitions(again, CREDITS) == {str(D3)}
