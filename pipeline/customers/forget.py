"""Forgetting a customer: every row of theirs, in every customer-keyed table, in one transaction.

Which tables hold customers' rows
---------------------------------
* **The registry** ``customer_tables(table_name, column_name, key_kind)``. Every writer of a
  customer-keyed table calls :func:`register_customer_table` when it writes the table (ingestion
  for ``customers`` and each ``tx_<name>``, identity matching for ``customer_identities``, the
  events for ``events``; later outputs the same way). ``key_kind`` is ``customer_id`` (the column
  holds customer ids: the row belongs to that customer) or an identifier kind (the column holds
  identifiers of that kind, possibly several in one cell, ``"a,b"``).
* **The safety net.** Every table with a column named ``customer_id`` or ``customuid`` is
  forgotten from even when nobody registered it, so a new output table (predictions, results,
  conversions, attribution_credits, ...) cannot be missed. :func:`unregistered_customer_tables`
  lists such tables, so that a test can insist that their writer registers them. A table keyed
  only by an identifier column of another name (say ``email_hash``) must register itself.

What is deleted
---------------
``who`` is a customer_id or any identifier value; ``kind`` says which (``customer_id``,
``customuid``, ``emailsha256``, ``idfa``, ``dmpid``, or ``email`` for a plain address, hashed as
ingestion hashes it); without ``kind`` every kind is tried (a value with ``@`` is also tried as a
plain address). Identifiers are compared as identity matching compares them (lower-cased and
trimmed unless ``identity.case_sensitive``); a customer_id is compared exactly.

1. **The customers**: the customer with that id, or every customer that holds that identifier
   (in the identity map, or in a row of theirs such as their ``customers`` record).
2. **Their identifier values**: from the identity map, from their own rows (every hash of a
   multi-value ``customers.emailsha256`` cell, every key of their events) and the one asked for.
   A value that other customers hold too belongs, as in identity matching, to the smallest
   customer_id holding it that is not excluded (the smallest of all when every holder is); when
   that customer stays, the value is theirs and is not used to delete anything (counted in
   ``shared_identifiers_kept``).
3. **In one transaction**, from every registered or discovered table: the rows owned by a
   forgotten customer (a ``customer_id`` column holds their id), and the rows owned by no
   customer (``tx_*`` rows, anonymous events) that hold one of their identifier values in a
   column keyed by that kind. A row owned by another customer is never deleted. From ``rejects``:
   the rows that hold one of those values or ids in an identifier field of their dataset (at that
   field's key of the raw row's JSON, as a cell of a raw line that could not be split, or quoted in
   the reason of a row rejected for that field), never in another field or free text. Then one
   row is appended to ``forget_log``: when, the kind of identifier asked for, the rows deleted per
   table. Never the identifier or the customer id. The days of a table whose writer records their
   fingerprints (pipeline/core/parts.py) are fingerprinted again where rows went. And one row to
   ``forget_pending``: the published snapshot may still hold the rows, so the next publication
   (`nightjar forget`'s own, else a run's ``published`` step) keeps no older version and then
   clears it (pipeline/activation/publish.py): a forget killed before it published again is
   finished by the next publication.

**Not found**: when no row anywhere holds ``who``, :class:`CustomerNotFound` is raised and nothing
changes; nothing is logged either (nothing was forgotten). Any failure rolls the whole
transaction back. Identifiers live only in connection-local temp tables, dropped before returning.

What it cannot reach: the landing files. Re-loading a file that still holds the customer brings
them back; remove them at the source too. Aggregates without a customer key (``kpi_*`` totals)
are not personal data and are recomputed by the next nightly run.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, CUSTOMER_TABLES, IDENTIFIER_KINDS, KEY_KINDS
from pipeline.core.parts import refresh_parts
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.customers.identity import CUSTOMER_IDENTITIES

EMAIL = "email"
LOOKUP_KINDS = (*KEY_KINDS, EMAIL)
FORGET_LOG = "forget_log"
FORGET_PENDING = "forget_pending"  # the forgets a published version may still hold
REJECTS = "rejects"
SAFETY_NET_KINDS = {"customer_id": [CUSTOMER_ID], "customuid": [CUSTOMER_ID, "customuid"]}


class CustomerNotFound(LookupError):
    """No row of the warehouse holds the customer_id or identifier asked for; nothing changed."""


@dataclass(frozen=True)
class ForgetResult:
    """What one forget did; ``rows_deleted`` is also what ``forget_log`` records."""

    identifier_kind: str
    customers: int  # customers (customer ids) forgotten; 0 when only rows without a customer held it
    rows_deleted: dict[str, int]
    shared_identifiers_kept: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows_deleted.values())


@dataclass
class CustomerTable:
    """A customer-keyed table: its customer_id columns and its identifier columns (with their kinds)."""

    name: str
    owners: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)


def customer_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, bool]]:
    """(table, column, key kind, registered) of every customer-keyed column of the warehouse."""
    registered = (
        con.execute(sql("customers/forget/registered_columns")).fetchall()
        if table_exists(con, CUSTOMER_TABLES)
        else []
    )
    seen = {(t, c) for t, c, _ in registered}
    rows = [(t, c, k, True) for t, c, k in registered]
    for t, c in con.execute(sql("customers/forget/named_key_columns")).fetchall():
        if (t, c) not in seen:
            rows += [(t, c, k, False) for k in SAFETY_NET_KINDS[c.lower()]]
    return sorted(rows)


def unregistered_customer_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables with a customer_id/customuid column their writer did not register (forget still
    reaches them)."""
    return sorted({t for t, _, _, registered in customer_columns(con) if not registered})


def customer_tables(con: duckdb.DuckDBPyConnection) -> dict[str, CustomerTable]:
    """Every customer-keyed table, registered or discovered, by name."""
    tables: dict[str, CustomerTable] = {}
    for t, c, kind, _ in customer_columns(con):
        table = tables.setdefault(t, CustomerTable(t))
        if kind == CUSTOMER_ID:
            if c not in table.owners:
                table.owners.append(c)
        elif kind not in table.keys.setdefault(c, []):
            table.keys[c].append(kind)
    return tables


def _query(name: str, condition: str | None = None, **names: str) -> str:
    """sql/customers/forget/<name>.sql with its table/column/owner identifiers (and the generated
    ``condition`` of delete_rows.sql) filled in."""
    fragments = {"condition": condition} if condition is not None else None
    return sql(f"customers/forget/{name}", idents=names, fragments=fragments)


def _run(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[tuple]:
    return con.execute(query, bind(query, params)).fetchall()


def _find(
    con: duckdb.DuckDBPyConnection, tables: dict[str, CustomerTable], who: str, kind: str | None, cs: bool
) -> str:
    """Fill ``_forget_ids`` with the customers ``who`` names; returns the kinds that named them."""
    lookup = [kind] if kind else [*KEY_KINDS, *([EMAIL] if "@" in who else [])]
    params = {"who": who, "cs": cs, "kinds": [k for k in lookup if k in IDENTIFIER_KINDS]}
    if params["kinds"]:
        _run(con, sql("customers/forget/seed_identifier"), params)
    if EMAIL in lookup:
        _run(con, sql("customers/forget/seed_email"), params)
    for t in tables.values():
        for owner in t.owners:
            if CUSTOMER_ID in lookup:
                _run(con, _query("find_by_customer_id", table=t.name, column=owner), params)
            for column, kinds in t.keys.items():
                _run(
                    con,
                    _query("find_by_identifier", table=t.name, owner=owner, column=column),
                    {**params, "kinds": kinds},
                )
    if table_exists(con, CUSTOMER_IDENTITIES):
        con.execute(sql("customers/forget/find_in_identities"))
    named_by = con.execute(sql("customers/forget/ids_found")).fetchall()[0][0].split(",")
    # A customer_id is also its own customuid value; say customer_id.
    return CUSTOMER_ID if CUSTOMER_ID in named_by else ",".join(k for k in named_by if k)


def _collect(con: duckdb.DuckDBPyConnection, tables: dict[str, CustomerTable], cs: bool) -> int:
    """Fill ``_forget_values`` with the forgotten customers' identifier values; returns the shared
    ones kept."""
    if table_exists(con, CUSTOMER_IDENTITIES):
        con.execute(sql("customers/forget/collect_identities"))
    _run(con, sql("customers/forget/collect_seeds"), {"cs": cs})
    owned = [
        (t, owner, column, kinds)
        for t in tables.values()
        for owner in t.owners
        for column, kinds in t.keys.items()
    ]
    for t, owner, column, kinds in owned:
        _run(
            con,
            _query("collect_owned_values", table=t.name, owner=owner, column=column),
            {"cs": cs, "kinds": kinds},
        )
    if table_exists(con, CUSTOMER_IDENTITIES):
        con.execute(sql("customers/forget/holders_in_identities"))
    for t, owner, column, kinds in owned:
        _run(
            con,
            _query("holders_in_rows", table=t.name, owner=owner, column=column),
            {"cs": cs, "kinds": kinds},
        )
    return con.execute(sql("customers/forget/drop_shared")).fetchall()[0][0]


def _delete_condition(table: CustomerTable) -> tuple[str, dict[str, object]]:
    """The condition of delete_rows.sql for one table (quoted columns, the kinds bound), and its
    parameters."""
    parts: list[str] = []
    params: dict[str, object] = {}
    if table.owners:
        parts.append(" OR ".join(f"_nj_forgotten({ident(c)})" for c in table.owners))
    if table.keys:
        holds = []
        for i, (column, kinds) in enumerate(table.keys.items()):
            holds.append(f"_nj_holds(CAST({ident(column)} AS VARCHAR), $kinds{i}, $cs)")
            params[f"kinds{i}"] = kinds
        unowned = " AND ".join(f"{ident(c)} IS NULL" for c in table.owners) or "true"
        parts.append(f"({unowned}) AND ({' OR '.join(holds)})")
    return " OR ".join(f"({p})" for p in parts), params


def _delete_rows(con: duckdb.DuckDBPyConnection, table: CustomerTable, cs: bool) -> int:
    """Delete the forgotten customers' rows of one table (see delete_rows.sql); returns how many."""
    condition, params = _delete_condition(table)
    return _run(con, _query("delete_rows", condition=condition, table=table.name), {**params, "cs": cs})[0][0]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def forget_customer(
    con: duckdb.DuckDBPyConnection, config: CustomersConfig, who: str, kind: str | None = None
) -> ForgetResult:
    """Delete every row of the customer ``who`` names from every customer-keyed table, in one
    transaction, and append one row to ``forget_log`` and one to ``forget_pending`` (see the module
    docstring for the rules).

    Raises :class:`CustomerNotFound` (and changes nothing, logs nothing) when no row holds ``who``,
    and ``ValueError`` for an empty ``who`` or an unknown ``kind``.
    """
    who = who.strip()
    if not who:
        raise ValueError("say which customer to forget: a customer_id or an identifier")
    if kind is not None and kind not in LOOKUP_KINDS:
        raise ValueError(f"kind {kind!r} must be one of {', '.join(LOOKUP_KINDS)}")
    cs = config.identity.case_sensitive
    try:
        with transaction(con):
            con.execute(sql("customers/forget/prepare"))
            tables = customer_tables(con)
            named_by = _find(con, tables, who, kind, cs)
            customers = scalar(con, sql("customers/forget/count_ids"))
            shared = _collect(con, tables, cs)
            rows = {t.name: _delete_rows(con, t, cs) for t in tables.values()}
            if table_exists(con, REJECTS) and table_exists(con, CUSTOMER_TABLES):
                rows[REJECTS] = _run(con, sql("customers/forget/delete_rejects"), {"cs": cs})[0][0]
            if not any(rows.values()):
                raise CustomerNotFound(
                    "no customer and no row of the warehouse holds that "
                    f"{kind or 'customer_id or identifier'}; nothing was changed"
                )
            refresh_parts(con, sorted(t for t, n in rows.items() if n))  # their days' recorded fingerprints
            result = ForgetResult(kind or named_by or "any", customers, rows, shared)
            con.execute(sql("customers/forget/create_forget_log"))
            at = _now()
            logged = {"at": at, "kind": result.identifier_kind, "rows": json.dumps(rows)}
            con.execute(sql("customers/forget/log"), logged)
            con.execute(sql("customers/forget/create_forget_pending"))
            con.execute(sql("customers/forget/mark_pending"), {"forget_id": secrets.token_hex(8), "at": at})
    finally:
        con.execute(sql("customers/forget/drop_working_set"))
    return result
