"""How a KPI table is brought up to date: only the periods holding new days, or whole when the past changed.

Each build records what it was built from (table ``built_kpis``: per source, events by day and customers
by creation day, the rows that count and a fingerprint of them; sql/customers/kpis/fingerprints.sql).
The next run compares them with the inputs now (:func:`plan`):

- nothing changed: the table is left as it is;
- only days from the last built day on changed (the nightly run's new day, a re-run of the last day):
  the periods of each grain from the one holding the last built day are recomputed (day, ISO week,
  month; running totals carry on from the periods before), and kpi_customer_behaviour recomputes the
  customers with an order on those days (now or at the last build) or created then, over their whole
  history, and deletes the rows of customers who no longer count (excluded, dropped);
- anything before it changed (retention, ``nightjar forget``, an exclusion, a late file, a customer
  changed), a KPI never built (or its built_kpis rows deleted), or a dimension value (event type and
  context, order context) never seen or no longer seen: the table is rebuilt whole.

The result is the same table as a full rebuild on the same data (tests/unit/customers/test_kpi_updates.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import execute_statements, scalar, transaction

FULL_SINCE = dt.date(1, 1, 1)  # the first period of every grain: a full rebuild
BY_DIMENSION = ("kpi_events", "kpi_purchases")  # tables with a row per dimension value and period
BY_CUSTOMER = "kpi_customer_behaviour"


@dataclass(frozen=True)
class Plan:
    """What an update does: nothing, the periods from ``since`` on, or everything (``full``)."""

    full: bool
    since: dt.date | None  # None with full False: nothing changed

    def describe(self) -> str:
        if self.full:
            return "rebuilt whole"
        if self.since is None:
            return "unchanged"
        return f"updated from {self.since}"


def plan(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> Plan:
    """The update of KPI ``name`` (its table created, the base views and _kpi_fp prepared)."""
    built, last, changed, first, undated = con.execute(
        sql("customers/kpis/changed"), {"kpi": name}
    ).fetchall()[0]
    empty = scalar(con, sql("customers/kpis/row_count", idents={"table": name})) == 0
    if built == 0 or empty or undated or (changed and (first is None or last is None or first < last)):
        return Plan(True, None)
    if not changed:
        return Plan(False, None)
    if name in BY_DIMENSION:
        query = sql(f"customers/kpis/changed_dims/{name}")
        if scalar(con, query, bind(query, {**params, "since": last})):
            return Plan(True, None)
    return Plan(False, last)


def fingerprint_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The KPIs' inputs now, per source and day, into the temp table _kpi_fp (the base views prepared),
    and the calendar of those days (_kpi_calendar, _kpi_periods) the builds read. Updating the KPI
    tables does not change their inputs, so one reading serves every table updated
    on the connection after it."""
    con.execute(sql("customers/kpis/create_built"))
    con.execute(sql("customers/kpis/fingerprints"))


def update(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict,
    fingerprinted: bool = False,
    fragments: dict[str, str] | None = None,
) -> Plan:
    """Bring KPI table ``name`` up to date in one transaction (see the module); returns what it did.
    ``fingerprinted``: :func:`fingerprint_inputs` already ran on this connection, since the last
    change of the KPIs' inputs. ``fragments``: those of its build (its money sums, kpis.money_sums)."""
    if not fingerprinted:
        fingerprint_inputs(con)
    todo = plan(con, name, params)
    if not todo.full and todo.since is None:
        return todo
    values = {**params, "since": FULL_SINCE if todo.full else todo.since, "whole": todo.full}
    build = sql(f"customers/kpis/{name}", fragments=fragments)
    with transaction(con):
        if name == BY_CUSTOMER:
            changed = sql("customers/kpis/changed_customers")
            con.execute(changed, bind(changed, values))
            con.execute(sql("customers/kpis/clear_customers"), {"whole": todo.full})
        else:
            con.execute(sql("customers/kpis/clear_since", idents={"table": name}), {"since": values["since"]})
        con.execute(build, bind(build, values))
        execute_statements(con, sql("customers/kpis/record_built"), {"kpi": name})
    return todo
