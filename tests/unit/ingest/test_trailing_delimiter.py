"""A delimited file whose every line ends with the delimiter, header included (Excel and ERP exports:
``order_id,amount,`` then ``o1,10,``) loads as the same file without them: the header's unnamed last
column is nothing. A record with a value in it is a rejected row (columns, its row number); an
unnamed column elsewhere in the header still fails the file."""

from __future__ import annotations

import datetime as dt

import pytest

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
    check_failed,
    check_load,
    check_rejects,
)

POS_LINES = [
    b"o1,c1,01/31/2026,1,1.00,S1",
    b"",  # a blank line: the numbers after it still count records
    b"o2,c2,01/31/2026,zz,2.00,S2",  # a bad value (typing)
    b'o3,"c,3",01/31/2026,3,3.00,S3',
    b"o4,c4,01/31/2026,4",  # a value too few (the reader)
    b"o5,c5,01/31/2026,5,5.00,",  # an empty store
]
CUSTOMER_LINES = [b"u1,Nice,25,,,", b"u2,Metz,zz,,,", b"u3,Lyon", b"u4,Brest,28,,,"]


def trailing(lines: list[bytes]) -> bytes:
    """The lines, each but a blank one ended by a comma."""
    return b"".join((line + b"," if line else line) + b"\n" for line in lines)


def plain(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def _pos_outcome(w: World, data: bytes) -> tuple:
    r = w.load_tx("pos", "csv", data)
    rejects = w.q("SELECT row_number, field FROM rejects WHERE load_id = ? ORDER BY 1", [r.load_id])
    return (r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.error), w.partition("pos"), rejects


def test_a_transaction_file_ending_every_line_with_the_delimiter_loads_as_without(world: World) -> None:
    header = POS_HEADER.rstrip(b"\n")
    expected = _pos_outcome(world, plain([header, *POS_LINES]))
    assert expected[0] == (LOADED, 5, 3, 2, None)
    assert [row[:2] for row in expected[1]] == [(1, "o1"), (3, "o3"), (5, "o5")]
    assert _pos_outcome(world, trailing([header, *POS_LINES])) == expected


def test_a_value_in_the_unnamed_last_column_is_a_rejected_row(world: World) -> None:
    header = POS_HEADER.rstrip(b"\n")
    data = trailing([header, *POS_LINES[:2]]) + b"o6,c6,01/31/2026,6,6.00,S6,x\n" + trailing(POS_LINES[2:])
    r = world.load_tx("pos", "csv", data)
    check_load(world, r, LOADED, 6, 3, 3)
    rows = check_rejects(
        world,
        r,
        {
            2: ("columns", ("unnamed last column", "Expected Number of Columns: 6 Found: 7")),
            3: ("quantity", ()),
            5: ("columns", ()),
        },
    )
    assert rows[0][3] == "o6,c6,01/31/2026,6,6.00,S6,x"
    assert [row[:2] for row in world.partition("pos")] == [(1, "o1"), (4, "o3"), (6, "o5")]


def test_transaction_files_read_together_reject_it_too(world: World) -> None:
    spec = world.cfg.transaction("pos")
    header = POS_HEADER.rstrip(b"\n")
    prev = trailing([header, b"p1,k1,01/30/2026,1,1.00,S1"]) + b"p2,k2,01/30/2026,2,2.00,S2,x\n"
    day = trailing([header, b"o1,c1,01/31/2026,1,1.00,S1", b"", b"o2,c2,01/31/2026,zz,2.00,S2"])
    plain_day = plain([header, b"o3,c3,02/01/2026,3,3.00,S3"])  # no trailing delimiter, the next day
    files = [
        (PREV, world.land("pos", "csv", prev, PREV)),
        (DAY, world.land("pos", "csv", day, DAY)),
        (DAY + dt.timedelta(days=1), world.land("pos", "csv", plain_day, DAY + dt.timedelta(days=1))),
    ]
    with connect(world.warehouse) as con:
        results = ingest_transactions(con, spec, "landing", files)
    assert [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        (LOADED, 2, 1, 1),
        (LOADED, 2, 1, 1),
        (LOADED, 1, 1, 0),
    ]
    assert world.q("SELECT partition_date, row_number, field, raw_row FROM rejects ORDER BY 1") == [
        (PREV, 2, "columns", "p2,k2,01/30/2026,2,2.00,S2,x"),
        (
            DAY,
            2,
            "quantity",
            '{"order_id":"o2","customer_id":"c2","purchased_at":"01/31/2026",'
            '"quantity":"zz","amount":"2.00","store":"S2"}',
        ),
    ]
    assert world.q("SELECT order_id, store FROM tx_pos ORDER BY 1") == [
        ("o1", "S1"),
        ("o3", "S3"),
        ("p1", "S1"),
    ]


def test_a_customer_file_ending_every_line_with_the_delimiter_loads_as_without(world: World) -> None:
    header = CUSTOMERS_HEADER.rstrip(b"\n")
    outcomes = []
    for data in (plain([header, *CUSTOMER_LINES]), trailing([header, *CUSTOMER_LINES])):
        r = world.load_customers("csv", data)
        rejects = world.q("SELECT row_number, field FROM rejects WHERE load_id = ? ORDER BY 1", [r.load_id])
        outcomes.append(((r.status, r.rows_read, r.rows_loaded, r.rows_rejected), rejects, world.customers()))
    assert outcomes[0][:2] == ((LOADED, 4, 2, 2), [(2, "num_age"), (3, "columns")])
    assert outcomes[1] == outcomes[0]
    r = world.load_customers("csv", trailing([header, *CUSTOMER_LINES[:2]]) + b"u5,Pau,30,,,,x\n")
    check_load(world, r, LOADED, 3, 1, 2)
    check_rejects(world, r, {2: ("num_age", ()), 3: ("columns", ("6", "7"))})


def test_customer_files_applied_together_reject_it_too(world: World) -> None:
    header = CUSTOMERS_HEADER.rstrip(b"\n")
    files = [
        world.land("customers", "csv", trailing([header, b"u1,Nice,25,,,"]) + b"u2,Metz,26,,,,x\n", PREV),
        world.land("customers", "csv", trailing([header, b"u3,Lyon,27,,,", b"", b"u4,Brest,28,,,"]), DAY),
    ]
    with connect(world.warehouse) as con:
        results = ingest_customer_files(con, world.cfg.customers, "landing", files)
    assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [(2, 1, 1), (2, 2, 0)]
    assert world.q("SELECT file, row_number, field, raw_row FROM rejects") == [
        ("customers_20260130.csv", 2, "columns", "u2,Metz,26,,,,x")
    ]
    assert [c[:3] for c in world.customers(CUSTOMER_COLUMNS)] == [
        ("u1", "Nice", 25.0),
        ("u3", "Lyon", 27.0),
        ("u4", "Brest", 28.0),
    ]


@pytest.mark.parametrize(
    ("header", "column"),
    [(b"order_id,,customer_id,purchased_at,quantity,amount,store", 2), (POS_HEADER.rstrip(b"\n") + b",,", 7)],
)
def test_an_unnamed_column_before_the_last_still_fails_the_file(
    world: World, header: bytes, column: int
) -> None:
    r = world.load_tx("pos", "csv", header + b"\no1,,c1,01/31/2026,1,1.00,S1\n")
    check_failed(world, r, "pos_20260131.csv", (f"column {column} of the header has no name",))
