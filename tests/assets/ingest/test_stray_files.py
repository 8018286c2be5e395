"""A stray customer file (one that fails, a name without a full date, two files for a day) is
reported and skipped: it never blocks the others."""

from __future__ import annotations

import dagster as dg
import pytest

from pipeline.core.warehouse import WarehouseResource, connect
from pipeline.ingest.runs import apply_customer_files
from pipeline.ingest.sources.local_files import usable_files
from tests.conftest import make_config


def test_a_customer_file_that_fails_does_not_block_the_later_ones(tmp_path):
    config = make_config(tmp_path)
    files = tmp_path / "files"
    (files / "customers_20260101.csv").write_text("customuid,num_age\nC1,30\n")
    (files / "customers_20260102.csv").write_text("not,a,customer,file\n1,2,3,4\n")  # stray: fails
    (files / "customers_20260103.csv").write_text("customuid,num_age\nC3,50\n")
    (files / "customers_2026014.csv").write_text("customuid,num_age\nC4,60\n")  # not a full date: ignored
    (files / "customers_20260104.csv").write_text("customuid,num_age\nC5,70\n")  # two files for a day:
    (files / "customers_20260104.json").write_text('{"header": ["customuid"], "data": [["C6"]]}')  # skipped
    usable, stray = usable_files(files, "customers")
    assert config.customers is not None
    warehouse = WarehouseResource(path=str(config.warehouse_path))
    with pytest.raises(dg.Failure) as failed:  # the failed file is reported...
        apply_customer_files(
            dg.build_asset_context(),
            warehouse,
            config,
            config.customers,
            "landing",
            usable,
        )
    assert "customers_20260102.csv" in str(failed.value.description)
    with connect(config.warehouse_path, read_only=True) as con:  # ...and the later file still applied
        assert con.execute("SELECT customuid FROM customers ORDER BY 1").fetchall() == [("C1",), ("C3",)]
        loads = con.execute("SELECT file, status FROM loads ORDER BY load_id").fetchall()
    assert loads == [
        ("customers_20260101.csv", "LOADED"),
        ("customers_20260102.csv", "FAILED"),
        ("customers_20260103.csv", "LOADED"),
    ]
    assert [s.split(":")[0] for s in stray] == [
        "customers_2026014.csv",
        "customers_20260104.csv",
        "customers_20260104.json",
    ]
    assert "the day is skipped" in stray[-1]
