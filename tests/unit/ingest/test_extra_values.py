"""A delimited record with more values than the header names is a rejected row (field `columns`, its
row number, the count it has), even when the values too many are empty: the reader would drop them
and load the row's values, shifted or not, as if nothing were wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.core.warehouse import connect
from pipeline.ingest.customer_batch import ingest_customer_files
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import (
    CUSTOMER_COLUMNS,
    CUSTOMERS_HEADER,
    DAY,
    POS_HEADER,
    PREV,
    World,
    check_load,
    check_rejects,
)
from tests.unit.ingest.test_ingest_malformed_modes import scan_warehouse, sha


def test_a_customer_row_with_an_empty_value_too_many_is_rejected(world: World) -> None:
    data = (
        CUSTOMERS_HEADER
        + b"u1,Nice,,25,,,\n"  # a comma too many: 25 would be read as the interests, the age missing
        + b"u2,Metz,26,,,\n"
        + b'u3,Lyon,27,,,,""\n'  # a quoted empty value too many
        + b"u4,Brest,28,,,,,\n"  # two
    )
    r = world.load_customers("csv", data)
    check_load(world, r, LOADED, 4, 1, 3)
    rows = check_rejects(
        world,
        r,
        {1: ("columns", ("6", "7")), 3: ("columns", ("6", "7")), 4: ("columns", ("6", "Found: 8"))},
    )
    assert [raw for *_, raw in rows] == ["u1,Nice,,25,,,", 'u3,Lyon,27,,,,""', "u4,Brest,28,,,,,"]
    assert world.customers() == [("u2", "Metz", 26.0, None, None, None)]


def test_a_rejected_row_of_plain_emails_keeps_no_address(world: World) -> None:
    data = b"customuid,email,txt_city\nu1,a@x.com,Paris,\nu2,b@y.com,Lyon\n"
    r = world.load_customers("csv", data)
    check_load(world, r, LOADED, 2, 1, 1)
    check_rejects(world, r, {1: ("columns", ("3", "4"))})
    assert world.q("SELECT customuid, emailsha256, txt_city FROM customers") == [
        ("u2", sha("b@y.com"), "Lyon")
    ]
    assert scan_warehouse(world, ["a@x.com", "b@y.com"]) == {"a@x.com": [], "b@y.com": []}


def test_customer_files_applied_together_reject_it_too(world: World) -> None:
    world.load_customers("csv", CUSTOMERS_HEADER + b"u0,Paris,1,,,\n", day=PREV - dt.timedelta(days=1))
    files = [
        world.land("customers", "csv", CUSTOMERS_HEADER + b"u1,Nice,,25,,,\nu2,Metz,26,,,\n", PREV),
        world.land("customers", "csv", CUSTOMERS_HEADER + b"u3,Lyon,27,,,\nu4,Brest,,28,,,\n", DAY),
    ]
    with connect(world.warehouse) as con:
        results = ingest_customer_files(con, world.cfg.customers, "landing", files)
    assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [(2, 1, 1), (2, 1, 1)]
    assert world.q("SELECT file, row_number, field FROM rejects ORDER BY 1") == [
        ("customers_20260130.csv", 1, "columns"),
        ("customers_20260131.csv", 2, "columns"),
    ]
    assert [c[0] for c in world.customers(CUSTOMER_COLUMNS)] == ["u0", "u2", "u3"]


def test_a_transaction_row_with_an_empty_value_too_many_is_rejected_alone_and_in_a_batch(
    world: World,
) -> None:
    spec = world.cfg.transaction("pos")
    prev = POS_HEADER + b"o1,c1,01/30/2026,2,3.50,S1,\no2,c2,01/30/2026,1,10,S2\n"
    day = POS_HEADER + b"o3,c3,01/31/2026,2,3.50,S1,,\no4,c4,01/31/2026,1,10,S2\n"
    alone = world.load_tx("pos", "csv", prev, PREV)
    check_load(world, alone, LOADED, 2, 1, 1)
    check_rejects(world, alone, {1: ("columns", ("6", "7"))})
    files = [(PREV, world.land("pos", "csv", prev, PREV)), (DAY, world.land("pos", "csv", day, DAY))]
    with connect(world.warehouse) as con:
        together = ingest_transactions(con, spec, "landing", files)
    assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in together] == [(2, 1, 1), (2, 1, 1)]
    assert world.q("SELECT partition_date, row_number, field FROM rejects ORDER BY 1") == [
        (PREV, 1, "columns"),
        (DAY, 1, "columns"),
    ]
    assert world.q("SELECT order_id, amount FROM tx_pos ORDER BY 1") == [
        ("o2", Decimal("10")),
        ("o4", Decimal("10")),
    ]
