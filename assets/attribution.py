"""Attribution assets: attribution_credits and attribution_summary, one partition per conversion day."""

import dagster as dg

from pipeline.attribution.bootstrap import LEVEL
from pipeline.attribution.credits import CREDITS, SUMMARY, attribute_range, attribution_ranges
from pipeline.attribution.models import all_models
from pipeline.attribution.ranges import per_connection
from pipeline.attribution.report import intervals_table, stacked_bars, summary_table
from pipeline.attribution.restate import clear_changes, consecutive, restated_days
from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema
from pipeline.core.partitions import days_in
from pipeline.core.sql import sql
from pipeline.core.warehouse import POOL, WarehouseResource
from pipeline.customers.events import EVENTS

GROUP = "attribution"
CREDITS_SUM_TO_ONE = "credits_sum_to_one"


def build_attribution_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    models = all_models(config.attribution)

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                CREDITS,
                group_name=GROUP,
                deps=[dg.AssetKey(EVENTS)],
                kinds={"duckdb"},
                description="Each conversion's credit per model and touch: share and value "
                f"({len(models)} models; `nightjar attribution models`). A conversion no touch "
                "explains is credited whole to '(unattributed)'.",
            ),
            dg.AssetSpec(
                SUMMARY,
                group_name=GROUP,
                deps=[dg.AssetKey(CREDITS)],
                kinds={"duckdb"},
                description="Daily credited conversions and value per model, conversion and channel, with "
                "their bootstrap intervals when attribution.bootstrap is set.",
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                CREDITS_SUM_TO_ONE,
                asset=CREDITS,
                description="Every conversion's credit shares sum to 1 for every model, "
                "and its credited value to its value",
            )
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        can_subset=False,
    )
    def _attribution(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        days = days_in(context.partition_time_window)
        window = {"a": days[0], "b": days[-1]}
        with warehouse.connect() as con:
            # the days attributed before whose credits identity changes reach are attributed again
            restated, rebuild = restated_days(con, config, days)
            again = [r for run in consecutive(restated) for r in attribution_ranges(con, config, run)]
            ranges = attribution_ranges(con, config, days)  # as many days at once as DuckDB's memory holds
        for group in per_connection(again + ranges):
            # up to 7 days on a connection: DuckDB gives back the memory of their work (about 1 GB at
            # SF1) only when its connection closes, and the next ranges would start above it
            with warehouse.connect() as con:
                for first, last in group:
                    counts = attribute_range(con, config, first, last)
                    span = f"{first}" if first == last else f"{first}..{last}"
                    done = f"{counts['conversions']} conversions, {counts['credits']} credits"
                    context.log.info(f"attribution {span}: {done}")
        with warehouse.connect() as con:
            clear_changes(con, rebuild)
            bad, conversions, credit_rows = con.execute(sql("attribution/check_sums"), window).fetchall()[0]
            rows = con.execute(
                sql("attribution/ui_summary"), {**window, "models": [m.name for m in models]}
            ).fetchall()
            intervals = con.execute(
                sql("attribution/ui_intervals"), {"b": days[-1], "models": [m.name for m in models]}
            ).fetchall()
            credits_schema = column_schema(con, CREDITS)
            summary_schema = column_schema(con, SUMMARY)
        span = f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]}"
        _report_restated(context, restated, span)
        yield dg.MaterializeResult(
            asset_key=CREDITS,
            metadata={
                "conversions": conversions,
                "rows": credit_rows,
                "models": len(models),
                "dagster/column_schema": credits_schema,
                **({"dagster/row_count": credit_rows} if len(days) == 1 else {}),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=CREDITS_SUM_TO_ONE,
                    asset_key=CREDITS,
                    passed=bad == 0,
                    metadata={"conversions_not_summing": bad},
                )
            ],
        )
        yield dg.MaterializeResult(
            asset_key=SUMMARY,
            metadata={
                "summary": dg.MetadataValue.md(summary_table(rows)),
                "plot": dg.MetadataValue.md(stacked_bars(rows, f"value per channel per model, {span}")),
                **(
                    {
                        "intervals": dg.MetadataValue.md(
                            f"{LEVEL:.0%} bootstrap intervals of {days[-1]} "
                            f"({config.attribution.bootstrap} replicates)\n\n" + intervals_table(intervals)
                        )
                    }
                    if intervals
                    else {}
                ),
                "dagster/column_schema": summary_schema,
            },
        )

    return [_attribution]


def _report_restated(context: dg.AssetExecutionContext, restated: list, span: str) -> None:
    """Tell Dagster of each day outside the run that it attributed again (identity changes re-pointed
    events its credits read): a materialization of both outputs' partition, saying why."""
    partitions = context.assets_def.partitions_def
    for day in restated:  # one event per partition restated, not per row
        key = day.isoformat()
        if partitions is None or not partitions.has_partition_key(key):
            context.log.warning(f"attribution: day {key} attributed again, but it is not a partition")
            continue
        for asset in (CREDITS, SUMMARY):
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=asset,
                    partition=key,
                    description=f"attributed again by the run of {span}",
                    metadata={
                        "changed_by_run_of": span,
                        "reason": "identity matching re-pointed events its conversions' credits read",
                    },
                )
            )
