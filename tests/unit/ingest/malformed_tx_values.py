"""Malformed values in transaction files that load (with rejects): dates in the wrong format, text
in numbers, bad bools, missing customer ids and required fields, times outside the partition
day, typed values."""

from __future__ import annotations

from decimal import Decimal

from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import (
    DAY,
    EVENTS_HEADER,
    POS_HEADER,
    WEB_CSV_HEADER,
    TxCase,
    epoch,
    jl,
    ts,
)

VALUE_CASES = [
    # ---- dates in the wrong format --------------------------------------------------------
    TxCase(
        "csv_date_in_wrong_format",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,2026-01-31,2,3.50,S1\no2,c2,31/01/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        1,
        2,
        rejects={
            1: ("purchased_at", ("'2026-01-31'", "mm/dd/yyyy")),
            2: ("purchased_at", ("'31/01/2026'", "mm/dd/yyyy")),
        },
        rows=[(3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_timestamp_in_wrong_format",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "yesterday"},
            {"session_id": "s2", "customer_id": "c2", "started_at": "31/01/2026 10:00"},
            {"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31T12:00:00Z"},
        ),
        LOADED,
        3,
        1,
        2,
        rejects={
            1: ("started_at", ("'yesterday'", "ISO 8601")),
            2: ("started_at", ("'31/01/2026 10:00'", "ISO 8601")),
        },
        rows=[(3, "s3", "c3", ts(2026, 1, 31, 12), None, None, None, None)],
    ),
    # ---- text in a number, bad bools ------------------------------------------------------
    TxCase(
        "csv_text_in_number",
        "pos",
        "csv",
        POS_HEADER
        + b'o1,c1,01/31/2026,abc,3.50,S1\no2,c2,01/31/2026,1,"1,5",S2\no3,c3,01/31/2026,two,x9,S3\n'
        b"o4,c4,01/31/2026,4,4,S4\n",
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("quantity", ("'abc'", "Int")),
            2: ("amount", ("'1,5'", "Decimal")),
            3: ("quantity", ("'two'", "amount", "'x9'")),
        },
        rows=[(4, "o4", "c4", DAY, 4, Decimal("4"), "S4")],
    ),
    TxCase(
        "jsonl_text_in_number_and_bad_bool",
        "web",
        "jsonl",
        jl(
            {
                "session_id": "s1",
                "customer_id": "c1",
                "started_at": "2026-01-31T10:00:00Z",
                "page_views": "many",
            },
            {
                "session_id": "s2",
                "customer_id": "c2",
                "started_at": "2026-01-31T10:00:00Z",
                "revenue": "12,5",
            },
            {
                "session_id": "s3",
                "customer_id": "c3",
                "started_at": "2026-01-31T10:00:00Z",
                "purchased": "maybe",
            },
            {"session_id": "s4", "customer_id": "c4", "started_at": "2026-01-31T10:00:00Z", "page_views": 4},
        ),
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("page_views", ("'many'", "Int")),
            2: ("revenue", ("'12,5'", "Decimal")),
            3: ("purchased", ("'maybe'", "Bool")),
        },
        rows=[(4, "s4", "c4", ts(2026, 1, 31, 10), 4, None, None, None)],
    ),
    TxCase(
        "csv_int_with_a_fraction",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,5.5,3.50,S1\no2,c2,01/31/2026,2,1,S2\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("quantity", ("'5.5'", "Int"))},
        rows=[(2, "o2", "c2", DAY, 2, Decimal("1"), "S2")],
    ),
    TxCase(
        "csv_number_out_of_range",
        "pos",
        "csv",
        POS_HEADER
        + b"o1,c1,01/31/2026,99999999999999999999,1,S1\no2,c2,01/31/2026,1,12345678901234567.5,S2\n",
        LOADED,
        2,
        0,
        2,
        rejects={1: ("quantity", ("'99999999999999999999'",)), 2: ("amount", ("'12345678901234567.5'",))},
    ),
    # ---- missing customer id / required fields -------------------------------------------
    TxCase(
        "csv_missing_customer_id",
        "pos",
        "csv",
        POS_HEADER + b'o1,,01/31/2026,2,3.50,S1\no2,   ,01/31/2026,1,1,S2\no3,"",01/31/2026,1,1,S3\n'
        b",c4,01/31/2026,1,1,S4\no5,c5,01/31/2026,5,5,S5\n",
        LOADED,
        5,
        1,
        4,
        rejects={
            1: ("customer_id", ("missing",)),
            2: ("customer_id", ("missing",)),
            3: ("customer_id", ("missing",)),
            4: ("order_id", ("missing",)),
        },
        rows=[(5, "o5", "c5", DAY, 5, Decimal("5"), "S5")],
    ),
    TxCase(
        "jsonl_missing_customer_id",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "started_at": "2026-01-31T10:00:00Z"},
            {"session_id": "s2", "customer_id": None, "started_at": "2026-01-31T10:00:00Z"},
            {"session_id": "s3", "customer_id": "  ", "started_at": "2026-01-31T10:00:00Z"},
            {"session_id": "s4", "customer_id": "c4", "started_at": "2026-01-31T10:00:00Z"},
        ),
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("customer_id", ("missing",)),
            2: ("customer_id", ("missing",)),
            3: ("customer_id", ("missing",)),
        },
        rows=[(4, "s4", "c4", ts(2026, 1, 31, 10), None, None, None, None)],
    ),
    # ---- time field outside the partition day --------------------------------------------
    TxCase(
        "csv_date_outside_partition_day",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/30/2026,2,3.50,S1\no2,c2,02/01/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        1,
        2,
        rejects={
            1: ("purchased_at", ("2026-01-30", "outside the partition 2026-01-31")),
            2: ("purchased_at", ("2026-02-01", "outside the partition 2026-01-31")),
        },
        rows=[(3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_iso_offset_converted_to_utc",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00+02:00"},
            {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T01:30:00+02:00"},
            {"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31T23:30:00-01:00"},
            {"session_id": "s4", "customer_id": "c4", "started_at": "2026-01-31T23:59:59Z"},
            {"session_id": "s5", "customer_id": "c5", "started_at": "2026-01-31 00:00:00"},
        ),
        LOADED,
        5,
        3,
        2,
        rejects={
            2: ("started_at", ("2026-01-30 23:30:00", "outside the partition 2026-01-31")),
            3: ("started_at", ("2026-02-01 00:30:00", "outside the partition 2026-01-31")),
        },
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 8), None, None, None, None),
            (4, "s4", "c4", ts(2026, 1, 31, 23, 59, 59), None, None, None, None),
            (5, "s5", "c5", ts(2026, 1, 31, 0), None, None, None, None),
        ],
    ),
    TxCase(
        "csv_iso_offset_converted_to_utc",
        "web",
        "csv",
        WEB_CSV_HEADER + b"s1,c1,2026-01-31T10:00:00+02:00,,,,\ns2,c2,2026-01-31 01:00:00+02:00,,,,\n",
        LOADED,
        2,
        1,
        1,
        rejects={2: ("started_at", ("2026-01-30 23:00:00", "outside the partition"))},
        rows=[(1, "s1", "c1", ts(2026, 1, 31, 8), None, None, None, None)],
    ),
    # ---- typed values ----------------------------------------------------------------------
    TxCase(
        "csv_int_decimal_parsing",
        "pos",
        "csv",
        POS_HEADER
        + b"o1,c1,01/31/2026, 7 ,12.345,S1\no2,c2,1/31/2026,-3,-0.5,S2\no3,c3,01/31/2026,+4,  100  ,S3\n"
        b"o4,c4,01/31/2026,,,\n",
        LOADED,
        4,
        4,
        0,
        rows=[
            (1, "o1", "c1", DAY, 7, Decimal("12.345"), "S1"),
            (2, "o2", "c2", DAY, -3, Decimal("-0.5"), "S2"),
            (3, "o3", "c3", DAY, 4, Decimal("100"), "S3"),
            (4, "o4", "c4", DAY, None, None, None),
        ],
    ),
    TxCase(
        "jsonl_int_decimal_bool_parsing",
        "web",
        "jsonl",
        jl(
            *[
                {
                    "session_id": f"s{i}",
                    "customer_id": f"c{i}",
                    "started_at": "2026-01-31T10:00:00Z",
                    "page_views": pv,
                    "purchased": b,
                    "revenue": rev,
                    "channel": ch,
                }
                for i, (pv, b, rev, ch) in enumerate(
                    [
                        (3, True, 12.5, "a"),
                        ("4", "yes", "0.0001", "b"),
                        (0, "N", -1, " c "),
                        (None, "0", None, None),
                        (5, "TRUE", "99.99", "e"),
                        (6, "f", "1", "f"),
                        (7, 1, 2, "g"),
                    ],
                    start=1,
                )
            ]
        ),
        LOADED,
        7,
        7,
        0,
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), 3, True, Decimal("12.5"), "a"),
            (2, "s2", "c2", ts(2026, 1, 31, 10), 4, True, Decimal("0.0001"), "b"),
            (3, "s3", "c3", ts(2026, 1, 31, 10), 0, False, Decimal("-1"), "c"),
            (4, "s4", "c4", ts(2026, 1, 31, 10), None, False, None, None),
            (5, "s5", "c5", ts(2026, 1, 31, 10), 5, True, Decimal("99.99"), "e"),
            (6, "s6", "c6", ts(2026, 1, 31, 10), 6, False, Decimal("1"), "f"),
            (7, "s7", "c7", ts(2026, 1, 31, 10), 7, True, Decimal("2"), "g"),
        ],
    ),
    TxCase(
        "csv_unix_epoch_timestamps",
        "events",
        "csv",
        EVENTS_HEADER
        + b"c1,sent,%d,%d,2026/01/31\n" % (epoch(2026, 1, 31, 10), epoch(2026, 1, 31, 10) * 1000 + 123)
        + b"c2,sent,soon,,\n"
        + b"c3,sent,%d,,\n" % (epoch(2026, 1, 31) - 1)
        + b"c4,sent,%d,later,\n" % epoch(2026, 1, 31)
        + b"c5,sent,%d,,31.01.2026\n" % epoch(2026, 1, 31, 23, 59, 59)
        + b"c6,opened,%d,,\n" % (epoch(2026, 1, 31, 23, 59, 59) + 1),
        LOADED,
        6,
        1,
        5,
        rejects={
            2: ("occurred_at", ("'soon'", "unix")),
            3: ("occurred_at", ("2026-01-30 23:59:59", "outside the partition 2026-01-31")),
            4: ("opened_at", ("'later'", "unix_ms")),
            5: ("sent_on", ("'31.01.2026'", "yyyy/mm/dd")),
            6: ("occurred_at", ("2026-02-01 00:00:00", "outside the partition 2026-01-31")),
        },
        rows=[(1, "c1", "sent", ts(2026, 1, 31, 10), ts(2026, 1, 31, 10, 0, 0, 123000), DAY)],
    ),
    TxCase(
        "jsonl_unix_epoch_timestamps",
        "events",
        "jsonl",
        jl(
            {
                "customer_id": "c1",
                "event": "sent",
                "occurred_at": epoch(2026, 1, 31, 10),
                "opened_at": epoch(2026, 1, 31, 11) * 1000,
            },
            {"customer_id": "c2", "event": "sent", "occurred_at": str(epoch(2026, 1, 31))},
            {"customer_id": "c3", "event": "sent", "occurred_at": "2026-01-31T10:00:00Z"},
        ),
        LOADED,
        3,
        2,
        1,
        rejects={3: ("occurred_at", ("'2026-01-31T10:00:00Z'", "unix"))},
        rows=[
            (1, "c1", "sent", ts(2026, 1, 31, 10), ts(2026, 1, 31, 11), None),
            (2, "c2", "sent", ts(2026, 1, 31, 0), None, None),
        ],
    ),
]
