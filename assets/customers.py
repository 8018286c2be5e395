"""Customer 360 assets: the identity map, the unified daily events, their retention, and the KPIs.

Thin definitions: the work is in pipeline.customers (identity, events, retention, kpis) and the
SQL in sql/customers/.
"""

from collections.abc import Iterator

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.partitions import days_in
from pipeline.core.warehouse import POOL, WarehouseResource
from pipeline.customers.events import EVENTS, build_event_days, events_by_type, unknown_customer_events
from pipeline.customers.identity import (
    CUSTOMER_IDENTITIES,
    IdentityError,
    build_identities,
    customers_without_identifier,
)
from pipeline.customers.kpis import KPIS, ONE_CURRENCY, RECONCILE, materialize_all
from pipeline.customers.retention import apply_retention, retention_rows
from pipeline.ingest.customers import CUSTOMERS

GROUP = "customer_360"
KPI_GROUP = "kpis"
RETENTION = "events_retention"
KNOWN_OR_ANONYMOUS = "every_event_has_a_known_customer_or_is_anonymous"
CUSTOMER_HAS_IDENTIFIER = "no_customer_without_an_identifier"


def build_identities_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    upstream = ([dg.AssetKey("customers")] if config.customers else []) + [
        dg.AssetKey(t.table) for t in config.transactions
    ]

    @dg.asset(
        name=CUSTOMER_IDENTITIES,
        group_name=GROUP,
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
            try:
                result = build_identities(con, config)
            except IdentityError as e:
                raise dg.Failure(description=str(e), allow_retries=False) from None
            missing = customers_without_identifier(con)
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
        group_name=GROUP,
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
        with warehouse.connect() as con:
            # a range in batches of days: one pass per feed and batch instead of one per day
            totals = build_event_days(con, config, days, context.log.info)
            by_type = events_by_type(con, days[0], days[-1])
            unknown = unknown_customer_events(con, days[0], days[-1])
            schema = column_schema(con, EVENTS)
        anonymous = sum(r[3] for r in by_type)
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
        name=RETENTION,
        group_name=GROUP,
        deps=[dg.AssetKey(EVENTS)],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="Deletes the events older than the config's `retention` (months to keep per event type), "
        "counted back from the end of the partition's day, the feed rows they came from, and excluded "
        "customers' feed rows of that type and age (they have no events).",
    )
    def _retention(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        today = days_in(context.partition_time_window)[-1]
        with warehouse.connect() as con:
            deleted, source_rows = apply_retention(con, config.retention, today, config)
        context.log.info(
            f"retention as of {today}: deleted {sum(deleted.values())} events {deleted} "
            f"and their source rows {source_rows}"
        )
        rows = retention_rows(config.retention, today, deleted)
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


KPIS_STEP = "kpis"  # the one step that updates every KPI table


def build_kpis_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """Every KPI table (one asset each) updated by one step: their inputs are read and fingerprinted
    once (pipeline/customers/kpis.py materialize_all), not once per table; a selection of some of them
    updates those only."""
    deps = ([dg.AssetKey(CUSTOMERS)] if config.customers else []) + [
        dg.AssetKey(CUSTOMER_IDENTITIES),
        dg.AssetKey(EVENTS),
        dg.AssetKey(RETENTION),
    ]  # after retention, so that the KPIs count what the warehouse keeps
    specs = [
        dg.AssetSpec(
            kpi.name,
            group_name=KPI_GROUP,
            deps=deps,
            kinds={"duckdb"},
            description=kpi.description + " Updated on every run: the periods of new days, whole when the "
            "past changed.",
        )
        for kpi in KPIS
    ]
    checks = [
        dg.AssetCheckSpec(
            RECONCILE,
            asset=kpi.name,
            description="The KPI's totals over every period equal the same totals "
            "counted in the base tables (customers, events), at every grain",
        )
        for kpi in KPIS
    ] + [
        dg.AssetCheckSpec(
            ONE_CURRENCY,
            asset=kpi.name,
            description="All order values are in one currency (revenue adds them as they are)",
        )
        for kpi in KPIS
        if kpi.currency_check
    ]

    @dg.multi_asset(
        name=KPIS_STEP,
        specs=specs,
        check_specs=checks,
        can_subset=True,
        backfill_policy=dg.BackfillPolicy.single_run(),  # lets a CLI partition range include them
        pool=POOL,
    )
    def _kpis(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        selected = [k for k in KPIS if dg.AssetKey(k.name) in context.selected_asset_keys]
        with warehouse.connect() as con:
            for kpi, run in materialize_all(con, selected):
                # a money total too large to hold exactly (stored NULL) is a warning
                (context.log.warning if run.too_large else context.log.info)(run.log_line(kpi.name))
                yield dg.MaterializeResult(
                    asset_key=kpi.name, metadata=run.metadata, check_results=run.checks
                )

    return _kpis


def build_customer_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """The customer 360 assets and the KPIs (recomputed whole, so ``partitions`` is theirs only for
    the events and their retention)."""
    return [
        build_identities_asset(config),
        build_events_asset(config, partitions),
        build_retention_asset(config, partitions),
        build_kpis_asset(config),
    ]
