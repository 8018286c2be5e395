"""Credit rows per touch against per channel: ``python -m bench.credit_rows --sf 0.1 --days 30``.

On the bench world of the scale factor (bench/run.py's, generated once) and its base warehouse (events
over every day; bench/measures.py), the attribution of the example config's models (built-ins and
custom) over the last ``--days`` days, twice on copies of the same warehouse, alternating day by day so
that both see the same machine load: with every model's credits per touch (``perTouchCredits: true``,
what attribution_credits held before) and with the default (one row per conversion, model and channel).
Prints the rows written, the seconds and the warehouse's size for each, and checks that the two
summaries are the same bits. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import time

from bench.measures import _all_days, _config
from bench.run import built_warehouse, fresh_copy


def main(argv: list[str] | None = None) -> int:
    from pipeline.attribution.credits import build_attribution
    from pipeline.core.warehouse import connect

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sf", type=float, default=0.1)
    p.add_argument("--days", type=int, default=30)
    args = p.parse_args(argv)
    world, out, base = built_warehouse(args.sf)
    days = _all_days(world)[-args.days :]
    kinds = {"per_touch": True, "per_channel": False}
    configs, seconds, rows = {}, dict.fromkeys(kinds, 0.0), dict.fromkeys(kinds, 0)
    for kind, flag in kinds.items():
        target = out / f"credits_{kind}.duckdb"
        fresh_copy(base, target)
        config = _config(world, target)
        attribution = config.attribution.model_copy(update={"perTouchCredits": flag})
        configs[kind] = config.model_copy(update={"attribution": attribution})
    for day in days:
        for kind, config in configs.items():
            with connect(config.warehouse_path) as con:
                t = time.perf_counter()
                rows[kind] += build_attribution(con, config, day)["credits"]
                seconds[kind] += time.perf_counter() - t
    summaries = {}
    for kind, config in configs.items():
        with connect(config.warehouse_path) as con:
            con.execute("CHECKPOINT")
            summaries[kind] = con.execute("SELECT * FROM attribution_summary ORDER BY ALL").fetchall()
        size = config.warehouse_path.stat().st_size / 2**20
        print(
            f"{kind}: {rows[kind]:,} credit rows, {seconds[kind]:.1f} s, warehouse {size:,.0f} MB", flush=True
        )
    ratio_rows = rows["per_channel"] / rows["per_touch"]
    ratio_time = seconds["per_channel"] / seconds["per_touch"]
    same = summaries["per_touch"] == summaries["per_channel"]
    print(
        f"rows {ratio_rows:.3f} x, time {ratio_time:.3f} x over {len(days)} days; summaries identical: {same}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
