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
A rebuild writes only what changed: the map's rows that differ, and the events of the feed keys whose
customer changed (`customer_identity_keys` keeps what each key pointed at); a night that changes no
link writes nothing. `events` drops the stored row of a key it wrote with another customer (built
under another policy than the map), so the next rebuild re-points all of that key's events. The days
and customers of the events a rebuild changes are kept in `identity_event_changes`: attribution
attributes again the days they reach (pipeline/attribution/restate.py).

Exclusions drop the customers whose property matches a filter; their identifiers are kept with
``excluded = true`` so that everything they did is dropped from the events too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, IDENTIFIER_KINDS, register_customer_table
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.customers.feed_events import insert_feed_events
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.typing import customer_column

CUSTOMER_IDENTITIES = "customer_identities"
IDENTITY_KEYS = "customer_identity_keys"
EVENT_CHANGES = "identity_event_changes"
CUSTOMERS_DATASET = "customers"
# The customer columns an exclusion EQUALS compares as their type, not as text (a number's text is a
# double's, '12.0'; a goal's 'true' where the files say 1)
TYPED_EXCLUSIONS = ("DOUBLE", "BOOLEAN")


@dataclass
class IdentityResult:
    customers: int
    identifiers: int
    conflicts: int
    excluded: int
    keys_matched: dict[str, int]
    keys_anonymous: dict[str, int]


class IdentityError(ValueError):
    """An identity setting that cannot be applied to the customer data as it is (names the key path)."""


def normalize(expr: str, case_sensitive: bool) -> str:
    """SQL: an identifier value as it is compared (``expr`` is a quoted column or an alias)."""
    text = f"CAST({expr} AS VARCHAR)"
    return f"trim({text})" if case_sensitive else f"lower(trim({text}))"


def _exclusion_sql(config: CustomersConfig, columns: set[str]) -> tuple[str, dict[str, object]]:
    """SQL condition over a `customers` row that is true for an excluded customer, and its parameters."""
    terms: list[str] = []
    params: dict[str, object] = {}
    for i, f in enumerate(config.identity.exclude):
        if f.property not in columns:  # a misspelt property would exclude no one, silently
            raise IdentityError(
                f"identity.exclude[{i}].property: the customer data has no column {f.property!r} "
                f"(its columns: {', '.join(sorted(c for c in columns if not c.startswith('_')))})"
            )
        col = ident(f.property)
        text = f"array_to_string({col}, ',')" if f.property.startswith("attr_") else f"CAST({col} AS VARCHAR)"
        typed = _typed_value(f.property, f"$x{i}")
        op = {
            "STARTS_WITH": f"starts_with({text}, $x{i})",
            "CONTAINS": f"contains({text}, $x{i})",
            "EQUALS": f"{col} = {typed}" if typed else f"{text} = $x{i}",
        }
        terms.append(f"coalesce({op[f.op]}, false)")
        params[f"x{i}"] = f.value
    return (" OR ".join(terms) or "false"), params


def _typed_value(column: str, value: str) -> str | None:
    """SQL: the text ``value`` typed as ingestion types the customer column (a ``num_*`` number, a
    ``goal_*`` 1 / 0 / true / false), NULL when it is not one; None for a column compared as text."""
    typed = customer_column(column)
    return f"({typed.cast(value, '')})" if typed.sql_type in TYPED_EXCLUSIONS else None


def check_exclusion_values(con: duckdb.DuckDBPyConnection, config: CustomersConfig) -> None:
    """An EQUALS filter on a typed column whose value is not of its type would exclude no one, silently:
    refused, naming it."""
    for i, f in enumerate(config.identity.exclude):
        typed = _typed_value(f.property, "$value")
        if (
            f.op == "EQUALS"
            and typed
            and scalar(con, sql("customers/identity/untyped", fragments={"typed": typed}), {"value": f.value})
        ):
            raise IdentityError(
                f"identity.exclude[{i}].value: {f.value!r} is not {customer_column(f.property).expected}, "
                f"as {f.property} holds (it would exclude no one)"
            )


def customer_identifiers_sql(config: CustomersConfig, columns: set[str]) -> tuple[str, dict[str, object]]:
    """The insert of every identifier in `customers` into `_ids` (sql/customers/identity/
    customer_identifiers.sql: one SELECT per identifier kind the data set has), and its parameters."""
    cs = config.identity.case_sensitive
    excluded, params = _exclusion_sql(config, columns)
    parts = [
        f"SELECT customuid AS customer_id, $kind0 AS kind, {normalize('customuid', cs)} AS value, "
        "_excluded FROM _c"
    ]
    params["kind0"] = IDENTIFIER_KINDS[0]
    for i, kind in enumerate(IDENTIFIER_KINDS[1:], start=1):
        if kind in columns:
            parts.append(
                f"SELECT customuid, $kind{i}, {normalize('v', cs)}, _excluded "
                "FROM (SELECT customuid, _excluded, "
                f"unnest(string_split({ident(kind)}, ',')) AS v FROM _c) AS c"
            )
            params[f"kind{i}"] = kind
    query = sql(
        "customers/identity/customer_identifiers",
        fragments={"excluded": excluded, "identifiers": " UNION ALL ".join(parts)},
    )
    return query, params


def _key_kinds(config: CustomersConfig, spec: TransactionSpec) -> list[str]:
    """The kinds a feed's customer_field may hold, in the policy's order (only matched kinds)."""
    return [k for k in config.identity.match_on if k in spec.customer_keys]


def build_identities(con: duckdb.DuckDBPyConnection, config: CustomersConfig) -> IdentityResult:
    """Rebuild `customer_identities` from `customers` and the transaction feeds, in one transaction."""
    columns = set()
    if table_exists(con, "customers"):
        columns = {r[0] for r in con.execute(sql("customers/identity/customer_columns")).fetchall()}
    con.execute(sql("customers/identity/create_identities"))
    register_customer_table(con, CUSTOMER_IDENTITIES, "customer_id", CUSTOMER_ID)
    con.execute(sql("customers/identity/create_event_changes"))
    register_customer_table(con, EVENT_CHANGES, "customer_id", CUSTOMER_ID)
    con.execute(sql("customers/identity/working_tables"))
    if columns:
        check_exclusion_values(con, config)
        query, params = customer_identifiers_sql(config, columns)
        con.execute(query, params)
    con.execute(
        sql("customers/identity/resolve_customer_identifiers"), {"match_on": config.identity.match_on}
    )
    matched, anonymous = {}, {}
    for spec in config.transactions:
        if not table_exists(con, spec.table):
            continue
        counts = resolve_keys(con, config, spec, condition="true")
        con.execute(sql("customers/identity/insert_feed_ids"), {"ds": spec.name})
        con.execute(sql("customers/identity/insert_feed_keys"), {"ds": spec.name})
        matched[spec.name], anonymous[spec.name] = counts
    with transaction(con):
        apply_identities(con, config)
    stats = con.execute(sql("customers/identity/identity_stats")).fetchall()[0]
    return IdentityResult(stats[0], stats[1], stats[2], stats[3], matched, anonymous)


def apply_identities(con: duckdb.DuckDBPyConnection, config: CustomersConfig) -> int:
    """Make the stored map, keys and events what the working tables (`_resolved`, `_feed_ids`,
    `_feed_keys`) say, touching only what differs: the map's rows whose count changed, the keys whose
    row changed (`customer_identity_keys` keeps the last rebuild's) and those keys' events. Without
    stored keys (a warehouse from before them) every key is changed: the whole rebuild. Returns the
    changed keys."""
    con.execute(sql("customers/identity/create_identity_keys"))
    for kind in sorted({k for spec in config.transactions for k in spec.customer_keys}):
        register_customer_table(con, IDENTITY_KEYS, "key", kind)
    register_customer_table(con, IDENTITY_KEYS, "customer_id", CUSTOMER_ID)
    con.execute(sql("customers/identity/identity_changes"))
    map_rows, changed = con.execute(sql("customers/identity/change_counts")).fetchall()[0]
    if map_rows:
        con.execute(sql("customers/identity/update_identities"))
    if changed:
        if table_exists(con, "events"):
            keys = {"keys": "_changed_keys"}
            rebuild = int(scalar(con, sql("customers/identity/next_rebuild")))
            con.execute(sql("customers/identity/record_moved_events", idents=keys), {"rebuild": rebuild})
            con.execute(sql("customers/identity/rekey_events", idents=keys))
            con.execute(sql("customers/identity/drop_excluded_events", idents=keys))
            _write_back_events(con, config, rebuild)
        con.execute(sql("customers/identity/update_identity_keys"))
    return int(changed)


def _write_back_events(con: duckdb.DuckDBPyConnection, config: CustomersConfig, rebuild: int) -> None:
    """The events of the keys no longer excluded (`_revived_keys`: dropped while they were, and none
    built for them since; every key when none is stored) come back from their feeds' rows, on the days
    whose events were built: as building those days again would give them (recorded in
    `identity_event_changes` as ``rebuild``)."""
    datasets = {d for (d,) in con.execute(sql("customers/identity/revived_datasets")).fetchall()}  # feeds
    if not datasets:
        return
    con.execute(sql("customers/identity/built_days"))
    con.execute(sql("customers/identity/drop_revived_events"))
    for spec in config.transactions:
        if spec.name not in datasets or not table_exists(con, spec.table):
            continue
        key = ident(spec.customer_field)
        revived = f"CAST({key} AS VARCHAR) IN (SELECT key FROM _revived_keys WHERE dataset = $ds)"
        resolve_keys(con, config, spec, condition=revived, params={"ds": spec.name})
        insert_feed_events(con, spec, dt.date.min, dt.date.max, built_days=True)
    con.execute(sql("customers/identity/record_revived_events"), {"rebuild": rebuild})


def customers_without_identifier(con: duckdb.DuckDBPyConnection) -> int:
    """Customer records with no identifier in the identity map (0 without a customer data set)."""
    if not table_exists(con, "customers"):
        return 0
    return scalar(con, sql("customers/identity/customers_without_identifier"))


def resolve_keys(
    con: duckdb.DuckDBPyConnection,
    config: CustomersConfig,
    spec: TransactionSpec,
    condition: str,
    params: Mapping[str, object] | None = None,
) -> tuple[int, int]:
    """Create `_keys(key, customer_id, kind, value, excluded)`: each distinct customer key of a
    feed's rows (those matching ``condition``, SQL generated by the caller with its values in
    ``params``) and the customer it points at (NULL: anonymous).

    Reads `_resolved` (the customer identifiers with conflicts resolved). Returns (matched, anonymous).
    """
    kinds = _key_kinds(config, spec)
    key = ident(spec.customer_field)
    query = sql(
        "customers/identity/resolve_keys",
        idents={"table": spec.table, "key_column": spec.customer_field},
        fragments={"key_value": normalize(key, config.identity.case_sensitive), "condition": condition},
    )
    # no matched kind: every key is anonymous
    con.execute(
        query, bind(query, {"kinds": kinds or ["-"], "own_id": config.keys_are_own_ids, **(params or {})})
    )
    matched, anonymous = con.execute(sql("customers/identity/key_counts")).fetchall()[0]
    return matched, anonymous
