"""A range of days attributed at once against day by day: ``python -m bench.attribution_ranges --sf 0.1``.

On copies of the bench world's base warehouse (bench/measures.py), the last ``--days`` days attributed
with the example config's models (``--models example``) or the built-ins alone (``builtin``): day by
day (``build_attribution``, what the attribution asset did for each day of a range) on one copy, and
in ranges (``attribute_days``, up to RANGE_DAYS) on the other, alternating so both see the same
machine load. Prints both times and whether the tables are identical. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from bench.measures import _all_days, _config
from bench.run import built_warehouse, fresh_copy


def main(argv: list[str] | None = None) -> int:
    from pipeline.attribution.credits import attribute_days, build_attribution
    from pipeline.attribution.ranges import RANGE_DAYS
    from pipeline.core.warehouse import connect

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sf", type=float, default=0.1)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--models", choices=["example", "builtin"], default="example")
    args = p.parse_args(argv)
    world, out, base = built_warehouse(args.sf)
    days = _all_days(world)[-args.days :]
    configs, seconds = {}, {"day by day": 0.0, "ranges": 0.0}
    for kind in seconds:
        target = out / f"ranges_{kind.replace(' ', '_')}.duckdb"
        fresh_copy(base, target)
        config = _config(world, target)
        if args.models == "builtin":
            config = config.model_copy(
                update={"attribution": config.attribution.model_copy(update={"models": []})}
            )
        configs[kind] = config
    for i in range(0, len(days), RANGE_DAYS):
        chunk: list[dt.date] = days[i : i + RANGE_DAYS]
        with connect(configs["day by day"].warehouse_path) as con:
            t = time.perf_counter()
            for day in chunk:
                build_attribution(con, configs["day by day"], day)
            seconds["day by day"] += time.perf_counter() - t
        with connect(configs["ranges"].warehouse_path) as con:
            t = time.perf_counter()
            list(attribute_days(con, configs["ranges"], chunk))
            seconds["ranges"] += time.perf_counter() - t
    tables = {}
    for kind, config in configs.items():
        with connect(config.warehouse_path) as con:
            tables[kind] = [
                con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("attribution_credits", "attribution_summary")
            ]
    for kind, s in seconds.items():
        print(f"{kind}: {s:.1f} s")
    ratio = seconds["ranges"] / seconds["day by day"]
    same = tables["ranges"] == tables["day by day"]
    print(
        f"{args.models} models, {len(days)} days: ranges / day by day = {ratio:.3f} x; "
        f"tables identical: {same}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
