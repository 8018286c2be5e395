"""Dialect cases of the malformed corpus: files in another delimited dialect than a comma CSV with
a header. Each good case gives the options that read it and the file, which breaks when the
options are left out (a FAILED load naming the option, or rejected rows); the malformed cases
end in rejected rows or a clear error."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.ingest.write import FAILED, LOADED
from tests.unit.ingest.malformed_corpus import CONFIG, DAY, Expected

SALES_FIELDS = [
    {"name": "order_id", "type": "String", "required": True},
    {"name": "customer_id", "type": "String"},
    {"name": "sold_at", "type": "Date"},
    {"name": "amount", "type": "Decimal"},
    {"name": "qty", "type": "Int"},
]
COLUMNS = [f["name"] for f in SALES_FIELDS]


def sales_config(**options) -> dict:
    """The corpus's project with one dataset `sales` read in the dialect of ``options``."""
    tx = {
        "name": "sales",
        "source": "landing",
        "file_name": "sales",
        "customer_field": "customer_id",
        "time_field": "sold_at",
        "fields": SALES_FIELDS,
        **options,
    }
    return {**CONFIG, "customers": None, "transactions": [tx]}


@dataclass
class DialectCase:
    id: str
    options: dict
    data: bytes
    status: str
    read: int
    loaded: int
    rejected: int
    rows: list[tuple] = field(default_factory=list)
    rejects: Expected = field(default_factory=dict)
    # what the default dialect makes of the file: a FAILED load's words, or the rows rejected
    ignored_words: tuple[str, ...] = ()
    ignored_rejected: int = 0
    ext: str = "csv"
    failed_words: tuple[str, ...] = ()  # what the FAILED load's message says


def row(n: int, order: str, customer: str | None, amount: str | None, qty: int | None) -> tuple:
    return (n, order, customer, DAY, Decimal(amount) if amount is not None else None, qty)


DIALECT_CASES = [
    DialectCase(
        "semicolon",
        {"delimiter": ";"},
        b"order_id;customer_id;sold_at;amount;qty\no1;c1;2026-01-31;3.50;2\n",
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        ignored_words=("1 column found where 5 were declared", "is the delimiter ';'?"),
    ),
    DialectCase(
        "tab_escaped",
        {"delimiter": "\\t"},
        b"order_id\tcustomer_id\tsold_at\tamount\tqty\no1\tc 1\t2026-01-31\t3.50\t2\n",
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", "c 1", "3.5", 2)],
        ignored_words=("is the delimiter '\\t'?",),
    ),
    DialectCase(
        "whitespace_crlf",
        {"delimiter": "whitespace"},
        b"order_id  customer_id\tsold_at amount   qty\r\n  o1   c1 2026-01-31 3.50 2\r\n\r\n"
        b"o2\t\tc2  2026-01-31  10 1 \r\n",
        LOADED,
        2,
        2,
        0,
        rows=[row(1, "o1", "c1", "3.5", 2), row(2, "o2", "c2", "10", 1)],
        ignored_words=("is the delimiter 'whitespace'?",),
    ),
    DialectCase(
        "single_quote",
        {"quote": "'"},
        b"order_id,customer_id,sold_at,amount,qty\no1,'Smith, J',2026-01-31,3.50,2\n",
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", "Smith, J", "3.5", 2)],
        ignored_rejected=1,  # 6 values where 5 were declared
    ),
    DialectCase(
        "backslash_escape",
        {"escape": "\\"},
        b'order_id,customer_id,sold_at,amount,qty\no1,"say \\"hi\\", J",2026-01-31,3.50,2\n',
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", 'say "hi", J', "3.5", 2)],
        ignored_rejected=1,
    ),
    DialectCase(
        "no_header",
        {"header": False, "columns": ["order_id", "customer_id", "sold_at", "amount", "qty"]},
        b"o1,c1,2026-01-31,3.50,2\no2,c2,2026-01-31,1,1\n",
        LOADED,
        2,
        2,
        0,
        rows=[row(1, "o1", "c1", "3.5", 2), row(2, "o2", "c2", "1", 1)],
        ignored_words=("set `header: false` and `columns: [...]`",),
    ),
    DialectCase(
        "no_header_other_order",
        {"header": False, "columns": ["customer_id", "order_id", "qty", "amount", "sold_at"]},
        b"c1,o1,2,3.50,2026-01-31\n",
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        ignored_words=("header: false",),
    ),
    DialectCase(
        "skip_rows",
        {"skip_rows": 2},
        b"Sales export\ngenerated 2026-02-01, all stores\norder_id,customer_id,sold_at,amount,qty\n"
        b"o1,c1,2026-01-31,3.50,2\no2,c2,2026-01-31,x,1\n",
        LOADED,
        2,
        1,
        1,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        rejects={2: ("amount", ("'x'", "Decimal"))},
        ignored_words=("header: false",),
    ),
    DialectCase(
        "null_values",
        {"null_values": ["NA", "-"]},
        b"order_id,customer_id,sold_at,amount,qty\no1,c1,2026-01-31,NA,-\no2,c2,2026-01-31, - ,1\n",
        LOADED,
        2,
        2,
        0,
        rows=[row(1, "o1", "c1", None, None), row(2, "o2", "c2", None, 1)],
        ignored_rejected=2,
    ),
    DialectCase(
        "decimal_comma",
        {"decimal_separator": ","},
        b'order_id,customer_id,sold_at,amount,qty\no1,c1,2026-01-31,"3,50",2\no2,c2,2026-01-31,"1.234,50",1\n',
        LOADED,
        2,
        1,
        1,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        rejects={2: ("amount", ("'1.234,50'", "',' as its decimal separator"))},
        ignored_rejected=2,
    ),
    # `1.234` is 1234 to a European writer: a `.` in a number does not fit the `,` separator
    DialectCase(
        "decimal_comma_point_rejected",
        {"decimal_separator": ","},
        b'order_id,customer_id,sold_at,amount,qty\no1,c1,2026-01-31,"3,50",2\no2,c2,2026-01-31,1.234,1\n',
        LOADED,
        2,
        1,
        1,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        rejects={2: ("amount", ("'1.234'", "',' as its decimal separator"))},
        ignored_rejected=1,
    ),
    # the separator is of delimited files: JSON numbers are written with `.`
    DialectCase(
        "decimal_comma_jsonl",
        {"decimal_separator": ","},
        b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "amount": 1.5, "qty": 2}\n',
        LOADED,
        1,
        1,
        0,
        rows=[row(1, "o1", "c1", "1.5", 2)],
        ext="jsonl",
    ),
    # the acceptance case: no header, `;` between values, `,` before the decimals
    DialectCase(
        "european_no_header",
        {
            "header": False,
            "columns": ["order_id", "customer_id", "sold_at", "amount", "qty"],
            "delimiter": ";",
            "decimal_separator": ",",
        },
        b"o1;c1;2026-01-31;3,5;2\r\no2;c2;2026-01-31;0,0001;1\r\n",
        LOADED,
        2,
        2,
        0,
        rows=[row(1, "o1", "c1", "3.5", 2), row(2, "o2", "c2", "0.0001", 1)],
        ignored_words=("header: false",),
    ),
    # malformed in the dialect: rejected rows
    DialectCase(
        "whitespace_wrong_count",
        {"delimiter": "whitespace"},
        b"order_id customer_id sold_at amount qty\no1 c1 2026-01-31 3.50 2\no2 Jane Doe 2026-01-31 1 1\n"
        b"o3 c3 2026-01-31 1\n",
        LOADED,
        3,
        1,
        2,
        rows=[row(1, "o1", "c1", "3.5", 2)],
        rejects={2: ("columns", ("6 values found where 5",)), 3: ("columns", ("4 values",))},
        ignored_words=("delimiter",),
    ),
    DialectCase(
        "no_header_too_many_values",
        {"header": False, "columns": ["order_id", "customer_id", "sold_at", "amount", "qty"]},
        b"o1,c1,2026-01-31,3.50,2\no2,c2,2026-01-31,1,1,extra\n\no3,c3,2026-01-31,1,1\n",
        LOADED,
        3,
        2,
        1,
        rows=[row(1, "o1", "c1", "3.5", 2), row(3, "o3", "c3", "1", 1)],
        rejects={2: ("columns", ())},
        ignored_words=("header: false",),
    ),
    DialectCase(
        "null_value_in_required",
        {"null_values": ["NA"]},
        b"order_id,customer_id,sold_at,amount,qty\nNA,c1,2026-01-31,1,1\no2,c2,NA,1,1\n",
        LOADED,
        2,
        0,
        2,
        rejects={1: ("order_id", ("missing (required)",)), 2: ("sold_at", ("missing (required)",))},
        ignored_rejected=1,
    ),
    DialectCase(
        "skip_rows_past_the_end",
        {"skip_rows": 5},
        b"order_id,customer_id,sold_at,amount,qty\no1,c1,2026-01-31,1,1\n",
        FAILED,
        0,
        0,
        0,
        ignored_words=(),
    ),
    # new_columns on JSON lines: malformed lines are rejected rows whatever the new keys; a new key
    # that takes a name Nightjar keeps, or differs from a field only in letter case, fails the load
    DialectCase(
        "jsonl_evolve_malformed_lines",
        {"new_columns": "evolve"},
        b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "amount": 1, "qty": 1, '
        b'"note": "n"}\n'
        b'{"order_id": "o2", "note": \n'
        b'["o3", "c3"]\n'
        b'{"order_id": "o4", "customer_id": "c4", "sold_at": "2026-01-31", "qty": {"n": 1}, '
        b'"note": {"a": 1}}\n',
        LOADED,
        4,
        1,
        3,
        rows=[row(1, "o1", "c1", "1", 1)],
        rejects={
            2: ("json", ("not valid JSON",)),
            3: ("json", ("not a JSON object",)),
            4: ("qty", ("a JSON object or array is not a single value",)),
        },
        ext="jsonl",
    ),
    DialectCase(
        "jsonl_evolve_reserved_key",
        {"new_columns": "evolve"},
        b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "_load_id": 7}\n',
        FAILED,
        0,
        0,
        0,
        failed_words=("_load_id", "Nightjar"),
        ext="jsonl",
    ),
    DialectCase(
        "jsonl_discard_key_differing_in_case",
        {"new_columns": "discard"},
        b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "QTY": 7}\n',
        FAILED,
        0,
        0,
        0,
        failed_words=("['QTY', 'qty']", "more than once"),
        ext="jsonl",
    ),
    DialectCase(
        "jsonl_freeze_new_key",
        {"new_columns": "freeze"},
        b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "coupon": "X"}\n',
        FAILED,
        0,
        0,
        0,
        failed_words=("['coupon']", "new_columns: evolve"),
        ext="jsonl",
    ),
]
