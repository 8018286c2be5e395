"""Helpers of the remote-source integration tests: a config whose `pos` transaction is read from
a remote source, and what a run left behind (rows, loads, every log line and metadata)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipeline.core.warehouse import connect
from tests.conftest import POS_HEADER, example_dict, make_config

D1, D2, D3 = dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)


def remote_config(folder: Path, source: dict, **pos_changes):
    """The example config with one more source; the `pos` transaction reads from it."""
    data = example_dict()
    sources = data["sources"] + [source]
    transactions = []
    for t in data["transactions"]:
        if t["name"] == "pos":
            t = {**t, "source": source["name"], **pos_changes}
        transactions.append(t)
    return make_config(folder, sources=sources, transactions=transactions)


def pos_csv(day: dt.date, rows: list[str]) -> str:
    """'order_id,customer_id,store,product,qty,amount' rows -> a trans_pos CSV text for ``day``."""
    lines = [POS_HEADER]
    for r in rows:
        oid, cid, rest = r.split(",", 2)
        lines.append(f"{oid},{cid},{day:%m/%d/%Y},{rest}")
    return "\n".join(lines) + "\n"


def range_pos_csv(rows: dict[dt.date, list[str]]) -> str:
    """A trans_pos CSV text holding the rows of several days (a range file)."""
    return POS_HEADER + "\n" + "".join(pos_csv(day, r).split("\n", 1)[1] for day, r in rows.items())


# a range file of three days, and a later file that restates the second day
RANGE_FILE = {
    D1: ["O1,C1,S1,P1,1,10.50"],
    D2: ["O2,C2,S1,P2,2,3", "O3,C3,S2,P2,x,4"],
    D3: ["O5,C5,S1,P1,1,2"],
}
RESTATED = {D2: ["O4,C4,S1,P1,1,7"]}


def assert_range_loaded(config) -> None:
    """What the range files RANGE_FILE then RESTATED leave: each row on its day, D2 as restated, and
    one load per file and day (rows_read = rows_loaded + rejected)."""
    assert [(r[0], r[2]) for r in tx_rows(config)] == [("O1", D1), ("O4", D2), ("O5", D3)]
    with connect(config.warehouse_path, read_only=True) as con:
        got = con.execute(
            "SELECT file, partition_date, status, rows_read, rows_loaded, rows_rejected FROM loads "
            "WHERE dataset = 'pos' ORDER BY load_id"
        ).fetchall()
    assert got[:4] == [
        ("trans_pos.csv", D1, "LOADED", 1, 1, 0),
        ("trans_pos.csv", D2, "LOADED", 2, 1, 1),
        ("trans_pos.csv", D3, "LOADED", 1, 1, 0),
        ("trans_pos_restated.csv", D2, "LOADED", 1, 1, 0),
    ]


def tx_rows(config, day: dt.date | None = None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        where = "WHERE _partition_date = $d" if day else ""
        return con.execute(
            f"SELECT order_id, customer_id, purchased_at, store, product, quantity, amount::VARCHAR "
            f"FROM tx_pos {where} ORDER BY order_id",
            {"d": day} if day else {},
        ).fetchall()


def loads(config) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(
            "SELECT partition_date, file, status, rows_read, rows_loaded, error FROM loads WHERE dataset = "
            "'pos' ORDER BY load_id"
        ).fetchall()


def everything_said(result, instance, config) -> str:
    """Every log message, event, metadata value and error of a run, and the whole loads table."""
    parts = []
    for rec in instance.all_logs(result.run_id):
        parts.append(rec.user_message or "")
        if rec.dagster_event is not None:
            parts.append(repr(rec.dagster_event))
    for e in result.all_events:
        parts.append(repr(e))
    with connect(config.warehouse_path, read_only=True) as con:
        parts.append(json.dumps(con.execute("SELECT * FROM loads").fetchall(), default=str))
        parts.append(json.dumps(con.execute("SELECT * FROM rejects").fetchall(), default=str))
    return "\n".join(parts)


def failure_text(result) -> str:
    return "\n".join(
        repr(e.event_specific_data)
        for e in result.all_events
        if e.event_type_value in ("STEP_FAILURE", "RUN_FAILURE")
    )
