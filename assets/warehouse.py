"""Customer 360 assets: the identity map, the unified daily events, and their retention."""

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.partitions import days_in
from pipeline.core.warehouse import POOL, WarehouseResource, scalar, table_exists
from pipeline.customers.events import EVENT_BATCH_DAYS, EVENTS, build_events
from pipeline.customers.identity import CUSTOMER_IDENTITIES, build_identities
from pipeline.customers.retention import apply_retention, cutoff

KNOWN_OR_ANONYMOUS = "every_event_has_a_known_customer_or_is_anonymous"
CUSTOMER_HAS_IDENTIFIER = "no_customer_without_an_identifier"


def build_identities_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    upstream = ([dg.AssetKey("customers")] if config.customers else []) + [
        dg.AssetKey(t.table) for t in config.transactions
    ]

    @dg.asset(
        name=CUSTOMER_IDENTITIES,
        group_name="customer_360",
        deps=upstream,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="Which identifier of which dataset points at which customer (the matching policy "
        "`identity` of the config), rebuilt from the customer data and every feed.",
        check_specs=[
            dg.AssetCheckSpec(
                CUSTOMER_HAS_IDENTIFIER,
                asset=CUSTOMER_IDENTITIES,
                description="Every customer record has at least one identifier in the map",
            ),
        ],
    )
    def _identities(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            result = build_identities(con, config)
            missing = (
                scalar(
                    con,
                    f"""SELECT count(*) FROM customers c WHERE NOT EXISTS (
                        SELECT 1 FROM {CUSTOMER_IDENTITIES} i WHERE i.customer_id = c.customuid AND i.dataset = 'customers')""",
                )
                if table_exists(con, "customers")
                else 0
            )
            schema = column_schema(con, CUSTOMER_IDENTITIES)
        feeds = markdown_table(
            ["feed", "keys matched", "keys anonymous"],
            [(f, result.keys_matched[f], result.keys_anonymous[f]) for f in result.keys_matched],
        )
        context.log.info(
            f"{result.customers} customers, {result.identifiers} identifiers, {result.conflicts} conflicts, "
            f"{result.excluded} excluded"
        )
        return dg.MaterializeResult(
            metadata={
                "customers": result.customers,
                "identifiers": result.identifiers,
                "conflicts": result.conflicts,
                "excluded_customers": result.excluded,
                "feeds": dg.MetadataValue.md(feeds),
                "dagster/row_count": result.identifiers,
                "dagster/column_schema": schema,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=CUSTOMER_HAS_IDENTIFIER,
                    passed=missing == 0,
                    metadata={"customers_without_identifier": missing},
                )
            ],
        )

    return _identities


def build_events_asset(config: ProjectConfig, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=EVENTS,
        group_name="customer_360",
        deps=[dg.AssetKey(CUSTOMER_IDENTITIES)] + [dg.AssetKey(t.table) for t in config.transactions],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="Every declared transaction feed as one table of events: customer, type, context, time, "
        "value, UTM tags, channel and properties; one partition per day.",
        check_specs=[
            dg.AssetCheckSpec(
                KNOWN_OR_ANONYMOUS,
                asset=EVENTS,
                description="Every event's customer_id is a known customer, or NULL (anonymous, counted)",
            ),
        ],
    )
    def _events(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        totals: dict[str, int] = {}
        with warehouse.connect() as con:
            # a range in batches of days: one pass per feed and batch instead of one per day
            for batch in (days[i : i + EVENT_BATCH_DAYS] for i in range(0, len(days), EVENT_BATCH_DAYS)):
                counts = build_events(con, config, batch[0], batch[-1])
                for feed, n in counts.items():
                    totals[feed] = totals.get(feed, 0) + n
                span = f"{batch[0]}" if len(batch) == 1 else f"{batch[0]}..{batch[-1]}"
                context.log.info(f"events {span}: {sum(counts.values())} rows ({counts})")
            window = {"a": days[0], "b": days[-1]}
            by_type = con.execute(
                f"""SELECT type, context, count(*), count(*) FILTER (WHERE customer_id IS NULL) FROM {EVENTS}
                    WHERE _partition_date BETWEEN $a AND $b GROUP BY ALL ORDER BY 3 DESC""",
                window,
            ).fetchall()
            unknown = scalar(
                con,
                f"""SELECT count(*) FROM {EVENTS} e WHERE _partition_date BETWEEN $a AND $b AND customer_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {CUSTOMER_IDENTITIES} i WHERE i.customer_id = e.customer_id
                                    AND i.dataset = 'customers' AND NOT i.excluded)""",
                window,
            )
            anonymous = sum(r[3] for r in by_type)
            schema = column_schema(con, EVENTS)
        return dg.MaterializeResult(
            metadata={
                "rows": sum(totals.values()),
                "anonymous_events": anonymous,
                "by_type": dg.MetadataValue.md(
                    markdown_table(["type", "context", "events", "anonymous"], by_type)
                ),
                "dagster/column_schema": schema,
                **({"dagster/row_count": sum(totals.values())} if len(days) == 1 else {}),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=KNOWN_OR_ANONYMOUS,
                    passed=unknown == 0,
                    metadata={"unknown_customer_events": unknown, "anonymous_events": anonymous},
                )
            ],
        )

    return _events


def build_retention_asset(config: ProjectConfig, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="events_retention",
        group_name="customer_360",
        deps=[dg.AssetKey(EVENTS)],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="Deletes the events older than the config's `retention` (months to keep per event type), "
        "counted back from the end of the partition's day, and the feed rows they came from.",
    )
    def _retention(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        today = days_in(context.partition_time_window)[-1]
        with warehouse.connect() as con:
            deleted, source_rows = apply_retention(con, config.retention, today)
        context.log.info(
            f"retention as of {today}: deleted {sum(deleted.values())} events {deleted} and their source rows {source_rows}"
        )
        rows = [(t, config.retention[t], cutoff(today, config.retention[t]), n) for t, n in deleted.items()]
        return dg.MaterializeResult(
            metadata={
                "deleted": sum(deleted.values()),
                "source_rows_deleted": sum(source_rows.values()),
                "as_of": str(today),
                "by_type": dg.MetadataValue.md(
                    markdown_table(["type", "months kept", "deleted before", "deleted"], rows)
                    if rows
                    else "no retention policy: every event is kept"
                ),
            }
        )

    return _retention


def build_warehouse_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    return [
        build_identities_asset(config),
        build_events_asset(config, partitions),
        build_retention_asset(config, partitions),
    ]
