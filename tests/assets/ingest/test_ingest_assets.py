"""Ingestion assets materialized in-process against a temporary warehouse."""

from __future__ import annotations

import datetime as dt
import json
import os

import dagster as dg
import pytest

from assets import ingest as ingest_assets
from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.core.warehouse import connect
from pipeline.definitions import build_definitions
from pipeline.ingest import write
from pipeline.ops import jobs
from tests.conftest import make_config, run_nightly, write_pos

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)


def rows(config, table: str, day: dt.date | None = None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        where = "WHERE _partition_date = $d" if day else ""
        return con.execute(
            f"SELECT * EXCLUDE (_load_id) FROM {table} {where} ORDER BY ALL", {"d": day} if day else {}
        ).fetchall()


def query(config, sql: str, params=None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def check_results(result) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


@pytest.fixture
def config(tmp_path):
    cfg = make_config(tmp_path)
    files = tmp_path / "files"
    write_pos(files, D1, ["O1,C1,S1,P1,1,10.50", "O2,,S1,P1,1,3", "O3,C3,S2,P2,2,ten"])
    write_pos(files, D2, ["O4,C1,S1,P1,1,7"])
    return cfg


def test_rematerializing_a_partition_twice_leaves_identical_rows(config):
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    first, first_rejects = (
        rows(config, "tx_pos"),
        query(config, "SELECT row_number, reason FROM rejects ORDER BY 1"),
    )
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert rows(config, "tx_pos") == first
    assert query(config, "SELECT row_number, reason FROM rejects ORDER BY 1") == first_rejects
    assert [r[0] for r in first] == ["O1"]  # order_id of the one good row
    assert [r[0] for r in first_rejects] == [2, 3]
    loads = query(config, "SELECT status, rows_read, rows_loaded, rows_rejected FROM loads ORDER BY load_id")
    assert loads == [("LOADED", 3, 1, 2), ("LOADED", 3, 1, 2)]


def test_a_range_is_one_run_and_each_day_its_own_partition(config):
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, D2, assets=["tx_pos"], instance=instance)
    assert result.success
    assert len(instance.get_runs()) == 1
    assert query(config, "SELECT _partition_date, count(*) FROM tx_pos GROUP BY 1 ORDER BY 1") == [
        (D1, 1),
        (D2, 1),
    ]
    # the same day again changes nothing, the other day is untouched
    before = rows(config, "tx_pos", D2)
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert rows(config, "tx_pos", D2) == before


def test_a_failure_in_the_middle_of_a_write_leaves_the_previous_partition(config, monkeypatch):
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    before, before_rejects = rows(config, "tx_pos"), query(config, "SELECT * FROM rejects ORDER BY ALL")
    write_pos(config.resolve(config.sources[0].folder), D1, ["N1,C9,S9,P9,9,99", "N2,C8,S8,P8,8,88"])

    def crash(*args, **kwargs):
        raise RuntimeError("disk unplugged while recording the load")

    monkeypatch.setattr(write, "record_loads", crash)  # after the partition's delete + insert
    # the step is retried three times and crashes each time: without the waits between (2, 6 and 14 s)
    quick = dg.RetryPolicy(max_retries=TRANSIENT_RETRY.max_retries)
    for module in (ingest_assets, jobs):
        monkeypatch.setattr(module, "TRANSIENT_RETRY", quick)
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert not result.success
    assert sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events) == 3
    assert rows(config, "tx_pos") == before
    assert query(config, "SELECT * FROM rejects ORDER BY ALL") == before_rejects
    monkeypatch.undo()
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert [r[0] for r in rows(config, "tx_pos")] == ["N1", "N2"]


def test_missing_file_fails_the_partition_with_a_clear_error(config):
    result = run_nightly(config, dt.date(2026, 1, 3), assets=["tx_pos"])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no file trans_pos_20260103.*" in failure.step_failure_data.error.message
    assert query(config, "SELECT status, error LIKE 'no file%' FROM loads") == [("FAILED", True)]


def test_asset_checks(config, tmp_path):
    result = run_nightly(config, D1, assets=["tx_pos"])
    checks = check_results(result)
    assert checks == {"reject_rate_under_threshold": False, "partition_not_empty": True}  # 2 of 3 rejected
    (tmp_path / "files" / "trans_pos_20260102.csv").write_text(
        "order_id,customer_id,purchased_at,store,product,quantity,amount\n"
    )
    relaxed = make_config(tmp_path, checks={"max_reject_rate": 0.9})
    checks = check_results(run_nightly(relaxed, D1, D2, assets=["tx_pos"]))
    assert checks == {"reject_rate_under_threshold": True, "partition_not_empty": False}
    assert query(config, "SELECT status FROM loads WHERE partition_date = $d", {"d": D2}) == [("PROCESSED",)]


def test_materialization_metadata(config):
    result = run_nightly(config, D1, assets=["tx_pos"])
    mat = result.asset_materializations_for_node("tx_pos")[0]
    md = mat.metadata
    assert (
        md["rows_loaded"].value == 1 and md["rows_rejected"].value == 2 and md["dagster/row_count"].value == 1
    )
    assert "amount: '…' is not a Decimal" in md["rejects_by_reason"].value
    # no raw identifier goes into Dagster's run history (forget cannot reach it there): the customer
    # field is shown as "…", and so is the quoted value of the example reason
    assert "| O1 | … | 2026-01-01 |" in md["preview"].value and "C1" not in md["preview"].value
    assert "'ten'" not in md["rejects_by_reason"].value
    columns = {c.name: c.type for c in md["dagster/column_schema"].schema.columns}
    assert columns["amount"] == "DECIMAL(18,4)" and columns["purchased_at"] == "DATE"


def test_customers_asset_applies_each_file_once(tmp_path):
    config = make_config(tmp_path)
    files = tmp_path / "files"
    (files / "customers_20260101.csv").write_text("customuid,email,num_age\nC1,a@x.com,30\nC2,,40\n")
    (files / "customers_20260102.csv").write_text("customuid,email,num_age\nC2,b@x.com,41\nC3,,50\n")
    result = run_nightly(config, D2, assets=["customers"])
    assert result.success
    assert check_results(result) == {"customuid_unique": True, "reject_rate_under_threshold": True}
    got = query(config, "SELECT customuid, num_age, _first_seen_at, _updated_at FROM customers ORDER BY 1")
    assert got == [("C1", 30.0, D1, D1), ("C2", 41.0, D1, D2), ("C3", 50.0, D2, D2)]
    shown = result.asset_materializations_for_node("customers")[0].metadata["preview"].value
    assert "| … | … | 30.0 |" in shown and not any(c in shown for c in ("C1", "C2", "C3"))
    run_nightly(config, D2, assets=["customers"])
    assert query(config, "SELECT count(*) FROM loads") == [(2,)]  # nothing new: nothing applied
    os.utime(files / "customers_20260102.csv", (1, 1))  # changed mtime: applied again
    run_nightly(config, D2, assets=["customers"])
    assert query(config, "SELECT count(*) FROM loads") == [(3,)]
    # an older file that changes is applied again, and so is every later file, in date order
    (files / "customers_20260101.csv").write_text("customuid,email,num_age\nC1,a@x.com,31\nC2,,39\n")
    os.utime(files / "customers_20260101.csv", (5, 5))  # same size: the new mtime tells the new version
    run_nightly(config, D2, assets=["customers"])
    assert query(config, "SELECT file FROM loads WHERE load_id > 3 ORDER BY load_id") == [
        ("customers_20260101.csv",),
        ("customers_20260102.csv",),
    ]
    got = query(config, "SELECT customuid, num_age, _first_seen_at, _updated_at FROM customers ORDER BY 1")
    assert got == [("C1", 31.0, D1, D1), ("C2", 41.0, D1, D2), ("C3", 50.0, D2, D2)]


def test_definitions_snapshot(config):
    defs = build_definitions(config)
    graph = defs.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert keys == [
        "attribution_credits",
        "attribution_summary",
        "conversions",
        "customer_identities",
        "customers",
        "events",
        "events_retention",
        "experiment_report",
        "kpi_customer_behaviour",
        "kpi_customers",
        "kpi_events",
        "kpi_purchases",
        "kpi_reachability",
        "kpi_web",
        "policy_evaluation",
        "published",
        "report",
        "results",
        "tx_campaign_events",
        "tx_pos",
        "tx_web_sessions",
    ]
    for key in keys:
        asset = defs.resolve_assets_def(dg.AssetKey(key))
        assert asset.op.pool == ("duckdb" if key != "report" else None), key  # the report reads the snapshot
        if key.startswith(("tx_", "events", "attribution_")):
            assert asset.partitions_def.start.date() == config.start_date
            assert asset.backfill_policy == dg.BackfillPolicy.single_run()
    checks = sorted(k.name for k in graph.asset_check_keys)
    assert checks == sorted(
        ["customuid_unique", "reject_rate_under_threshold"]
        + ["reject_rate_under_threshold", "partition_not_empty"] * 3
        + ["no_customer_without_an_identifier", "every_event_has_a_known_customer_or_is_anonymous"]
        + ["kpi_totals_reconcile"] * 6
        + ["orders_in_one_currency"]
        + ["credits_sum_to_one"]
    )
    assert [s.name for s in defs.schedules] == ["nightly_schedule"]
    assert [s.name for s in defs.sensors] == ["landing_files_sensor"]


def test_nightly_schedule_runs_yesterday(config):
    schedule = build_definitions(config).resolve_schedule_def("nightly_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 1, 10, 2, 0, tzinfo=dt.UTC)
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-01-09"]


def test_file_sensor_waits_for_a_day_to_become_a_partition(config, tmp_path):
    from pipeline.ingest.sources.local_files import list_files
    from pipeline.ops.sensors import new_file_requests

    files = {"tx_pos": list_files(tmp_path / "files", "trans_pos")}
    requests, cursor, notes = new_file_requests(files, {"tx_pos": True}, {}, {"2026-01-01"})
    assert [r.partition_key for r in requests] == ["2026-01-01"]
    assert "trans_pos_20260102.csv: day 2026-01-02 is not a partition" in notes[0]
    later, _, _ = new_file_requests(files, {"tx_pos": True}, cursor, {"2026-01-01", "2026-01-02"})
    assert [r.partition_key for r in later] == ["2026-01-02"]


def test_file_sensor_requests_each_file_version_once(config, tmp_path):
    sensor = build_definitions(config).resolve_sensor_def("landing_files_sensor")
    result = sensor(dg.build_sensor_context(cursor=None))
    got = sorted((r.asset_selection[0].to_user_string(), r.partition_key) for r in result.run_requests)
    assert got == [("tx_pos", "2026-01-01"), ("tx_pos", "2026-01-02")]
    cursor = result.cursor
    assert set(json.loads(cursor)) == {"trans_pos_20260101.csv", "trans_pos_20260102.csv"}
    again = sensor(dg.build_sensor_context(cursor=cursor))
    assert again.run_requests == []
    write_pos(tmp_path / "files", D2, ["O4,C1,S1,P1,1,7", "O5,C2,S1,P1,1,8"])  # changed size
    (tmp_path / "files" / "customers_20260101.csv").write_text("customuid\nC1\n")
    changed = sensor(dg.build_sensor_context(cursor=cursor))
    got = sorted((r.asset_selection[0].to_user_string(), r.partition_key) for r in changed.run_requests)
    assert got == [("customers", None), ("tx_pos", "2026-01-02")]
    assert all(
        r.run_key.endswith(":" + str(int((tmp_path / "files" / r.tags["nightjar/file"]).stat().st_mtime)))
        for r in changed.run_requests
    )


def _with_pos(tmp_path, **pos_options):
    """The example config with only its `pos` transactions, changed by ``pos_options``."""
    from tests.conftest import example_dict

    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    return make_config(tmp_path, transactions=[{**pos, **pos_options}])


def test_a_range_file_fills_the_partitions_of_a_run(tmp_path):
    config = _with_pos(tmp_path, files="range")
    (tmp_path / "files" / "trans_pos.csv").write_text(
        "order_id,customer_id,purchased_at,store,product,quantity,amount\n"
        "O1,C1,01/01/2026,S1,P1,1,5\nO2,C2,01/02/2026,S1,P1,2,5\nO3,C3,01/03/2026,S1,P1,1,5\n"
    )
    assert run_nightly(config, D1, D2, assets=["tx_pos"]).success
    assert query(config, "SELECT order_id, _partition_date FROM tx_pos ORDER BY 1") == [
        ("O1", D1),
        ("O2", D2),
    ]
    assert query(config, "SELECT partition_date, rows_read FROM loads ORDER BY 1") == [(D1, 1), (D2, 1)]


def test_missing_file_empty_records_a_processed_day(tmp_path):
    config = _with_pos(tmp_path, missing_file="empty")
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,5"])
    assert run_nightly(config, D1, D2, assets=["tx_pos"]).success
    assert query(config, "SELECT partition_date, status, rows_read FROM loads ORDER BY 1") == [
        (D1, "LOADED", 1),
        (D2, "PROCESSED", 0),
    ]
    # a day that had rows and whose file is gone is emptied, as a header-only file would
    (tmp_path / "files" / "trans_pos_20260101.csv").unlink()
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert query(config, "SELECT count(*) FROM tx_pos") == [(0,)]


def test_file_sensor_skips_a_day_with_two_files_and_requests_the_others(config, tmp_path, capsys):
    files = tmp_path / "files"
    (files / "customers_20260101.csv").write_text("customuid\nC1\n")
    (files / "customers_20260101.json").write_text('{"customuid": "C1"}\n')
    sensor = build_definitions(config).resolve_sensor_def("landing_files_sensor")
    result = sensor(dg.build_sensor_context(cursor=None))
    got = sorted((r.asset_selection[0].to_user_string(), r.partition_key) for r in result.run_requests)
    assert got == [("tx_pos", "2026-01-01"), ("tx_pos", "2026-01-02")]
    assert "WARNING - customers: customers_20260101.csv: one of two or more files for 2026-01-01" in (
        capsys.readouterr().err
    )


def test_file_sensor_does_not_watch_range_files(tmp_path):
    from pipeline.ops.sensors import watched_datasets

    config = _with_pos(tmp_path, files="range")
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50"])  # a range file named with a date
    (tmp_path / "files" / "customers_20260101.csv").write_text("customuid\nC1\n")
    assert [a for _, a, _ in watched_datasets(config, config.sources[0])] == ["customers"]
    sensor = build_definitions(config).resolve_sensor_def("landing_files_sensor")
    result = sensor(dg.build_sensor_context(cursor=None))
    assert [r.asset_selection[0].to_user_string() for r in result.run_requests] == ["customers"]
