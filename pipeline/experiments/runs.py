"""What each experiments asset does in a run, and the metadata it shows in the UI.

The asset definitions (assets/experiments.py) only declare the graph; the work of a run of
`results`, `conversions` and `experiment_report` is here, on an open warehouse connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb

from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.partitions import days_between
from pipeline.core.rules import CUSTOMERS
from pipeline.core.sql import sql
from pipeline.customers.events import EVENTS
from pipeline.customers.identity import CUSTOMER_IDENTITIES
from pipeline.experiments.config import ExperimentsConfig
from pipeline.experiments.conversions import (
    datasets,
    loaded_days,
    measure,
    missing_days,
    prepare_conversions,
    record_drawn_variants,
)
from pipeline.experiments.decisions import (
    CONVERSIONS,
    PREDICTIONS,
    RESULTS,
    active,
    decide,
    prepare_results,
    presentation_day,
)
from pipeline.experiments.learned import LOOKBACK_DAYS, RunFeatures
from pipeline.experiments.plots import forest_plot, lift_plot
from pipeline.experiments.report import (
    COMPLETE,
    EXPERIMENT_REPORT,
    INCLUDING,
    build_report,
    report_table,
)

Log = Callable[[str], object]
# what a run shows in the UI (Dagster turns each value into its MetadataValue)
Metadata = dict[str, int | str | dg.TableSchema | dg.MetadataValue]


def results_deps(config: ExperimentsConfig) -> list[str]:
    """The tables a `results` run reads: customers (when declared), identities, events, predictions,
    the transactions its audience and variant rules test (sql/experiments/rule_rows.sql) and the
    conversion datasets' tables: a range measures the conversions of the days it learns from before
    deciding (``run_results``, ``read_days``), as the `conversions` asset does."""
    deps = (["customers"] if config.customers else []) + [CUSTOMER_IDENTITIES, EVENTS]
    # scores: the predictions of the days before (sql/experiments/scores.sql), and a value_model's clv
    # scores, which the predictions asset writes (sql/experiments/value_scores.sql)
    if any(e.model or e.value_model for e in config.experiments):
        deps.append(PREDICTIONS)
    rules = [r for e in config.experiments for r in e.audience]
    rules += [r for e in config.experiments for v in e.variants for r in config.variant(v).rules]
    tested = {r.transaction for r in rules if r.transaction != CUSTOMERS}
    tables = {config.transaction(t).table for t in tested | set(datasets(config))}
    return deps + sorted(tables - set(deps))


def conversions_deps(config: ExperimentsConfig) -> list[str]:
    """The tables the conversions read: results, events and the conversion datasets' tables."""
    return [RESULTS, EVENTS] + [config.transaction(f).table for f in datasets(config)]


def read_days(config: ExperimentsConfig, first: dt.date, night: dt.date) -> list[dt.date]:
    """The presentation days whose `conversions` the decisions of ``night`` (presented the day after,
    ``presentation_day``) read, up to ``night`` itself and from the ``window_days - 1`` days before
    ``first`` on (from the start date on): the days whose windows day ``night``'s data can reach. The
    nightly `conversions` run of a night measures its days after `results` (it measures what `results`
    decided), so a night measures these first, and a range does so night by night.

    A learned policy (propensity, uplift, thompson) reads the LOOKBACK_DAYS before the presentation day
    (sql/experiments/policy_history.sql), the uniform policy's propensities the windows closed before
    it (sql/experiments/rates.sql): only the experiments active on that day count."""
    window_days = config.conversions.window_days
    day = presentation_day(night)
    running = [e for e in config.experiments if active(e, day)]
    learned = any(e.policy != "uniform" for e in running)
    uniform = any(e.policy == "uniform" for e in running)
    since = max(first - dt.timedelta(days=window_days - 1), config.start_date)
    return [
        x
        for x in days_between(since, night)
        if (learned and (day - x).days <= LOOKBACK_DAYS) or (uniform and (day - x).days >= window_days)
    ]


def run_results(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, nights: list[dt.date], log: Log
) -> Metadata:
    """Decide the presentation day of each of ``nights`` (the day after it, ``presentation_day``); the
    metadata of the run (decisions by experiment and variant).

    Before each night, the presentation days its decisions learn from (``read_days``) are measured into
    `conversions` with the data through that night (the same ``measure`` as the `conversions` asset's,
    from results already decided), so a range decides every day as the same nights run one at a time
    do. Each day is measured at most once a run; the `conversions` asset still measures its days
    afterwards. Rows written before ``drawn_variant`` existed get theirs first, once
    (``record_drawn_variants``). A learned policy's customer features of one model and cut-off are
    built once in the run (``RunFeatures``; none kept for the next run)."""
    record_drawn_variants(con)
    prepare_results(con)
    features = RunFeatures()
    measured: set[dt.date] = set()
    loaded: frozenset[dt.date] | None = None
    for night in nights:
        due = [d for d in read_days(config, nights[0], night) if d not in measured]
        if due:
            if loaded is None:
                prepare_conversions(con)
                loaded = loaded_days(con, config)
            for d in due:
                measure(con, config, d, loaded, prepared=True)
            measured.update(due)
            log(
                f"results {night}: first measured the conversions of the {len(due)} presentation days "
                f"it reads ({due[0]}..{due[-1]})"
            )
        day = presentation_day(night)
        n = decide(con, config, day, features, prepared=True)
        features.next_night()
        log(f"results {night}: {n} decisions, presented on {day}")
    first, last = presentation_day(nights[0]), presentation_day(nights[-1])
    counts = con.execute(sql("experiments/results_by_variant"), {"a": first, "b": last}).fetchall()
    return {
        "dagster/row_count": sum(c[2] for c in counts),
        "dagster/column_schema": column_schema(con, RESULTS),
        "by_variant": dg.MetadataValue.md(markdown_table(["experiment", "variant", "decisions"], counts)),
        "presented_on": f"{first}" if first == last else f"{first}..{last}",
        "conversions_measured_first": len(measured),  # presentation days (read_days)
    }


@dataclass(frozen=True)
class ConversionsRun:
    """A run of `conversions`: its metadata and the refreshed earlier partitions' materializations."""

    metadata: Metadata
    refreshed: list[dg.AssetMaterialization]


def run_conversions(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, asked: list[dt.date], log: Log
) -> ConversionsRun:
    """Measure the ``asked`` presentation days and the ``window_days - 1`` days before them (their
    windows were still open), from the start date on. Rows written before ``drawn_variant`` existed
    get theirs first, once (``record_drawn_variants``), not once a day measured."""
    record_drawn_variants(con)
    window_days = config.conversions.window_days
    first = max(asked[0] - dt.timedelta(days=window_days - 1), config.start_date)
    days = days_between(first, asked[-1])
    loaded = loaded_days(con, config)
    prepare_conversions(con)
    summary = []
    for day in days:
        rows, complete = measure(con, config, day, loaded, prepared=True)
        summary.append((day, rows, complete))
    schema = column_schema(con, CONVERSIONS)
    converted = con.execute(sql("experiments/converted_count"), {"a": days[0], "b": days[-1]}).fetchall()[0][
        0
    ]
    # the refreshed earlier windows are recorded as their partitions' materializations
    refreshed = [
        dg.AssetMaterialization(
            asset_key=CONVERSIONS,
            partition=day.isoformat(),
            metadata={
                "presentations": rows,
                "window_complete": complete,
                "refreshed_by": asked[-1].isoformat(),
            },
        )
        for day, rows, complete in summary
        if day not in asked
    ]
    through, gaps = (max(loaded) if loaded else None), missing_days(loaded)
    not_loaded = f"; not loaded: {', '.join(map(str, gaps))}" if gaps else ""
    log(
        f"conversions: recomputed {len(days)} presentation days {days[0]}..{days[-1]} "
        f"(data loaded through {through}{not_loaded})"
    )
    metadata: Metadata = {
        "dagster/row_count": sum(r for _, r, _ in summary),
        "dagster/column_schema": schema,
        "converted": converted,
        "loaded_through": str(through),
        "days_not_loaded": ", ".join(map(str, gaps)) or "none",
        "windows": dg.MetadataValue.md(
            markdown_table(["presentation date", "presentations", "window complete"], summary)
        ),
    }
    return ConversionsRun(metadata, refreshed)


def run_report(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, include_incomplete: bool
) -> Metadata:
    """Rebuild the experiment report; the metadata of the run (the table, the lift plot, SRM)."""
    rows = build_report(con, config, include_incomplete)
    headers, table = report_table(con)
    plot = lift_plot(con)
    schema = column_schema(con, EXPERIMENT_REPORT)
    srm = con.execute(sql("experiments/srm_mismatches")).fetchall()[0][0]
    failed = con.execute(sql("experiments/guardrail_failures")).fetchall()[0][0]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": schema,
        "report": dg.MetadataValue.md(markdown_table(headers, table)),
        "forest_plot": dg.MetadataValue.md(forest_plot(con)),
        "cumulative_lift": dg.MetadataValue.md(plot),
        "srm_mismatches": srm,
        "guardrails_failed": failed,  # experiments with a guardrail moving significantly the worse way
        "windows": INCLUDING if include_incomplete else COMPLETE,
    }
