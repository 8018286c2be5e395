"""Activation assets: the `published` read snapshot, downstream of everything people read.

The definitions only: what publishing does is in pipeline/activation/publish.py.
"""

from pathlib import Path

import dagster as dg

from pipeline.activation.publish import PUBLISHED, publish
from pipeline.activation.report import REPORT, write_report
from pipeline.config import ProjectConfig
from pipeline.core.metadata import markdown_table
from pipeline.core.warehouse import POOL, WarehouseResource, published_folder

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
        rows = [
            (name, entry["rows"], entry["partitioned_by"] or "") for name, entry in snapshot.tables.items()
        ]
        return dg.MaterializeResult(
            metadata={
                "version": snapshot.version,
                "snapshot": dg.MetadataValue.path(str(snapshot.database)),
                "tables": len(snapshot.tables),
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


def build_activation_assets(
    config: ProjectConfig, upstream: list[dg.AssetsDefinition]
) -> list[dg.AssetsDefinition]:
    """The activation assets over the ``upstream`` assets of the graph (every one feeds the snapshot)."""
    del config  # the exports (per config) come here
    keys = sorted({key for a in upstream for key in a.keys}, key=lambda k: k.to_user_string())
    return [build_published_asset(keys), build_report_asset()]
