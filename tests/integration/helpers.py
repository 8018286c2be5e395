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
