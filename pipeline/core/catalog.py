"""The catalog of customer-keyed tables: every table that holds customer ids or identifiers registers
its columns here when it is written, so that forgetting a customer reaches every place that holds them."""

from __future__ import annotations

from typing import Literal

import duckdb

from pipeline.core.sql import sql

CUSTOMER_ID = "customer_id"
# The identifiers a customer record may hold (and a transaction's customer field may name).
IDENTIFIER_KINDS = ("customuid", "emailsha256", "idfa", "dmpid")
IdentifierKind = Literal["customuid", "emailsha256", "idfa", "dmpid"]
KEY_KINDS = (CUSTOMER_ID, *IDENTIFIER_KINDS)
CUSTOMER_TABLES = "customer_tables"


def register_customer_table(con: duckdb.DuckDBPyConnection, table: str, column: str, key_kind: str) -> None:
    """Record that ``table.column`` holds customer ids (``customer_id``) or identifiers of ``key_kind``.

    Idempotent; call it whenever the table is created or written (it is cheap).
    """
    if key_kind not in KEY_KINDS:
        raise ValueError(f"key_kind {key_kind!r} of {table}.{column} must be one of {', '.join(KEY_KINDS)}")
    con.execute(sql("core/create_customer_tables"))
    con.execute(sql("core/register_customer_table"), {"table": table, "column": column, "kind": key_kind})
