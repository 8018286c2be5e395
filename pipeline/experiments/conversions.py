"""Conversions: what each presentation of `results` converted to in its window.

The **window** of a presentation on date D starts at the presentation, D 00:00:00 UTC (inclusive),
and ends ``conversions.window_days`` (default 30) days later, at D+30 00:00:00 (exclusive): a
purchase 1 second before the presentation does not count, one at the presentation does, one at
29 days 23:59:59 after it does, one at exactly 30 days does not. A transaction whose time field is
a Date counts at 00:00:00 of that day.

Sources, for an experiment:

* **defined conversions** (``conversions.definitions``): rows of one transaction matching every
  rule of the definition; the value is ``value_field`` of the row, else the fixed ``value`` (0);
* **uploaded conversions** (``conversions.uploaded`` names a transaction with the fields
  ``customer_id, experiment, conversion_datetime, conversion_value``): the files land, or are handed
  to ``nightjar upload FILE --dataset <that transaction>``, through the one ingestion path.

Customers are resolved by identity matching (the row's event in `events`). Per presentation the
earliest match counts (one conversion per customer, experiment and presentation) unless a
definition says ``count: all``, whose every match counts.

A window is **complete** when every dataset the conversions read has a successful load for each
day of it, D through D + window_days - 1 (a day whose file is missing or failed keeps every window
over it open until the day is loaded). Because windows stay open for 30 days, every run
of the `conversions` asset recomputes the ``window_days`` presentation partitions up to the one it
runs for (see assets/experiments.py), so the nightly job keeps the last 30 windows fresh.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.partitions import days_between
from pipeline.core.rules import Params, compile_all, rule_condition
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import (
    EXACT_SUM_LIMIT,
    EXACT_VALUE,
    migrate_column_types,
    scalar,
    table_exists,
    transaction,
)
from pipeline.experiments.config import PRIMARY, ConversionDefinition, ExperimentsConfig
from pipeline.experiments.decisions import CONVERSIONS, RESULTS, day_rows, schemas

GUARDRAIL_CONVERSIONS = "guardrail_conversions"


def window(config: ExperimentsConfig, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the conversion window of a presentation on ``day``."""
    start = dt.datetime.combine(day, dt.time())
    return start, start + dt.timedelta(days=config.conversions.window_days)


def datasets(config: ExperimentsConfig) -> list[str]:
    """The transactions the conversions read."""
    names = {d.transaction for d in config.conversions.definitions}
    return sorted(names | ({config.conversions.uploaded} if config.conversions.uploaded else set()))


def loaded_days(con: duckdb.DuckDBPyConnection, config: ExperimentsConfig) -> frozenset[dt.date]:
    """The days for which every dataset the conversions read has a successful load (none without datasets)."""
    names = datasets(config)
    if not names:
        return frozenset()
    return frozenset(
        d for (d,) in con.execute(sql("experiments/loaded_days"), {"datasets": names}).fetchall()
    )


def missing_days(loaded: frozenset[dt.date]) -> list[dt.date]:
    """The days between the first and the last of ``loaded`` that are not in it: each keeps the
    windows over it open."""
    return [d for d in days_between(min(loaded), max(loaded)) if d not in loaded] if loaded else []


def _definition_matches(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, d: ConversionDefinition, bounds: dict
) -> None:
    spec = config.transaction(d.transaction)
    if not table_exists(con, spec.table):
        return
    params = Params()
    conds = [rule_condition(r, schemas(config)) for r in d.rules]
    query = sql(
        "experiments/definition_matches",
        idents={"tx_table": spec.table, "time_field": spec.time_field},
        fragments={
            "value": "x." + ident(d.value_field) if d.value_field else "$fixed",
            "rules": compile_all(conds, params, {c.field: "x." + ident(c.field) for c in conds}),
        },
    )
    own = d.name if d.role == "guardrail" else PRIMARY
    has_covariate = any(
        o.role == "covariate" and o.experiment == d.experiment for o in config.conversions.definitions
    )
    values = {
        **params.values,
        **bounds,
        "metric": None if d.role == "covariate" else own,
        # the pre-period covariate: a guardrail's own; the primary's unless a covariate is declared
        "pre_of": PRIMARY if d.role == "covariate" else None if own == PRIMARY and has_covariate else own,
        "experiment": d.experiment,
        "source": d.name,
        "keep_all": d.count == "all",
        "ds": spec.name,
        "fixed": d.value or 0,
    }
    con.execute(query, bind(query, values))


def record_drawn_variants(con: duckdb.DuckDBPyConnection) -> None:
    """Give the rows of `results` written before its ``drawn_variant`` column (the arm drawn, which the
    report analyses) theirs from their reason, and those of `conversions` and `guardrail_conversions`
    that of their decision in `results`, else the variant given. Once a run, before its first day
    (run_results, run_conversions, build_report), not per day: ``measure`` and ``decide`` only add the
    column. Nothing to do (one statement on results, one count each) once every row has it."""
    if table_exists(con, RESULTS):  # its own rows from before the column first (from their reason)
        con.execute(sql("experiments/create_results"))
        con.execute(sql("experiments/drawn_results"))
    for table in (CONVERSIONS, GUARDRAIL_CONVERSIONS):
        if not table_exists(con, table):
            continue
        if scalar(con, sql("experiments/undrawn_rows", idents={"table": table})):
            with transaction(con):
                if table_exists(con, RESULTS):
                    con.execute(sql("experiments/drawn_variants", idents={"table": table}))
                con.execute(sql("experiments/given_variants", idents={"table": table}))


def prepare_conversions(con: duckdb.DuckDBPyConnection) -> None:
    """The tables ``measure`` reads and writes, as the code declares them, and the conversion tables
    registered for forget: once a run (a run measures up to a few dozen days), or by ``measure``."""
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/create_conversions"))
    for table in (CONVERSIONS, GUARDRAIL_CONVERSIONS):  # built when value was DECIMAL(18,4): widened
        migrate_column_types(con, table, {"value": EXACT_VALUE})
        register_customer_table(con, table, "customer_id", CUSTOMER_ID)


def measure(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    day: dt.date,
    loaded: frozenset[dt.date],
    prepared: bool = False,
) -> tuple[int, bool]:
    """Replace the ``day`` partition of `conversions`; returns (presentations, window complete).

    ``loaded`` are the days every conversion dataset has loaded (``loaded_days``). The rows written
    before ``drawn_variant`` existed are given theirs by the caller, once a run (``record_drawn_variants``).
    ``prepared``: the caller ran ``prepare_conversions`` once for its run (its statements take 40 ms of
    CPU, five times the rest of a day measured in a warehouse of 900 customers).
    """
    if not prepared:
        prepare_conversions(con)
    con.execute(sql("experiments/create_matches"))
    start, end = window(config, day)
    pre_start = start - dt.timedelta(days=config.analysis.cuped_days)
    bounds = {
        "start": start,
        "end": end,
        "pre_start": pre_start,
        "pre_first": pre_start.date(),
        "last": (end - dt.timedelta(days=1)).date(),
    }
    complete = all(d in loaded for d in days_between(day, bounds["last"]))
    if day_rows(con, RESULTS, day) == 0:  # nothing presented that day: no window to match, no row
        with transaction(con):
            _delete_day(con, day)
        return 0, complete
    if table_exists(con, "events"):
        for d in config.conversions.definitions:
            _definition_matches(con, config, d, bounds)
        up = config.conversions.uploaded
        if up and table_exists(con, config.transaction(up).table):
            query = sql("experiments/uploaded_matches", idents={"tx_table": config.transaction(up).table})
            covariates = sorted(
                {d.experiment for d in config.conversions.definitions if d.role == "covariate"}
            )
            con.execute(query, bind(query, {**bounds, "ds": up, "with_covariate": covariates}))
    written = {**bounds, "day": day, "complete": complete}
    # the matches' values summed exactly, taken apart (slower) where they could add up to 1e20
    wide = float(scalar(con, sql("core/value_bound", idents={"table": "_matches"}))) >= EXACT_SUM_LIMIT
    matched = sql(
        "experiments/match_value_wide" if wide else "core/exact_sum", fragments={"value": "m.value"}
    )
    count = sql("experiments/write_conversions", fragments={"matched_values": matched})
    with transaction(con):
        _delete_day(con, day)
        con.execute(
            count, bind(count, {**written, "metric_name": PRIMARY, "every": True, "experiments": [""]})
        )
        con.execute(sql("experiments/insert_conversions"))
        for d in config.conversions.definitions:  # one statement per guardrail metric
            if d.role == "guardrail":
                values = {**written, "metric_name": d.name, "every": False, "experiments": [d.experiment]}
                con.execute(count, bind(count, values))
                con.execute(sql("experiments/insert_guardrail_conversions"))
    con.execute(sql("experiments/drop_matches"))
    return day_rows(con, CONVERSIONS, day), complete


def _delete_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> None:
    """Empty the ``day`` partition of both conversion tables (inside the caller's transaction)."""
    for table in (CONVERSIONS, GUARDRAIL_CONVERSIONS):
        con.execute(sql("experiments/delete_day", idents={"table": table}), {"day": day})
