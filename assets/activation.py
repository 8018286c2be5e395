"""Activation assets: the `published` read snapshot, downstream of everything people read.

The definitions only: what publishing does is in pipeline/activation/publish.py.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from pipeline.activation.config import OWN_SCHEDULE, SCHEDULE_TAG, ExportSpec
from pipeline.activation.exports import SOURCE_TABLES, export_day, run_export
from pipeline.activation.publish import PUBLISHED, clear_forgets, publish
from pipeline.activation.report import REPORT, write_report
from pipeline.config import ProjectConfig
from pipeline.core.metadata import markdown_table
from pipeline.core.partitions import days_in
from pipeline.core.warehouse import POOL, WarehouseLocked, WarehouseResource, published_folder

GROUP = "activation"


def build_published_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name=PUBLISHED,
        group_name=GROUP,
        deps=upstream,
        pool=POOL,
        kinds={"duckdb", "parquet"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="The read snapshot: the tables people read as Parquet (daily tables hive-partitioned "
        "by day) plus a DuckDB file of views over them, switched to atomically at the end of the run. "
        "Notebooks, BI tools, `nightjar serve` and `nightjar report` read it, never the warehouse.",
    )
    def _published(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect(read_only=True) as con:
            snapshot = publish(con, Path(warehouse.path), log=context.log.info)
        if snapshot.forgets:  # no version holds what they deleted any more: they are done
            try:
                with warehouse.connect() as con:
                    clear_forgets(con, snapshot.forgets)
            except WarehouseLocked as e:  # published all the same; the next publication finishes them again
                context.log.warning(f"{len(snapshot.forgets)} forget(s) stay pending: {e}")
        rows = [
            (name, entry["rows"], entry["partitioned_by"] or "") for name, entry in snapshot.tables.items()
        ]
        return dg.MaterializeResult(
            metadata={
                "version": snapshot.version,
                "snapshot": dg.MetadataValue.path(str(snapshot.database)),
                "tables": len(snapshot.tables),
                "forgets_finished": len(snapshot.forgets),
                "rows": dg.MetadataValue.md(markdown_table(["table", "rows", "partitioned by"], rows)),
            }
        )

    return _published


def build_report_asset() -> dg.AssetsDefinition:
    @dg.asset(
        name=REPORT,
        group_name=GROUP,
        deps=[dg.AssetKey(PUBLISHED)],
        kinds={"html"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="The HTML report of the night (experiment lifts, model metrics and feature impact, "
        "attribution, KPI trends, loads and rejects), written to reports/index.html beside the warehouse "
        "from the published snapshot; `nightjar serve` serves it under /reports.",
    )
    def _report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        published = published_folder(warehouse.path)
        path = write_report(published, published.parent / "reports")
        return dg.MaterializeResult(
            metadata={"report": dg.MetadataValue.path(str(path)), "bytes": path.stat().st_size}
        )

    return _report


def build_export_asset(
    config: ProjectConfig, spec: ExportSpec, partitions: dg.PartitionsDefinition, built: bool = True
) -> dg.AssetsDefinition:
    """The asset of one configured export; ``built``: whether the graph has the asset of its table (no
    experiment: no `results`, say), else a run writes nothing and says why."""
    table = SOURCE_TABLES[spec.table]
    decided = " A night's results are the decisions it made, presented the next day."
    ahead = decided if table == "results" else ""

    @dg.asset(
        name=f"export_{spec.name}",
        group_name=GROUP,
        deps=[dg.AssetKey(table)],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"bigquery" if spec.destination.lower().startswith("bigquery://") else spec.format},
        tags={SCHEDULE_TAG: OWN_SCHEDULE} if spec.schedule else None,
        description=(
            f"Each night's {spec.table} into the BigQuery table {spec.destination} (the export "
            f"{spec.name!r}); the rows of `nightjar export {spec.table}`, the day replaced on a re-run"
            if spec.destination.lower().startswith("bigquery://")
            else f"Each night's {spec.table} as {spec.format} to {spec.destination} (the export "
            f"{spec.name!r}); the same file as `nightjar export {spec.table} --format {spec.format}`, "
            "replaced whole on a re-run"
        )
        + (f"; on its own schedule ({spec.schedule}, UTC), not in the nightly job." if spec.schedule else ".")
        + ahead,
    )
    def _export(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        if not built:
            reason = f"nothing configured writes {table} (its asset is not built): nothing exported"
            context.log.warning(f"export {spec.name}: {reason}")
            return dg.MaterializeResult(metadata={"rows": 0, "skipped": reason})
        written = []
        with warehouse.connect(read_only=True) as con:
            for night in days_in(context.partition_time_window):
                day = export_day(spec.table, night)  # results: the decisions presented the day after
                rows, where = run_export(con, config, spec, day, log=context.log.info)
                context.log.info(f"export {spec.name} {day}: {rows} rows -> {where}")
                written.append((day, rows, where))
        return dg.MaterializeResult(
            metadata={
                "rows": sum(r for _, r, _ in written),
                "files": dg.MetadataValue.md(markdown_table(["day", "rows", "written to"], written)),
            }
        )

    return _export


def build_export_schedule(
    spec: ExportSpec, start: dt.date, partitions: dg.PartitionsDefinition
) -> dg.ScheduleDefinition:
    """The schedule of an export with one of its own: each tick runs it for the days since the last tick
    (weekly: the 7 days before the tick; daily or a cron expression: the day before), in one run."""
    days = 7 if spec.schedule == "weekly" else 1
    job = dg.define_asset_job(
        f"export_{spec.name}_job",
        selection=[dg.AssetKey(f"export_{spec.name}")],
        partitions_def=partitions,
        description=f"The export {spec.name!r} on its own schedule ({spec.schedule}).",
    )

    @dg.schedule(
        name=f"export_{spec.name}_schedule",
        job=job,
        cron_schedule=spec.cron or "",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        last = context.scheduled_execution_time.date() - dt.timedelta(days=1)
        first = max(start, last - dt.timedelta(days=days - 1))
        if last < start:
            return dg.SkipReason(f"no day to export before {start}")
        if first == last:
            return dg.RunRequest(run_key=f"{spec.name}:{last}", partition_key=last.isoformat())
        return dg.RunRequest(
            run_key=f"{spec.name}:{first}..{last}",
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )

    return _schedule


def build_export_schedules(config: ProjectConfig, partitions: dg.PartitionsDefinition) -> list:
    """One schedule per export with a ``schedule`` of its own."""
    return [build_export_schedule(s, config.start_date, partitions) for s in config.exports if s.schedule]


def build_activation_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition, upstream: list[dg.AssetsDefinition]
) -> list[dg.AssetsDefinition]:
    """The snapshot over the ``upstream`` assets of the graph (every one feeds it), its report, and one
    asset per configured export."""
    keys = sorted({key for a in upstream for key in a.keys}, key=lambda k: k.to_user_string())
    exports = [
        build_export_asset(config, spec, partitions, dg.AssetKey(SOURCE_TABLES[spec.table]) in keys)
        for spec in config.exports
    ]
    return [build_published_asset(keys), build_report_asset(), *exports]
