"""A file without a header (``header: false`` with ``columns``) whose every line ends with the
delimiter (ERP exports: ``o1;c1;...;2;``) loads as the same file without it, as one with a header
does (test_trailing_delimiter.py): its records are read one value wider and a value in that last
column is a rejected row. With no header to say so, its first 100 records (within its first 64 KiB)
do, by their number of values: a plain record whose last value is empty ends with the delimiter too."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.config import CsvDialect
from pipeline.ingest.header import ends_with_delimiter
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import DAY, PREV, World, check_load, check_rejects
from tests.unit.ingest.malformed_tx_dialects import COLUMNS, sales_config

LINES = [
    b"o1,c1,2026-01-31,1.00,1",
    b"",  # a blank line: the numbers after it still count records
    b"o2,c2,2026-01-31,zz,2",  # a bad value (typing)
    b'o3,"c,3",2026-01-31,3.00,3',
    b"o4,c4,2026-01-31,4.00",  # a value too few (the reader)
    b"o5,c5,2026-01-31,5.00,",  # an empty qty: a plain record that ends with the delimiter
    b"o6,c6,2026-01-31,6.00,6",
]
BEYOND = "a value after the delimiter that ends the lines (Expected Number of Columns: 5 Found: 6)"


def trailing(lines: list[bytes], delimiter: bytes = b",") -> bytes:
    """The lines, each but a blank one ended by the delimiter."""
    return b"".join((line + delimiter if line else line) + b"\n" for line in lines)


def plain(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def _world(tmp_path: Path, name: str, **options) -> World:
    return World(tmp_path / name, sales_config(header=False, columns=COLUMNS, **options))


def _outcome(w: World, ext: str, data: bytes) -> tuple:
    r = w.load_tx("sales", ext, data)
    check_load(w, r, r.status, r.rows_read, r.rows_loaded, r.rows_rejected)  # read = loaded + rejected
    rejects = w.q("SELECT row_number, field FROM rejects WHERE load_id = ? ORDER BY 1", [r.load_id])
    return (r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.error), w.partition("sales"), rejects


@pytest.mark.parametrize(("delimiter", "ext"), [(",", "csv"), (";", "csv"), (";", "csv.gz"), ("|", "txt")])
def test_a_headerless_file_ending_every_line_with_the_delimiter_loads_as_without(
    tmp_path: Path, delimiter: str, ext: str
) -> None:
    lines = [line.replace(b",", delimiter.encode()) for line in LINES]
    pack = gzip.compress if ext.endswith(".gz") else bytes
    outcomes = []
    for name, data in (("plain", plain(lines)), ("ends", trailing(lines, delimiter.encode()))):
        w = _world(tmp_path, name, delimiter=delimiter)
        try:
            outcomes.append(_outcome(w, ext, pack(data)))
        finally:
            w.close()
    assert outcomes[0][0] == (LOADED, 6, 4, 2, None)
    assert [r[:3] for r in outcomes[0][1]] == [(1, "o1", "c1"), (3, "o3", "c" + delimiter + "3")] + [
        (5, "o5", "c5"),
        (6, "o6", "c6"),
    ]
    assert outcomes[0][2] == [(2, "amount"), (4, "columns")]
    assert outcomes[1] == outcomes[0]


def test_a_value_after_the_last_delimiter_is_a_rejected_row(tmp_path: Path) -> None:
    w = _world(tmp_path, "w", delimiter=";", skip_rows=1)
    try:
        lines = [line.replace(b",", b";") for line in LINES]
        seven = b"o7;c7;2026-01-31;7.00;7;x\n"
        data = b"ERP export;;\n" + trailing(lines[:2], b";") + seven + trailing(lines[2:], b";")
        r = w.load_tx("sales", "csv", data)
        check_load(w, r, LOADED, 7, 4, 3)
        rows = check_rejects(w, r, {2: ("columns", (BEYOND,)), 3: ("amount", ()), 5: ("columns", ())})
        assert rows[0][3] == "o7;c7;2026-01-31;7.00;7;x"
        assert [x[:2] for x in w.partition("sales")] == [(1, "o1"), (4, "o3"), (6, "o5"), (7, "o6")]
    finally:
        w.close()


@pytest.mark.parametrize(
    ("first", "ends", "expected"),
    [
        # the first record has a value after the last delimiter: the others say the lines end with it
        (b"o0,c0,2026-01-31,9.00,9,x\n", True, {1: ("columns", (BEYOND,))}),
        # a plain file's first record has an empty value too many (a shifted row): it alone is rejected
        (b"o0,c0,,2026-01-31,9.00,9\n", False, {1: ("columns", ("Expected Number of Columns: 5 Found: 6",))}),
    ],
    ids=["value_in_the_last_column", "shifted_row"],
)
def test_the_first_record_alone_does_not_decide(
    tmp_path: Path, first: bytes, ends: bool, expected: dict
) -> None:
    w = _world(tmp_path, "w")
    try:
        rest = [LINES[0], LINES[3], LINES[6]]
        r = w.load_tx("sales", "csv", first + (trailing(rest) if ends else plain(rest)))
        check_load(w, r, LOADED, 4, 3, 1)
        check_rejects(w, r, expected)
        assert [x[:2] for x in w.partition("sales")] == [(2, "o1"), (3, "o3"), (4, "o6")]
    finally:
        w.close()


def test_headerless_files_read_together_load_each_as_without(tmp_path: Path) -> None:
    w = _world(tmp_path, "w")
    try:
        spec = w.cfg.transaction("sales")
        nxt = DAY + dt.timedelta(days=1)
        files = [
            (
                PREV,
                w.land(
                    "sales", "csv", trailing([b"p1,k1,2026-01-30,1.00,1", b"p2,k2,2026-01-30,2.00,"]), PREV
                ),
            ),
            (DAY, w.land("sales", "csv", trailing(LINES[:4]) + b"o7,c7,2026-01-31,7.00,7,x\n", DAY)),
            (
                nxt,
                w.land("sales", "csv", plain([b"n1,m1,2026-02-01,1.00,1", b"n2,m2,2026-02-01,2.00,"]), nxt),
            ),
        ]
        with connect(w.warehouse) as con:
            results = ingest_transactions(con, spec, "landing", files)
        assert [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
            (LOADED, 2, 2, 0),
            (LOADED, 4, 2, 2),
            (LOADED, 2, 2, 0),
        ]
        assert w.q("SELECT partition_date, row_number, field, raw_row FROM rejects ORDER BY 1, 2") == [
            (
                DAY,
                2,
                "amount",
                '{"order_id":"o2","customer_id":"c2","sold_at":"2026-01-31","amount":"zz","qty":"2"}',
            ),
            (DAY, 4, "columns", "o7,c7,2026-01-31,7.00,7,x"),
        ]
        assert w.q("SELECT order_id, qty FROM tx_sales ORDER BY 1") == [
            ("n1", 1),
            ("n2", None),
            ("o1", 1),
            ("o3", 3),
            ("p1", 1),
            ("p2", None),
        ]
    finally:
        w.close()


@pytest.mark.parametrize(
    ("data", "options", "ends"),
    [
        ((b"o1," + b"c" * 2000 + b",2026-01-31,1.00,1,\n") * 50, {}, True),  # 64 KiB end within a record
        (b"o1,c1,2026-01-31,1.00,1,\r\n" * 5000, {}, True),
        (b"o1,c1,2026-01-31,1.00,1\n" * 100 + b"o1,c1,2026-01-31,1.00,1,\n" * 101, {}, False),  # 100 first
        (b"o1,c1,2026-01-31,1.00,1,\no2,c2,2026-01-31,2.00,2\n", {}, False),  # a tie
        (b'o1,"c\n1,",2026-01-31,1.00,1,\n"o2",c2,2026-01-31,2.00,2,\n', {}, True),  # a cell spans lines
        (b"o1;c1;2026-01-31;1.00;1;\n", {}, False),  # another delimiter: one value
        (b"o1;c1;2026-01-31;1.00;1;\n", {"delimiter": ";"}, True),
        (b"o1 c1 2026-01-31 1.00 1 \n", {"delimiter": "whitespace"}, False),
        (b"x,y,z\n" + b"o1,c1,2026-01-31,1.00,1,\n", {"skip_rows": 1}, True),
    ],
    ids=["long", "crlf", "first_100", "tie", "multiline_cell", "other_delimiter", "semicolon", "whitespace"]
    + ["skip_rows"],
)
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_ends_with_delimiter(tmp_path: Path, data: bytes, options: dict, ends: bool, gz: bool) -> None:
    path = tmp_path / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    dialect = CsvDialect(header=False, columns=COLUMNS, **options)
    assert ends_with_delimiter(path, "utf-8", dialect) is ends
