"""Experiment assets: nightly `results`, `conversions` in their windows, and the `experiment_report`."""

import datetime as dt

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.partitions import days_between, days_in
from pipeline.core.warehouse import POOL, WarehouseResource
from pipeline.customers.events import EVENTS
from pipeline.customers.identity import CUSTOMER_IDENTITIES
from pipeline.experiments.conversions import loaded_days, measure, missing_days
from pipeline.experiments.decisions import CONVERSIONS, PREDICTIONS, RESULTS, decide
from pipeline.experiments.report import EXPERIMENT_REPORT, build_report, lift_plot, report_table

GROUP = "experiments"


def build_results_asset(config: ProjectConfig, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    deps = ([dg.AssetKey("customers")] if config.customers else []) + [
        dg.AssetKey(CUSTOMER_IDENTITIES),
        dg.AssetKey(EVENTS),
    ]
    if any(
        e.model for e in config.experiments
    ):  # scores: the predictions of the days before (sql/experiments/scores.sql)
        deps.append(dg.AssetKey(PREDICTIONS))

    @dg.asset(
        name=RESULTS,
        group_name=GROUP,
        deps=deps,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="The nightly decisions: for each enabled experiment, each qualifying customer's variant "
        "(or control) for the partition's date, with the score and the reason. Made from the data before "
        "the date; re-runs give the same rows (see pipeline/decisions.py).",
    )
    def _results(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        with warehouse.connect() as con:
            for day in days:
                n = decide(con, config, day)
                context.log.info(f"results {day}: {n} decisions")
            counts = con.execute(
                f"""SELECT experiment, variant, count(*) FROM {RESULTS} WHERE date BETWEEN $a AND $b
                    GROUP BY ALL ORDER BY 1, 2""",
                {"a": days[0], "b": days[-1]},
            ).fetchall()
            schema = column_schema(con, RESULTS)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(c[2] for c in counts),
                "dagster/column_schema": schema,
                "by_variant": dg.MetadataValue.md(
                    markdown_table(["experiment", "variant", "decisions"], counts)
                ),
            }
        )

    return _results


def build_conversions_asset(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    feeds = sorted(
        {d.transaction for d in config.conversions.definitions}
        | ({config.conversions.uploaded} if config.conversions.uploaded else set())
    )
    window_days = config.conversions.window_days

    @dg.asset(
        name=CONVERSIONS,
        group_name=GROUP,
        partitions_def=partitions,
        deps=[dg.AssetKey(RESULTS), dg.AssetKey(EVENTS)]
        + [dg.AssetKey(config.transaction(f).table) for f in feeds],
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description=f"Per presentation (a results row), the conversions in its {window_days}-day window and "
        f"whether the window is complete. A run for day D also recomputes the {window_days - 1} presentation "
        "days before D (their windows were still open), so the nightly job refreshes the last "
        f"{window_days} partitions.",
    )
    def _conversions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        asked = days_in(context.partition_time_window)
        first = max(asked[0] - dt.timedelta(days=window_days - 1), config.start_date)
        days = days_between(first, asked[-1])
        summary = []
        with warehouse.connect() as con:
            loaded = loaded_days(con, config)
            for day in days:
                rows, complete = measure(con, config, day, loaded)
                summary.append((day, rows, complete))
            schema = column_schema(con, CONVERSIONS)
            converted = con.execute(
                f"SELECT count(*) FILTER (WHERE converted) FROM {CONVERSIONS} WHERE date BETWEEN $a AND $b",
                {"a": days[0], "b": days[-1]},
            ).fetchall()[0][0]
        for day, rows, complete in summary:
            if (
                day not in asked
            ):  # the refreshed earlier windows are recorded as their partitions' materializations
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=CONVERSIONS,
                        partition=day.isoformat(),
                        metadata={
                            "presentations": rows,
                            "window_complete": complete,
                            "refreshed_by": asked[-1].isoformat(),
                        },
                    )
                )
        through, gaps = (max(loaded) if loaded else None), missing_days(loaded)
        not_loaded = f"; not loaded: {', '.join(map(str, gaps))}" if gaps else ""
        context.log.info(
            f"conversions: recomputed {len(days)} presentation days {days[0]}..{days[-1]} "
            f"(data loaded through {through}{not_loaded})"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(r for _, r, _ in summary),
                "dagster/column_schema": schema,
                "converted": converted,
                "loaded_through": str(through),
                "days_not_loaded": ", ".join(map(str, gaps)) or "none",
                "windows": dg.MetadataValue.md(
                    markdown_table(["presentation date", "presentations", "window complete"], summary)
                ),
            }
        )

    return _conversions


class ReportConfig(dg.Config):
    include_incomplete: bool = (
        False  # also count presentations whose window is still open (the report says so)
    )


def build_report_asset(project: ProjectConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=EXPERIMENT_REPORT,
        group_name=GROUP,
        deps=[dg.AssetKey(CONVERSIONS)],
        pool=POOL,
        kinds={"duckdb"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Per experiment and variant: presented, converted, rate, value per presented customer, lift "
        "against control with its 95% interval and p-value (two-proportion z test; Welch for value), and a "
        "sample-ratio-mismatch test; totals and cumulative by presentation date. Complete windows only by "
        "default. Rebuilt whole on every run.",
    )
    def _report(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: ReportConfig
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            rows = build_report(con, project, config.include_incomplete)
            headers, table = report_table(con)
            plot = lift_plot(con)
            schema = column_schema(con, EXPERIMENT_REPORT)
            srm = con.execute(
                f"SELECT count(*) FILTER (WHERE srm_mismatch) FROM {EXPERIMENT_REPORT} WHERE scope = 'total'"
            ).fetchall()[0][0]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": schema,
                "report": dg.MetadataValue.md(markdown_table(headers, table)),
                "cumulative_lift": dg.MetadataValue.md(plot),
                "srm_mismatches": srm,
                "windows": "including in-progress windows"
                if config.include_incomplete
                else "complete windows only",
            }
        )

    return _report


def build_experiment_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    return [
        build_results_asset(config, partitions),
        build_conversions_asset(config, partitions),
        build_report_asset(config),
    ]
