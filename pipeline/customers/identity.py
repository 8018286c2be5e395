"""Identity matching: which customer each identifier (CRM id, e-mail hash, device id) points at.

The customer data set is keyed by ``customuid``; its ``customuid`` is the ``customer_id``, stable
from night to night. Every identifier of a customer (each value of a multi-value cell) points at
that customer. Transaction feeds hold one identifier per row (``customer_key``: one kind, or
several tried in the ``identity.match_on`` order); a value that points at no customer makes the
row anonymous. Values are compared lower-cased unless ``case_sensitive``.

Conflicts: an identifier that points at two or more customers (two CRM records sharing an e-mail
hash) is given to the smallest ``customer_id`` that is not excluded, and counted; the others keep
their own records. Stored events follow the map: each rebuild re-points them (a customer file
that arrives later turns anonymous events into that customer's) and drops excluded customers' events.

Exclusions drop the customers whose property matches a filter; their identifiers are kept with
``excluded = true`` so that everything they did is dropped from the events too.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, IDENTIFIER_KINDS, register_customer_table
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.ingest.config import TransactionSpec

CUSTOMER_IDENTITIES = "customer_identities"
CUSTOMERS_DATASET = "customers"


@dataclass
class IdentityResult:
    customers: int
    identifiers: int
    conflicts: int
    excluded: int
    keys_matched: dict[str, int]
    keys_anonymous: dict[str, int]


def normalize(expr: str, case_sensitive: bool) -> str:
    """SQL: an identifier value as it is compared."""
    text = f"CAST({expr} AS VARCHAR)"
    return f"trim({text})" if case_sensitive else f"lower(trim({text}))"


def _exclusion_sql(config: CustomersConfig, columns: set[str]) -> tuple[str, dict]:
    """SQL condition over a `customers` row that is true for an excluded customer, and its parameters."""
    terms, params = [], {}
    for i, f in enumerate(config.identity.exclude):
        if f.property not in columns:
            continue  # a property the data set does not have excludes no one
        col = ident(f.property)
        text = f"array_to_string({col}, ',')" if f.property.startswith("attr_") else f"CAST({col} AS VARCHAR)"
        op = {
            "STARTS_WITH": f"starts_with({text}, $x{i})",
            "CONTAINS": f"contains({text}, $x{i})",
            "EQUALS": f"{text} = $x{i}",
        }
        terms.append(f"coalesce({op[f.op]}, false)")
        params[f"x{i}"] = f.value
    return (" OR ".join(terms) or "false"), params


def customer_identifiers_sql(config: CustomersConfig, columns: set[str]) -> tuple[str, dict]:
    """SQL selecting (customer_id, kind, value, excluded) for every identifier in `customers`."""
    cs = config.identity.case_sensitive
    excluded, params = _exclusion_sql(config, columns)
    parts = [
        f"SELECT customuid AS customer_id, 'customuid' AS kind, {normalize('customuid', cs)} AS value, _excluded FROM _c"
    ]
    for kind in IDENTIFIER_KINDS[1:]:
        if kind in columns:
            parts.append(
                f"SELECT customuid, '{kind}', {normalize('v', cs)}, _excluded "
                f"FROM (SELECT customuid, _excluded, unnest(string_split({ident(kind)}, ',')) AS v FROM _c)"
            )
    body = "\nUNION ALL\n".join(parts)
    return (
        f"WITH _c AS (SELECT *, ({excluded}) AS _excluded FROM customers)\n"
        f"SELECT * FROM ({body}) WHERE value IS NOT NULL AND value <> ''",
        params,
    )


def _key_kinds(config: CustomersConfig, spec: TransactionSpec) -> list[str]:
    """The kinds a feed's customer_field may hold, in the policy's order (only matched kinds)."""
    return [k for k in config.identity.match_on if k in spec.customer_keys]


def build_identities(con: duckdb.DuckDBPyConnection, config: CustomersConfig) -> IdentityResult:
    """Rebuild `customer_identities` from `customers` and the transaction feeds, in one transaction."""
    columns = set()
    if table_exists(con, "customers"):
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'"
            ).fetchall()
        }
    con.execute(sql("customers/identity/create_identities"))
    register_customer_table(con, CUSTOMER_IDENTITIES, "customer_id", CUSTOMER_ID)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ids (customer_id VARCHAR, kind VARCHAR, value VARCHAR, excluded BOOLEAN)"
    )
    if columns:
        query, params = customer_identifiers_sql(config, columns)
        con.execute(f"INSERT INTO _ids {query}", params)
    con.execute(
        sql("customers/identity/resolve_customer_identifiers"), {"match_on": config.identity.match_on}
    )
    matched, anonymous = {}, {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _feed_ids AS SELECT customer_id, kind, value, dataset, conflict, excluded "
        "FROM _resolved WHERE false"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _feed_keys "
        "(dataset VARCHAR, key VARCHAR, customer_id VARCHAR, kind VARCHAR, excluded BOOLEAN)"
    )
    for spec in config.transactions:
        if not table_exists(con, spec.table):
            continue
        counts = resolve_keys(con, config, spec, where="true")
        con.execute(
            "INSERT INTO _feed_ids SELECT customer_id, kind, value, $ds, false, excluded FROM _keys WHERE customer_id IS NOT NULL",
            {"ds": spec.name},
        )
        con.execute(
            "INSERT INTO _feed_keys SELECT $ds, CAST(key AS VARCHAR), customer_id, kind, excluded FROM _keys",
            {"ds": spec.name},
        )
        matched[spec.name], anonymous[spec.name] = counts
    with transaction(con):
        con.execute(f"DELETE FROM {CUSTOMER_IDENTITIES}")
        con.execute(
            f"INSERT INTO {CUSTOMER_IDENTITIES} SELECT customer_id, kind, value, dataset, conflict, excluded FROM _resolved "
            "UNION ALL SELECT * FROM _feed_ids"
        )
        if table_exists(con, "events"):
            con.execute(sql("customers/identity/rekey_events"))
            con.execute(sql("customers/identity/drop_excluded_events"))
    stats = con.execute(
        f"""SELECT count(DISTINCT customer_id) FILTER (WHERE dataset = 'customers' AND NOT excluded),
                   count(*),
                   count(DISTINCT (kind, value)) FILTER (WHERE conflict),
                   count(DISTINCT customer_id) FILTER (WHERE excluded)
            FROM {CUSTOMER_IDENTITIES}"""
    ).fetchall()[0]
    return IdentityResult(stats[0], stats[1], stats[2], stats[3], matched, anonymous)


def resolve_keys(
    con: duckdb.DuckDBPyConnection,
    config: CustomersConfig,
    spec: TransactionSpec,
    where: str,
    params: dict | None = None,
) -> tuple[int, int]:
    """Create `_keys(key, customer_id, kind, value, excluded)`: each distinct customer key of a
    feed's rows (those matching ``where``) and the customer it points at (NULL: anonymous).

    Reads `_resolved` (the customer identifiers with conflicts resolved). Returns (matched, anonymous).
    """
    kinds = _key_kinds(config, spec)
    cs = config.identity.case_sensitive
    key = ident(spec.customer_field)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _keys AS
            WITH k AS (SELECT DISTINCT {key} AS key, {normalize(key, cs)} AS value
                       FROM {ident(spec.table)} WHERE {key} IS NOT NULL AND {where}),
                 hits AS (SELECT k.key, k.value, r.customer_id, r.kind, r.excluded,
                                 list_position($kinds, r.kind) AS priority
                          FROM k JOIN _resolved r ON r.value = k.value AND list_contains($kinds, r.kind)
                          WHERE r.winner)
            SELECT k.key, h.customer_id, coalesce(h.kind, $kinds[1]) AS kind, k.value, coalesce(h.excluded, false) AS excluded
            FROM k LEFT JOIN (SELECT key, arg_min(customer_id, priority) AS customer_id, arg_min(kind, priority) AS kind,
                                     arg_min(excluded, priority) AS excluded
                              FROM hits GROUP BY key) h USING (key)""",
        {"kinds": kinds or ["-"], **(params or {})},  # no matched kind: every key is anonymous
    )
    matched = scalar(con, "SELECT count(*) FROM _keys WHERE customer_id IS NOT NULL")
    return matched, scalar(con, "SELECT count(*) FROM _keys") - matched
