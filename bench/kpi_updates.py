"""The nightly KPI step, updated against rebuilt whole: ``python -m bench.kpi_updates --sf 0.1``.

On a copy of the bench world's base warehouse (bench/measures.py: every day's events), the last day's
events are set aside and the six KPI tables built; then, ``--repeat`` times, the last day is added back
and the six KPI steps run (``materialize``: the update, the reconciliation check, the summary, the plot)
as the nightly run does, updating the periods of the new day; then the same six steps on the same data
with the record of the last build dropped, so each table is rebuilt whole, as before. The two alternate,
so both see the same machine load; the tables of both are compared. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.measures import _config
from bench.run import built_warehouse, fresh_copy


def main(argv: list[str] | None = None) -> int:
    from pipeline.core.warehouse import connect
    from pipeline.customers.kpis import KPIS, materialize, prepare, rebuild

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sf", type=float, default=0.1)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    world, out, base = built_warehouse(args.sf)
    target = fresh_copy(base, out / "kpi_updates.duckdb")
    config = _config(world, target)
    times: dict[str, list[float]] = {"updated": [], "rebuilt whole": []}
    tables_only: dict[str, list[float]] = {"updated": [], "rebuilt whole": []}
    same = True
    with connect(config.warehouse_path) as con:
        (last,) = con.execute("SELECT max(_partition_date) FROM events").fetchone()
        (events,) = con.execute("SELECT count(*) FROM events").fetchone()
        con.execute(
            "CREATE TEMP TABLE _last_day AS SELECT * FROM events WHERE _partition_date = $d", {"d": last}
        )
        for _ in range(args.repeat):
            con.execute("DELETE FROM events WHERE _partition_date = $d", {"d": last})
            for kpi in KPIS:
                materialize(con, kpi)
            con.execute("INSERT INTO events SELECT * FROM _last_day")
            tables = {}
            for kind in times:
                if kind == "rebuilt whole":
                    con.execute("DELETE FROM built_kpis")
                t = time.perf_counter()
                prepare(con)
                done = {rebuild(con, kpi.name)[1].describe() for kpi in KPIS}
                tables_only[kind].append(time.perf_counter() - t)
                for kpi in KPIS:  # the rest of the step: checks, summary, plot (the tables are up to date)
                    materialize(con, kpi)
                times[kind].append(time.perf_counter() - t)
                assert (done == {"rebuilt whole"}) == (kind == "rebuilt whole"), done
                tables[kind] = [con.execute(f"SELECT * FROM {k.name} ORDER BY ALL").fetchall() for k in KPIS]
            same = same and tables["updated"] == tables["rebuilt whole"]
    for what, measured in (("the six tables", tables_only), ("the six steps", times)):
        for kind, seconds in measured.items():
            runs = ", ".join(f"{s:.2f}" for s in seconds)
            print(f"{what}, {kind}: median {statistics.median(seconds):.2f} s of {runs}")
        ratio = statistics.median(measured["updated"]) / statistics.median(measured["rebuilt whole"])
        print(f"{what} after day {last} ({events:,} events): updated / rebuilt whole = {ratio:.3f} x")
    print(f"tables identical: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
