"""`nightjar export` to a remote destination: the warehouse is open only while the file is written, not
while it is delivered (an upload may take minutes, retried; DuckDB allows one writer or many readers)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pipeline.activation.destinations as destinations
from pipeline.cli import main
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from tests.conftest import example_dict, make_config

DAY = dt.date(2026, 1, 9)
PARTNER = {
    "name": "partner",
    "kind": "sftp",
    "host": "127.0.0.1",
    "username": "nightjar",
    "password_env": "PARTNER_PASSWORD",
    "check_host_key": False,
}
# another process opening the warehouse to write, as a nightly run's step does
WRITER = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


def test_the_warehouse_can_be_written_while_an_export_is_delivered(tmp_path: Path, monkeypatch, capsys):
    # it stayed open read-only through the upload and its retries: a nightly run's step starting meanwhile
    # could not open the warehouse ("in use by process ...")
    config = make_config(tmp_path, sources=[*example_dict()["sources"], PARTNER])
    with connect(config.warehouse_path) as con:
        con.execute(sql("models/create"))
        rows = "SELECT $d, 'C' || i, 'm', $d, 0.5, NULL FROM range(3) t(i)"
        con.execute(f"INSERT INTO predictions {rows}", {"d": DAY})
    writers = []

    def deliver(config, dest, local, overwrite=True, log=None, day=None) -> str:
        assert local.read_text().count("\n") == 4  # the header and the 3 rows, written before
        writer = [sys.executable, "-c", WRITER, str(config.warehouse_path)]
        writers.append(subprocess.run(writer, capture_output=True, text=True, timeout=120))
        return f"sftp://partner/{dest.path}"

    monkeypatch.setattr(destinations, "deliver", deliver)
    monkeypatch.setenv("PARTNER_PASSWORD", "secret")
    args = ["export", "predictions", "--date", str(DAY), "--to", "sftp://partner/p_{date}.csv"]
    assert main([*args, "--config", str(config.base_dir / "nightjar.yaml")]) == 0, capsys.readouterr().err
    assert [(w.returncode, w.stderr[-300:]) for w in writers] == [(0, "")]
    assert capsys.readouterr().out == f"predictions {DAY}: 3 rows -> sftp://partner/p_{DAY:%Y%m%d}.csv\n"
