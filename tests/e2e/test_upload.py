"""`nightjar upload`: a file handed to the CLI goes through the same ingestion path."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.cli import main
from pipeline.core.warehouse import connect
from tests.conftest import make_config, write_pos


def q(config, sql, params=None):
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def test_upload_customers_in_each_mode(tmp_path, capsys):
    config = make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    first = tmp_path / "crm.csv"
    first.write_text("customuid,txt_city\nC1,Paris\nC2,Rome\n")
    assert (
        main(["upload", str(first), "--dataset", "customers", "--config", cfg, "--date", "2026-01-01"]) == 0
    )
    assert "LOADED, 2 read, 2 loaded, 0 rejected" in capsys.readouterr().out
    wider = tmp_path / "crm2.csv"
    wider.write_text("customuid,txt_city,num_age\nC2,Rome,40\nC3,Oslo,\n")
    assert (
        main(["upload", str(wider), "--dataset", "customers", "--config", cfg]) == 1
    )  # update: columns differ
    assert "mode update needs exactly the data set's columns" in capsys.readouterr().out
    assert main(["upload", str(wider), "--dataset", "customers", "--mode", "overwrite", "--config", cfg]) == 0
    assert q(config, "SELECT customuid, txt_city, num_age FROM customers ORDER BY 1") == [
        ("C2", "Rome", 40.0),
        ("C3", "Oslo", None),
    ]
    assert main(["upload", str(first), "--dataset", "customers", "--mode", "create", "--config", cfg]) == 1
    assert "mode create makes a new data set" in capsys.readouterr().out


def test_upload_a_transaction_file_takes_its_day_from_the_name(tmp_path, capsys):
    config = make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    path = write_pos(tmp_path, dt.date(2026, 1, 3), ["O1,C1,S1,P1,1,5", "O2,C2,S1,P1,x,5"])
    assert main(["upload", str(path), "--dataset", "pos", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "(2026-01-03): LOADED, 2 read, 1 loaded, 1 rejected" in out and "quantity: 1 row(s)" in out
    assert q(config, "SELECT order_id, _partition_date FROM tx_pos") == [("O1", dt.date(2026, 1, 3))]
    assert q(config, "SELECT dataset, source, status FROM loads") == [("pos", "upload", "LOADED")]
    odd = tmp_path / "export.csv"
    odd.write_text(path.read_text())
    with pytest.raises(SystemExit, match="no date in the name .* give --date"):
        main(["upload", str(odd), "--dataset", "pos", "--config", cfg])
    assert main(["upload", str(odd), "--dataset", "nope", "--config", cfg]) == 1
    assert "no transaction named 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("date_format", ["%Y%m%d", "%d.%m.%Y"])
def test_upload_reads_the_day_of_a_name_as_the_pipeline_does(tmp_path, capsys, date_format):
    source = {"name": "landing", "kind": "local_files", "folder": "files", "date_format": date_format}
    config = make_config(tmp_path, sources=[source])
    cfg = str(tmp_path / "nightjar.yaml")
    path = write_pos(tmp_path, dt.date(2026, 12, 5), ["O1,C1,S1,P1,1,5"])
    named = path.rename(tmp_path / f"trans_pos_{dt.date(2026, 12, 5):{date_format}}.csv")
    assert main(["upload", str(named), "--dataset", "pos", "--config", cfg]) == 0
    assert "(2026-12-05): LOADED, 1 read, 1 loaded" in capsys.readouterr().out
    assert q(config, "SELECT order_id, _partition_date FROM tx_pos") == [("O1", dt.date(2026, 12, 5))]


def test_upload_refuses_a_name_the_pipeline_ignores(tmp_path):
    config = make_config(tmp_path)
    path = write_pos(tmp_path, dt.date(2026, 12, 5), ["O1,C1,S1,P1,1,5"])
    odd = path.rename(tmp_path / "trans_pos_2026125.csv")  # not 2026-12-05 written in full in %Y%m%d
    with pytest.raises(SystemExit, match=r"trans_pos_2026125.csv: no date in the name .* give --date"):
        main(["upload", str(odd), "--dataset", "pos", "--config", str(tmp_path / "nightjar.yaml")])
    assert not config.warehouse_path.exists()


def test_upload_refuses_a_day_that_is_not_a_partition(tmp_path, capsys):
    # it loaded the file and recorded a partition Dagster does not have (before start_date, or not over)
    config = make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    early = write_pos(tmp_path, dt.date(2025, 12, 30), ["O1,C1,S1,P1,1,5"])
    assert main(["upload", str(early), "--dataset", "pos", "--config", cfg]) == 1
    assert capsys.readouterr().err == (
        "trans_pos_20251230.csv: day 2025-12-30 is not a partition: "
        "2025-12-30 is before the config's start_date 2026-01-01\n"
    )
    today = dt.datetime.now(dt.UTC).date()
    assert main(["upload", str(early), "--dataset", "pos", "--date", today.isoformat(), "--config", cfg]) == 1
    assert f"day {today} is not a partition: {today} is not a partition yet" in capsys.readouterr().err
    assert not config.warehouse_path.exists()  # nothing loaded, nothing recorded
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert main(["upload", str(early), "--dataset", "pos", "--date", yesterday, "--config", cfg]) == 0


def test_backfill_refuses_days_that_are_not_partitions(tmp_path, capsys):
    make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    assert main(["backfill", "--from", "2025-12-30", "--to", "2026-01-02", "--config", cfg]) == 2
    assert "2025-12-30 is before the config's start_date 2026-01-01" in capsys.readouterr().err
    assert main(["backfill", "--from", "2026-01-03", "--to", "2026-01-02", "--config", cfg]) == 2
    assert "ends (2026-01-02) before it starts (2026-01-03)" in capsys.readouterr().err
    future = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    assert main(["backfill", "--from", "2026-01-01", "--to", future, "--config", cfg]) == 2
    assert "is not a partition yet" in capsys.readouterr().err
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing ran


def test_demo_refuses_a_world_that_ends_in_the_future(tmp_path, capsys):
    start = dt.datetime.now(dt.UTC).date()
    assert main(["demo", "--start", start.isoformat(), "--days", "3", "--out", str(tmp_path)]) == 2
    assert "--start may be" in capsys.readouterr().err
    assert main(["demo", "--customers", "0", "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "files").exists()


def test_upload_a_range_file_loads_its_days_and_tells_dagster(tmp_path, capsys, monkeypatch):
    import dagster as dg

    config = make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    path = tmp_path / "trans_pos.csv"  # no date in the name: a range file
    path.write_text(
        "order_id,customer_id,purchased_at,store,product,quantity,amount\n"
        "O1,C1,01/02/2026,S1,P1,1,5\nO2,C2,01/03/2026,S1,P1,2,5\nO3,C2,01/03/2026,S1,P1,x,5\n"
    )
    assert main(["upload", str(path), "--dataset", "pos", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "(2026-01-02): LOADED, 1 read, 1 loaded, 0 rejected" in out
    assert "(2026-01-03): LOADED, 2 read, 1 loaded, 1 rejected" in out
    assert "reported 2 materialization(s) of tx_pos" in out
    assert q(config, "SELECT order_id, _partition_date FROM tx_pos ORDER BY 1") == [
        ("O1", dt.date(2026, 1, 2)),
        ("O2", dt.date(2026, 1, 3)),
    ]
    with dg.DagsterInstance.get() as instance:
        assert instance.get_materialized_partitions(dg.AssetKey("tx_pos")) == {"2026-01-02", "2026-01-03"}


def test_commands_of_dagster_refuse_a_dagster_home_that_is_not_a_folder(tmp_path, capsys, monkeypatch):
    make_config(tmp_path)
    cfg = str(tmp_path / "nightjar.yaml")
    path = write_pos(tmp_path, dt.date(2026, 1, 3), ["O1,C1,S1,P1,1,5"])
    missing = tmp_path / "no_such_home"
    monkeypatch.setenv("DAGSTER_HOME", str(missing))
    refused = (
        f"DAGSTER_HOME={missing} is not a folder (Dagster keeps its runs there): create it or set another\n"
    )
    for command in (
        ["backfill", "--from", "2026-01-01", "--to", "2026-01-01", "--config", cfg],
        ["recover", "--dry-run"],
        ["upload", str(path), "--dataset", "pos", "--config", cfg],
        ["demo", "--customers", "5", "--days", "2", "--out", str(tmp_path / "demo")],
    ):
        assert main(command) == 1, command
        assert capsys.readouterr().err == refused
    assert not (tmp_path / "warehouse.duckdb").exists() and not (tmp_path / "demo").exists()  # nothing ran
    monkeypatch.setenv("DAGSTER_HOME", "relative/home")
    assert main(["recover", "--dry-run"]) == 1
    assert "DAGSTER_HOME=relative/home is not an absolute path" in capsys.readouterr().err
