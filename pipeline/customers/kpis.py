"""The KPIs: one `kpi_*` table each, rebuilt whole from customers, identities and events.

Every period KPI has the same shape: ``grain`` (day, week, month), ``period_start`` (the day, the
Monday of the ISO week, the 1st of the month), its dimension columns, then its measures; every
period from the first to the last day with data has a row for every dimension value, zeros
included. ``kpi_customer_behaviour`` is per customer (lifetime) instead. The SQL is in
sql/customers/kpis/: ``base.sql`` (what counts: excluded customers never do; the order rule),
``<kpi>.sql`` (the build), ``create/``, ``check/`` (the reconciliation), ``summary/`` and
``plot/`` (the UI).

Money (revenue, total spending) is summed exactly, as ``DECIMAL(38,18)``: a total of 1e20 or more
cannot be held, and is NULL ("too large to hold exactly"; the run's log and metadata name where).
Where the orders' values could add up to that (:func:`money_sums`) the sums take the values apart
(sql/core/exact_sum_wide.sql), else they are plain sums (the same bits either way below 1e20).

The KPIs are not partitioned: each run brings them up to date, set-based, in one transaction per
table. Week and month periods, running totals and lifetime figures span many days, and the base
tables change in the past too (retention, forgetting a customer, a new exclusion filter, a late
file), so an update recomputes only the periods holding the new days when nothing before them
changed, and the whole table otherwise (pipeline/customers/kpi_updates.py): it never drifts from a
full recompute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import dagster as dg
import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.plots import daily_plot, figure_digest
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import (
    EXACT_SUM_LIMIT,
    EXACT_VALUE,
    exact_sum,
    migrate_column_types,
    migrate_nullable,
    scalar,
    table_exists,
)
from pipeline.customers.kpi_updates import FULL_SINCE, Plan, fingerprint_inputs, update
from pipeline.ingest.customers import CUSTOMERS

RECONCILE = "kpi_totals_reconcile"
ONE_CURRENCY = "orders_in_one_currency"
ORDER_TYPE = "completedOrder"  # the standard type of an order
SESSION_TYPE = "web_sessions"  # the event type of a web session (the web_sessions transaction)
PLOT_DAYS = 30
PARAMS = {"order_type": ORDER_TYPE, "session_type": SESSION_TYPE, "days": PLOT_DAYS}
ORDER_ROWS = "_kpi_order_rows"  # the orders read once (sql/customers/kpis/orders.sql)


@dataclass(frozen=True)
class Kpi:
    name: str  # the table and the asset
    description: str
    plot_title: str
    bars: bool = False  # plot bars instead of lines
    periods: bool = True  # a (grain, period_start, ...) table; False: one row per customer
    currency_check: bool = False  # also check that the orders are in one currency
    # (column, type) of its money columns: a table built when they were DECIMAL(18,4) gets these types
    money: tuple[tuple[str, str], ...] = ()
    reads_orders: bool = False  # counts the orders (_kpi_order_rows, sql/customers/kpis/orders.sql)
    # its money total (summed exactly; NULL from 1e20 on, too large: sql/customers/kpis/too_large/)
    money_total: str = ""


KPIS = (
    Kpi(
        "kpi_customers",
        "Customers added per period (by creation day: the day of the first customer file "
        "holding them) and the running total, per day, week and month. Excluded customers never count.",
        "customers total, last 30 days",
    ),
    Kpi(
        "kpi_reachability",
        "Customers by reachable channel (email_and_mobile, email_only, mobile_only, "
        "not_reachable; email = has an emailsha256, mobile = has an idfa), added and running total per "
        "day, week and month.",
        "customers by reachability, last 30 days",
    ),
    Kpi(
        "kpi_events",
        "Events by type and context per day, week and month: events, anonymous events and "
        "distinct known customers.",
        "events per day by type, last 30 days",
    ),
    Kpi(
        "kpi_purchases",
        "Orders, revenue, average order value and buyers by context per day, week and month. "
        "Orders are completedOrder events plus web sessions that purchased; context WEB is reported as "
        "ECOMMERCE.",
        "revenue per day by context, last 30 days",
        currency_check=True,
        money=(("revenue", EXACT_VALUE), ("average_order_value", "DOUBLE")),
        reads_orders=True,
        money_total="revenue",
    ),
    Kpi(
        "kpi_web",
        "Web sessions (web_sessions events) and their page views per day, week and month.",
        "web sessions and page views, last 30 days",
    ),
    Kpi(
        "kpi_customer_behaviour",
        "Per customer (all history kept): orders, total spending, average order "
        "value, first and last purchase. One row per customer that counts, buyers or not.",
        "new buyers per day, last 30 days",
        bars=True,
        periods=False,
        money=(("total_spending", EXACT_VALUE), ("average_order_value", "DOUBLE")),
        reads_orders=True,
        money_total="total_spending",
    ),
)


def prepare(con: duckdb.DuckDBPyConnection, orders: bool = True) -> None:
    """Create the KPI base views (sql/customers/kpis/base.sql) on this connection; missing base tables
    are empty (the calendar comes with the inputs' fingerprints: kpi_updates.fingerprint_inputs).
    ``orders``: also read the orders once (sql/customers/kpis/orders.sql), for the
    KPIs that count them (``Kpi.reads_orders``)."""
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("customers/identity/create_identities"))
    if not table_exists(con, CUSTOMERS):
        con.execute(sql("customers/kpis/no_customers"))
    con.execute(sql("customers/kpis/base"))
    if orders:
        _query(con, "customers/kpis/orders")


def rebuild(con: duckdb.DuckDBPyConnection, name: str, fingerprinted: bool = False) -> tuple[int, Plan]:
    """Bring KPI table ``name`` up to date in one transaction: the periods of the new days, or whole
    when the past changed (pipeline/customers/kpi_updates.py); returns its rows and what was done.
    ``fingerprinted``: the inputs' fingerprints are already on the connection (kpi_updates.update)."""
    con.execute(sql(f"customers/kpis/create/{name}"))
    kpi = _kpi(name)
    migrate_column_types(con, name, dict(kpi.money))
    migrate_nullable(con, name, [kpi.money_total] if kpi.money_total else [])  # built when NOT NULL
    sums = money_sums(con, kpi)
    done = update(con, name, PARAMS, fingerprinted, {k: v for k, v in sums.items() if k == ORDER_VALUES})
    return scalar(con, sql("customers/kpis/row_count", idents={"table": name})), done


TOO_LARGE = "money too large to hold exactly (NULL, 1e20 or more)"  # the log's words
TOO_LARGE_KEY = "money_too_large"  # the metadata's key: where (periods, or the number of customers)
ORDER_VALUES = "order_values"  # the placeholder of the orders' values summed (builds, checks)
MONEY_TOTAL = "money_total"  # the placeholder of a KPI's money column summed (summaries, checks)


def _kpi(name: str) -> Kpi:
    return next((k for k in KPIS if k.name == name), Kpi(name, "", ""))


def wide_sums(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the orders' values (prepared) could add up to what an exact sum cannot hold (1e20)."""
    return float(scalar(con, sql("core/value_bound", idents={"table": ORDER_ROWS}))) >= EXACT_SUM_LIMIT


def money_sums(con: duckdb.DuckDBPyConnection, kpi: Kpi) -> dict[str, str]:
    """The fragments of the money sums of KPI ``kpi`` (none for one without money): the orders' values
    (``order_values``) and its money column (``money_total``) summed exactly, taken apart (slower) where
    the orders' values could add up to 1e20 (any period's, customer's or total's sum is at most theirs),
    a sum of 1e20 or more then NULL."""
    if not kpi.money_total:
        return {}
    wide = wide_sums(con)
    total = exact_sum(kpi.money_total, wide)
    if wide:
        total = sql("customers/kpis/total_wide", fragments={"value": kpi.money_total, "summed": total})
    return {ORDER_VALUES: exact_sum("value", wide), MONEY_TOTAL: total}


def too_large(con: duckdb.DuckDBPyConnection, kpi: Kpi) -> list[str]:
    """Where KPI ``kpi``'s money is too large to hold exactly (NULL, 1e20 or more): the periods
    (grain, start, context) or the number of customers (sql/customers/kpis/too_large/)."""
    if not kpi.money_total:
        return []
    return [r[0] for r in con.execute(sql(f"customers/kpis/too_large/{kpi.name}")).fetchall()]


def _query(
    con: duckdb.DuckDBPyConnection, name: str, fragments: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    text = sql(name, fragments=fragments)
    return con.execute(text, bind(text, PARAMS))


def reconcile(con: duckdb.DuckDBPyConnection, name: str, since: dt.date = FULL_SINCE) -> dg.AssetCheckResult:
    """The KPI's totals against the base tables (sql/customers/kpis/check/<name>.sql): passes when
    all are equal. A check that reads ``$since`` compares only the periods from the one holding it
    on (those an update wrote; the periods before are as checked when they were written). A money
    total too large to hold exactly is NULL on both sides (equal)."""
    text = sql(f"customers/kpis/check/{name}", fragments=money_sums(con, _kpi(name)))
    rows = con.execute(text, bind(text, {**PARAMS, "since": since})).fetchall()
    mismatches = [r for r in rows if r[2] != r[3]]
    return dg.AssetCheckResult(
        asset_key=name,
        check_name=RECONCILE,
        passed=bool(rows) and not mismatches,
        metadata={
            "mismatches": len(mismatches),
            "compared": dg.MetadataValue.md(markdown_table(["scope", "measure", "KPI", "base tables"], rows)),
        },
    )


def one_currency(con: duckdb.DuckDBPyConnection, name: str) -> dg.AssetCheckResult:
    """Revenue adds order values as they are: warn when the orders (of KPI ``name``) hold more than one
    currency."""
    currencies = _query(con, f"customers/kpis/check/{ONE_CURRENCY}").fetchall()[0][0]
    return dg.AssetCheckResult(
        asset_key=name,
        check_name=ONE_CURRENCY,
        passed=len(currencies) <= 1,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"currencies": ", ".join(currencies) or "none"},
    )


def _number(value: int | float | Decimal) -> dg.MetadataValue:
    return dg.MetadataValue.int(value) if isinstance(value, int) else dg.MetadataValue.float(float(value))


def summary(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, dg.MetadataValue]:
    """The KPI's headline numbers (sql/customers/kpis/summary/<name>.sql) as int / float metadata
    (NULLs left out: a money total too large to hold exactly, see :func:`too_large`)."""
    sums = {k: v for k, v in money_sums(con, _kpi(name)).items() if k == MONEY_TOTAL}
    cursor = _query(con, f"customers/kpis/summary/{name}", sums)
    row = cursor.fetchall()[0]  # a one-row summary
    names = [d[0] for d in cursor.description]
    return {n: _number(v) for n, v in zip(names, row, strict=True) if isinstance(v, int | float | Decimal)}


def latest(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The rows of the last day, week and month of a period KPI, as Markdown."""
    cursor = con.execute(sql("customers/kpis/latest", idents={"table": name}))
    return markdown_table([d[0] for d in cursor.description], cursor.fetchall())


def plot(con: duckdb.DuckDBPyConnection, kpi: Kpi) -> str:
    """The KPI's plot of the last days (sql/customers/kpis/plot/<name>.sql), as Markdown: drawn only
    when its rows (or the drawing code) changed since the last run, else the last one kept
    (``built_kpi_plots``)."""
    return _plot(con, kpi)()


def _plot(con: duckdb.DuckDBPyConnection, kpi: Kpi, painter: Executor | None = None) -> Callable[[], str]:
    """:func:`plot` begun: its rows read and the kept plot looked up now; a plot to draw is drawn by
    ``painter`` (a thread) meanwhile when given. Calling the result waits for the plot, records a new
    one in ``built_kpi_plots`` (on this thread: the connection is used by one thread) and returns it."""
    rows = _query(con, f"customers/kpis/plot/{kpi.name}").fetchall()
    con.execute(sql("customers/kpis/plots/create"))
    kept = dict(con.execute(sql("customers/kpis/plots/read"), {"kpi": kpi.name}).fetchall())
    digest = figure_digest(daily_plot, rows, kpi.plot_title, bars=kpi.bars)
    if digest in kept:
        return lambda: kept[digest]
    drawing: Future[str] = Future()
    if painter is None:
        drawing.set_result(daily_plot(rows, kpi.plot_title, bars=kpi.bars))
    else:
        drawing = painter.submit(daily_plot, rows, kpi.plot_title, bars=kpi.bars)

    def drawn() -> str:
        markdown = drawing.result()
        con.execute(sql("customers/kpis/plots/write"), {"kpi": kpi.name, "digest": digest, "plot": markdown})
        return markdown

    return drawn


def schema(con: duckdb.DuckDBPyConnection, name: str) -> dg.TableSchema:
    """The KPI table's columns, described by their comments."""
    comments = con.execute(sql("customers/kpis/column_comments"), {"table": name}).fetchall()
    return column_schema(con, name, dict(comments))


@dataclass(frozen=True)
class KpiRun:
    """What one rebuild of a KPI table did: its rows, its metadata and its check results."""

    rows: int
    metadata: dict[str, dg.MetadataValue | dg.TableSchema | int]
    checks: list[dg.AssetCheckResult]
    done: str = "rebuilt whole"  # what the update did (kpi_updates.Plan.describe)
    too_large: tuple[str, ...] = ()  # where its money is too large to hold exactly (NULL): too_large()

    def log_line(self, name: str) -> str:
        verdicts = (f"{r.check_name} {'passed' if r.passed else 'FAILED'}" for r in self.checks)
        line = f"{name}: {self.rows} rows, {self.done}; " + ", ".join(verdicts)
        if self.too_large:
            line += f"; {TOO_LARGE}: " + ", ".join(self.too_large)
        return line


def materialize_all(con: duckdb.DuckDBPyConnection, kpis: Iterable[Kpi]) -> Iterator[tuple[Kpi, KpiRun]]:
    """Update each of ``kpis`` in turn on one connection (see :func:`materialize`), their inputs
    prepared and fingerprinted once for all of them; each KPI's run once the next one's SQL is done:
    its plot is drawn by a thread meanwhile (matplotlib holds the interpreter, DuckDB does not)."""
    kpis = list(kpis)
    prepare(con, orders=any(k.reads_orders for k in kpis))
    fingerprint_inputs(con)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-plots") as painter:
        waiting: list[tuple[Kpi, Callable[[], KpiRun]]] = []
        try:
            for kpi in kpis:
                waiting.append((kpi, _materialize(con, kpi, True, painter)))
                if len(waiting) > 1:
                    done, finish = waiting.pop(0)
                    yield done, finish()
        except Exception:  # a later KPI failed: the run already made is given first
            for done, finish in waiting:
                yield done, finish()
            raise
        for done, finish in waiting:
            yield done, finish()


def materialize(con: duckdb.DuckDBPyConnection, kpi: Kpi, prepared: bool = False) -> KpiRun:
    """Bring one KPI table up to date, run its checks and gather what the UI shows of it.
    ``prepared``: the base views and the inputs' fingerprints are already on the connection."""
    return _materialize(con, kpi, prepared)()


def _materialize(
    con: duckdb.DuckDBPyConnection, kpi: Kpi, prepared: bool, painter: Executor | None = None
) -> Callable[[], KpiRun]:
    """:func:`materialize` begun: everything but its plot done now (drawn by ``painter`` when given);
    calling the result gives its run once the plot is there."""
    if not prepared:
        prepare(con, orders=kpi.reads_orders)
    rows, done = rebuild(con, kpi.name, fingerprinted=prepared)
    if not kpi.periods:  # keyed by customer: `nightjar forget` must reach it
        register_customer_table(con, kpi.name, "customer_id", CUSTOMER_ID)
    since = done.since if not done.full and done.since else FULL_SINCE
    checks = [reconcile(con, kpi.name, since)] + ([one_currency(con, kpi.name)] if kpi.currency_check else [])
    headline = summary(con, kpi.name)
    plotted = _plot(con, kpi, painter)
    columns = schema(con, kpi.name)
    latest_periods = dg.MetadataValue.md(latest(con, kpi.name)) if kpi.periods else None
    unheld = tuple(too_large(con, kpi))

    def finish() -> KpiRun:
        metadata: dict[str, dg.MetadataValue | dg.TableSchema | int] = {
            **headline,
            "plot": dg.MetadataValue.md(plotted()),
            "dagster/row_count": rows,
            "dagster/column_schema": columns,
            "update": dg.MetadataValue.text(done.describe()),
        }
        if latest_periods is not None:
            metadata["latest_periods"] = latest_periods
        if unheld:
            metadata[TOO_LARGE_KEY] = dg.MetadataValue.text(", ".join(unheld))
        return KpiRun(rows, metadata, checks, done.describe(), unheld)

    return finish
