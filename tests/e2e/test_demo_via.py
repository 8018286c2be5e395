"""`nightjar demo --via sftp|gcs`: the demo's transaction files are served by a local SFTP server
or GCS emulator and ingested through the real source."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
START = dt.date(2026, 1, 1)


def records(path: Path) -> int:
    """Data records of a demo file (CSV: lines after the header; JSON lines: non-blank lines)."""
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    lines = [x for x in data.decode("utf-8", "replace").splitlines() if x.strip()]
    return len(lines) - 1 if ".csv" in path.name else len(lines)


@pytest.mark.parametrize("via", ["sftp", "gcs"])
def test_demo_via_a_remote_source_reads_every_file_through_it(tmp_path, via):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    out = tmp_path / "demo"
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "nightjar"),
            "demo",
            "--customers",
            "60",
            "--days",
            "2",
            "--start",
            START.isoformat(),
            "--out",
            str(out),
            "--via",
            via,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"serving the transaction files over {via}" in run.stdout
    with connect(out / "warehouse.duckdb", read_only=True) as con:
        got = con.execute(
            "SELECT file, rows_read, status FROM loads WHERE dataset <> 'customers' AND source = $s ORDER BY "
            "file",
            {"s": f"demo_{via}"},
        ).fetchall()
        other = con.execute(
            "SELECT count(*) FROM loads WHERE dataset <> 'customers' AND source <> $s", {"s": f"demo_{via}"}
        ).fetchall()[0][0]
    files = sorted(p for p in (out / "files").iterdir() if not p.name.startswith("customers_"))
    assert other == 0
    assert got == [(p.name, records(p), "LOADED" if records(p) else "PROCESSED") for p in files]
    assert len(got) == 6  # 3 transactions x 2 days
