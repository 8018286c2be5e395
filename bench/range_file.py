"""Ingestion of one large range file against DuckDB's own reader of the same file.

``python -m bench.range_file --rows 5000000 --days 546 --repeat 2`` writes a comma CSV of ROWS orders
spread over DAYS days (bench/out/range_file/, git-ignored), then, alternately and each into a fresh
warehouse, times (1) Nightjar loading it as a range file (``files: range``: read, typed and
validated row by row with rejects, each row into its day's partition, one `loads` row per day) and
(2) DuckDB's ``read_csv`` with the same column types into one table (no validation, no partitions).
It prints the wall and CPU seconds (of all the process's threads) of each: on a shared machine
compare the ratios within one run, not the seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out" / "range_file"
START = dt.date(2025, 1, 1)
FIELDS = [
    {"name": "order_id", "type": "String", "required": True},
    {"name": "customer_id", "type": "String"},
    {"name": "sold_at", "type": "Timestamp"},
    {"name": "amount", "type": "Decimal"},
    {"name": "qty", "type": "Int"},
]
DUCKDB_TYPES = {
    "order_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "sold_at": "TIMESTAMP",
    "amount": "DECIMAL(18,4)",
    "qty": "BIGINT",
}


def write_file(rows: int, days: int) -> Path:
    """The range file (made once per size): ROWS orders at random times of DAYS days."""
    path = OUT / f"orders_{rows}_{days}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        orders = con.sql(
            """SELECT 'O' || i AS order_id, 'C' || (hash(i) % 100000) AS customer_id,
                      $start::TIMESTAMP + to_seconds((hash(i * 7) % ($days * 86400))::BIGINT) AS sold_at,
                      round((hash(i * 13) % 100000) / 100.0, 2) AS amount, 1 + hash(i * 17) % 5 AS qty
               FROM range($rows) t(i) ORDER BY sold_at""",
            params={"start": START, "days": days, "rows": rows},
        )
        orders.write_csv(str(path), header=True)
    return path


def nightjar(path: Path, folder: Path) -> tuple[float, int]:
    from pipeline.config import parse_config
    from pipeline.core.warehouse import connect
    from pipeline.ingest.ranges import ingest_range_file
    from pipeline.ingest.sources.local_files import landed_file

    data = {
        "start_date": START.isoformat(),
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": str(path.parent)}],
        "transactions": [
            {
                "name": "orders",
                "source": "landing",
                "file_name": path.stem,
                "files": "range",
                "customer_field": "customer_id",
                "time_field": "sold_at",
                "fields": FIELDS,
            }
        ],
    }
    config = parse_config(data, "bench.yaml", folder)
    started = time.monotonic()
    with connect(config.warehouse_path) as con:
        results = ingest_range_file(con, config.transactions[0], "landing", landed_file(path, START))
    seconds = time.monotonic() - started
    assert all(r.rows_read == r.rows_loaded + r.rows_rejected for r in results)
    return seconds, sum(r.rows_loaded for r in results)


def raw(path: Path, folder: Path) -> tuple[float, int]:
    started = time.monotonic()
    with duckdb.connect(str(folder / "raw.duckdb")) as con:
        con.execute(
            "CREATE TABLE orders AS SELECT * FROM read_csv($path, header = true, columns = $types)",
            {"path": str(path), "types": DUCKDB_TYPES},
        )
        rows = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
    return time.monotonic() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=546)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    t0 = time.monotonic()
    path = write_file(args.rows, args.days)
    print(f"file: {path.name}, {path.stat().st_size / 1e6:.0f} MB, written in {time.monotonic() - t0:.1f} s")
    for i in range(args.repeat):
        for name, run in (("nightjar", nightjar), ("duckdb read_csv", raw)):
            folder = OUT / f"run_{name.split()[0]}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            cpu = time.process_time()
            seconds, rows = run(path, folder)
            cpu = time.process_time() - cpu
            print(f"round {i + 1}: {name}: {seconds:.1f} s wall, {cpu:.1f} s CPU (all threads), {rows} rows")


if __name__ == "__main__":
    main()
