"""Malformed inputs through the one ingestion path (pipeline/ingest.py).

Every case lands a file in a local_files folder, loads it into a fresh DuckDB warehouse and
asserts the exact outcome: status, rows_read / rows_loaded / rows_rejected (and the invariant
rows_read == rows_loaded + rows_rejected), the reject row numbers, fields and reasons (naming the
field and the value), the typed values that were loaded, and the `loads` row. A file that cannot
be loaded must give a FAILED load that leaves the partition (or the `customers` table) and its
rejects exactly as they were before.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.ingest.config import CustomersSpec
from pipeline.ingest.customers import files_to_apply, ingest_customers
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.sources.local_files import find_file, list_files
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.write import FAILED, LOADED, PROCESSED, LoadResult

DAY = dt.date(2026, 1, 31)
PREV = DAY - dt.timedelta(days=1)
UTC = dt.UTC


def ts(*args) -> dt.datetime:
    """A naive UTC datetime, as DuckDB TIMESTAMP columns come back."""
    return dt.datetime(*args)


def epoch(*args) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp())


# --------------------------------------------------------------------------------------------
# the project under test: one config, one folder, one warehouse per test
# --------------------------------------------------------------------------------------------

POS_FIELDS = [
    {"name": "order_id", "type": "String", "required": True},
    {"name": "customer_id", "type": "String"},
    {"name": "purchased_at", "type": "Date", "format": "mm/dd/yyyy"},
    {"name": "quantity", "type": "Int"},
    {"name": "amount", "type": "Decimal"},
    {"name": "store", "type": "String"},
]
WEB_FIELDS = [
    {"name": "session_id", "type": "String", "required": True},
    {"name": "customer_id", "type": "String"},
    {"name": "started_at", "type": "Timestamp"},  # ISO 8601, offsets converted to UTC
    {"name": "page_views", "type": "Int"},
    {"name": "purchased", "type": "Bool"},
    {"name": "revenue", "type": "Decimal"},
    {"name": "channel", "type": "String"},
]
EVENT_FIELDS = [
    {"name": "customer_id", "type": "String"},
    {"name": "event", "type": "String", "required": True},
    {"name": "occurred_at", "type": "Timestamp", "format": "unix"},
    {"name": "opened_at", "type": "Timestamp", "format": "unix_ms"},
    {"name": "sent_on", "type": "Date", "format": "yyyy/mm/dd"},
]


def _tx(name: str, fields: list, time_field: str, encoding: str = "utf-8") -> dict:
    return {
        "name": name,
        "source": "landing",
        "file_name": name,
        "customer_field": "customer_id",
        "time_field": time_field,
        "encoding": encoding,
        "fields": fields,
    }


CONFIG = {
    "start_date": "2026-01-01",
    "warehouse": "warehouse.duckdb",
    "sources": [{"name": "landing", "kind": "local_files", "folder": "files", "date_format": "%Y%m%d"}],
    "customers": {"source": "landing", "file_name": "customers", "mode": "update"},
    "transactions": [
        _tx("pos", POS_FIELDS, "purchased_at"),
        _tx("pos_latin", POS_FIELDS, "purchased_at", encoding="latin-1"),
        _tx("web", WEB_FIELDS, "started_at"),
        _tx("web_latin", WEB_FIELDS, "started_at", encoding="latin-1"),
        _tx("events", EVENT_FIELDS, "occurred_at"),
    ],
}

# The columns compared after a load, per dataset (after _row_number).
PROJECTION = {
    "pos": "order_id, customer_id, purchased_at, quantity, amount, store",
    "pos_latin": "order_id, customer_id, purchased_at, quantity, amount, store",
    "web": "session_id, customer_id, started_at, page_views, purchased, revenue, channel",
    "web_latin": "session_id, customer_id, started_at, page_views, purchased, revenue, channel",
    "events": "customer_id, event, occurred_at, opened_at, sent_on",
}
CUSTOMER_COLUMNS = "customuid, txt_city, num_age, attr_interests, goal_newsletter, goal_newsletter_timestamp"

POS_HEADER = b"order_id,customer_id,purchased_at,quantity,amount,store\n"
WEB_CSV_HEADER = b"session_id,customer_id,started_at,page_views,purchased,revenue,channel\n"
EVENTS_HEADER = b"customer_id,event,occurred_at,opened_at,sent_on\n"
CUSTOMERS_HEADER = b"customuid,txt_city,num_age,attr_interests,goal_newsletter,goal_newsletter_timestamp\n"


class World:
    """A project folder with the config above, its landing folder and its warehouse."""

    def __init__(self, root: Path):
        self.cfg = parse_config(CONFIG, "test.yaml", root)
        self.folder = self.cfg.resolve(self.cfg.source("landing").folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.warehouse = self.cfg.warehouse_path
        # Loads open their own short-lived connection (as the assets do); the checks share one.
        self._checks = connect(self.warehouse)
        self.con = self._checks.__enter__()

    def close(self) -> None:
        self._checks.__exit__(None, None, None)

    def land(self, file_name: str, ext: str, data: bytes | str, day: dt.date) -> LandedFile:
        """Put the file of ``file_name`` for ``day`` in the folder (replacing any other one)."""
        stem = f"{file_name}_{day:%Y%m%d}"
        for old in self.folder.glob(f"{stem}.*"):
            old.unlink()
        path = self.folder / f"{stem}.{ext}"
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        found = find_file(self.folder, file_name, day, "%Y%m%d")
        assert found is not None and found.path == path
        return found

    def load_tx(self, dataset: str, ext: str, data: bytes | str, day: dt.date = DAY) -> LoadResult:
        spec = self.cfg.transaction(dataset)
        f = self.land(spec.file_name, ext, data, day)
        with connect(self.warehouse) as con:
            return ingest_transaction(con, spec, "landing", f, day)

    def load_customers(
        self,
        ext: str,
        data: bytes | str,
        day: dt.date = DAY,
        mode: str | None = None,
        spec: CustomersSpec | None = None,
    ) -> LoadResult:
        spec = spec or self.cfg.customers
        f = self.land(spec.file_name, ext, data, day)
        with connect(self.warehouse) as con:
            return ingest_customers(con, spec, "landing", f, mode)

    def q(self, query: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    def has_table(self, table: str) -> bool:
        return bool(
            self.q("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])[0][0]
        )

    def partition(self, dataset: str, day: dt.date = DAY) -> list[tuple]:
        table = self.cfg.transaction(dataset).table
        if not self.has_table(table):
            return []
        return self.q(
            f"SELECT _row_number, {PROJECTION[dataset]} FROM {table} WHERE _partition_date = ? ORDER BY _row_number",
            [day],
        )

    def partition_rejects(self, dataset: str, day: dt.date = DAY) -> list[tuple]:
        return self.q(
            "SELECT * FROM rejects WHERE dataset = ? AND partition_date = ? ORDER BY row_number",
            [dataset, day],
        )

    def customers(self, columns: str = CUSTOMER_COLUMNS) -> list[tuple]:
        if not self.has_table("customers"):
            return []
        return self.q(f"SELECT {columns} FROM customers ORDER BY customuid")

    def customer_snapshot(self) -> list[tuple]:
        return self.q("SELECT * FROM customers ORDER BY customuid") if self.has_table("customers") else []


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


# --------------------------------------------------------------------------------------------
# assertions shared by every case
# --------------------------------------------------------------------------------------------


def check_load(w: World, r: LoadResult, status: str, read: int, loaded: int, rejected: int) -> None:
    """The result and its `loads` row say exactly this."""
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == (status, read, loaded, rejected), (
        r.error
    )
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    if status != FAILED:
        assert r.error is None
    assert r.load_id is not None
    row = w.q(
        "SELECT dataset, file, partition_date, status, rows_read, rows_loaded, rows_rejected, error "
        "FROM loads WHERE load_id = ?",
        [r.load_id],
    )
    assert row == [(r.dataset, r.file, r.partition_date, status, read, loaded, rejected, r.error)]


Expected = dict[int, tuple[str, tuple[str, ...]]]  # row_number -> (field, words the reason must contain)


def check_rejects(w: World, r: LoadResult, expected: Expected) -> list[tuple]:
    """The rejects of this load are exactly the expected rows, each with its field named first."""
    rows = w.q(
        "SELECT row_number, field, reason, raw_row FROM rejects WHERE load_id = ? ORDER BY row_number",
        [r.load_id],
    )
    assert [x[0] for x in rows] == sorted(expected), rows
    for row_number, fld, reason, _ in rows:
        want_field, words = expected[row_number]
        assert fld == want_field, (row_number, reason)
        assert reason.startswith(f"{want_field}:"), (row_number, reason)
        for word in words:
            assert word in reason, (row_number, word, reason)
    assert r.rejects_by_field == dict(Counter(f for f, _ in expected.values()))
    return rows


def check_failed(w: World, r: LoadResult, file_name: str, words: tuple[str, ...]) -> None:
    """A FAILED load: no counts, a clear error naming the file, a `loads` row, no rejects."""
    check_load(w, r, FAILED, 0, 0, 0)
    assert r.error and r.error.startswith(f"{file_name}:"), r.error
    for word in words:
        assert word.lower() in r.error.lower(), (word, r.error)
    assert w.q("SELECT count(*) FROM rejects WHERE load_id = ?", [r.load_id]) == [(0,)]


# --------------------------------------------------------------------------------------------
# transactions: files that load (LOADED / PROCESSED), with the partition replaced
# --------------------------------------------------------------------------------------------

# A good file for each dataset (2 rows read, 1 loaded, 1 rejected), loaded first for DAY so
# that every case also shows that the partition and its rejects are replaced (or, for a
# FAILED load, kept).
PREVIOUS = {
    "pos": ("csv", POS_HEADER + b"p1,k1,01/31/2026,1,1.00,OLD\np2,k2,01/31/2026,zz,1,OLD\n"),
    "web": (
        "jsonl",
        b'{"session_id": "p1", "customer_id": "k1", "started_at": "2026-01-31T09:00:00Z", "channel": "OLD"}\n'
        b'{"session_id": "p2", "started_at": "2026-01-31T09:00:00Z"}\n',
    ),
    "events": ("csv", EVENTS_HEADER + b"k1,old,%d,,\nk2,old,soon,,\n" % epoch(2026, 1, 31, 9)),
}
PREVIOUS["pos_latin"] = PREVIOUS["pos"]
PREVIOUS["web_latin"] = PREVIOUS["web"]
PREVIOUS_ROWS = {
    "pos": [(1, "p1", "k1", DAY, 1, Decimal("1"), "OLD")],
    "web": [(1, "p1", "k1", ts(2026, 1, 31, 9), None, None, None, "OLD")],
    "events": [(1, "k1", "old", ts(2026, 1, 31, 9), None, None)],
}
PREVIOUS_ROWS["pos_latin"] = PREVIOUS_ROWS["pos"]
PREVIOUS_ROWS["web_latin"] = PREVIOUS_ROWS["web"]


def load_previous(w: World, dataset: str) -> LoadResult:
    ext, data = PREVIOUS[dataset]
    r = w.load_tx(dataset, ext, data)
    check_load(w, r, LOADED, 2, 1, 1)
    assert w.partition(dataset) == PREVIOUS_ROWS[dataset]
    return r


@dataclass
class TxCase:
    id: str
    dataset: str
    ext: str
    data: bytes
    status: str
    read: int
    loaded: int
    rejected: int
    rejects: Expected = field(default_factory=dict)
    rows: list[tuple] = field(default_factory=list)  # (_row_number, *PROJECTION[dataset]) of the partition


def jl(*objects) -> bytes:
    """JSON lines: dicts are dumped, bytes/str are taken as the raw line."""
    out = []
    for o in objects:
        out.append(
            o if isinstance(o, bytes) else o.encode("utf-8") if isinstance(o, str) else json.dumps(o).encode()
        )
    return b"\n".join(out) + b"\n"


def _pos_rows(n: int) -> bytes:
    return b"".join(b"o%d,c%d,01/31/2026,1,1.00,S\n" % (i, i) for i in range(1, n + 1))


_MANY = 400  # > 8 KB of rows before the bad one

# The same Latin-1 bytes, read by a utf-8 dataset (row 1 rejected: encoding) and a latin-1 one.
LATIN1_POS = POS_HEADER + b"o1,Ren\xe9,01/31/2026,2,3.50,Caf\xe9 Cr\xe8me\no2,c2,01/31/2026,1,10,S2\n"
LATIN1_WEB = (
    b'{"session_id": "s1", "customer_id": "Ren\xe9", "started_at": "2026-01-31T10:00:00Z", "channel": "caf\xe9"}\n'
    b'{"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z"}\n'
)
LATIN1_CUSTOMERS = CUSTOMERS_HEADER + b"u1,Caf\xe9,25,cr\xe8me,,\nu2,Metz,26,,,\n"

TX_CASES = [
    # ---- empty / header only --------------------------------------------------------------
    TxCase("csv_header_only", "pos", "csv", POS_HEADER, PROCESSED, 0, 0, 0),
    TxCase("csv_header_only_no_final_newline", "pos", "csv", POS_HEADER.rstrip(b"\n"), PROCESSED, 0, 0, 0),
    TxCase("jsonl_blank_lines_only", "web", "jsonl", b"\n  \n\n", PROCESSED, 0, 0, 0),
    # ---- BOM, CRLF ------------------------------------------------------------------------
    TxCase(
        "csv_utf8_bom",
        "pos",
        "csv",
        b"\xef\xbb\xbf" + POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        2,
        0,
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "jsonl_utf8_bom",
        "web",
        "jsonl",
        b"\xef\xbb\xbf"
        + jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z"},
            {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z"},
        ),
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
    TxCase(
        "csv_crlf_line_ends",
        "pos",
        "csv",
        (
            POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,abc,1,S2\no3,c3,01/31/2026,3,4,S3\n"
        ).replace(b"\n", b"\r\n"),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("quantity", ("'abc'", "Int"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_crlf_line_ends",
        "web",
        "jsonl",
        jl(
            {
                "session_id": "s1",
                "customer_id": "c1",
                "started_at": "2026-01-31T10:00:00Z",
                "channel": "email",
            },
            {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z", "channel": "seo"},
        ).replace(b"\n", b"\r\n"),
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, "email"),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, "seo"),
        ],
    ),
    # ---- encodings ------------------------------------------------------------------------
    TxCase(
        "csv_latin1_bytes_in_utf8_dataset",
        "pos",
        "csv",
        LATIN1_POS,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "csv_latin1_bytes_in_utf8_dataset_after_first_8kb",
        "pos",
        "csv",
        POS_HEADER + _pos_rows(_MANY) + b"o0,Ren\xe9,01/31/2026,2,3.50,S1\nz,c,01/31/2026,1,1,S\n",
        LOADED,
        _MANY + 2,
        _MANY + 1,
        1,
        rejects={_MANY + 1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(i, f"o{i}", f"c{i}", DAY, 1, Decimal("1"), "S") for i in range(1, _MANY + 1)]
        + [(_MANY + 2, "z", "c", DAY, 1, Decimal("1"), "S")],
    ),
    TxCase(
        "jsonl_latin1_bytes_in_utf8_dataset",
        "web",
        "jsonl",
        LATIN1_WEB,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None)],
    ),
    TxCase(
        "csv_latin1_file_in_latin1_dataset",
        "pos_latin",
        "csv",
        LATIN1_POS,
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "o1", "René", DAY, 2, Decimal("3.5"), "Café Crème"),
            (2, "o2", "c2", DAY, 1, Decimal("10"), "S2"),
        ],
    ),
    TxCase(
        "jsonl_latin1_file_in_latin1_dataset",
        "web_latin",
        "jsonl",
        LATIN1_WEB,
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "René", ts(2026, 1, 31, 10), None, None, None, "café"),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
    # ---- quoting, column counts -----------------------------------------------------------
    TxCase(
        "csv_quoted_multiline_cell",
        "pos",
        "csv",
        POS_HEADER
        + b'o1,c1,01/31/2026,2,3.50,"Main St\nBuilding 2\n"\n'
        + b'o2,"Doe, Jane",01/31/2026,1,1,"He said ""hi"""\n'
        + b"o3,c3,01/31/2026,1\n"
        + b"o4,c4,01/31/2026,4,4,S4\n",
        LOADED,
        4,
        3,
        1,
        rejects={3: ("columns", ("6", "4"))},
        rows=[
            (1, "o1", "c1", DAY, 2, Decimal("3.5"), "Main St\nBuilding 2\n"),
            (2, "o2", "Doe, Jane", DAY, 1, Decimal("1"), 'He said "hi"'),
            (4, "o4", "c4", DAY, 4, Decimal("4"), "S4"),
        ],
    ),
    TxCase(
        "csv_row_with_too_few_columns",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_row_with_too_many_columns",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1,EXTRA\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("columns", ("6", "7"))},
        rows=[(2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        # trailing empty cells (as spreadsheets export them) carry no data: the row loads
        "csv_row_with_trailing_empty_extra_fields",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1,,\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        2,
        0,
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "csv_blank_line_between_rows",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        # record numbers (the header and blank lines are not records): o2 is record 2, o3 record 3
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    # blank lines with other line ends, compressed, or holding only spaces: still not records
    TxCase(
        "csv_crlf_blank_line_between_rows",
        "pos",
        "csv",
        (POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n").replace(
            b"\n", b"\r\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_gz_blank_lines_between_rows",
        "pos",
        "csv.gz",
        gzip.compress(
            POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_blank_line_after_the_bad_row",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,1\no2,c2,01/31/2026,2,3.50,S2\n\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={1: ("columns", ("6", "4"))},
        rows=[(2, "o2", "c2", DAY, 2, Decimal("3.5"), "S2"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_strings_that_start_like_json",
        "web",
        "jsonl",
        jl(
            {
                "session_id": "{s1",
                "customer_id": "[c1]",
                "started_at": "2026-01-31T10:00:00Z",
                "channel": "{}",
            },
            {
                "session_id": "[s2",
                "customer_id": "c2",
                "started_at": "2026-01-31T11:00:00Z",
                "channel": ["a"],
            },
            b'{"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31T12:00:00Z", "channel": "\\u007bx"}',
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("channel", ("not a single value",))},
        rows=[
            (1, "{s1", "[c1]", ts(2026, 1, 31, 10), None, None, None, "{}"),
            (3, "s3", "c3", ts(2026, 1, 31, 12), None, None, None, "{x"),
        ],
    ),
    TxCase(
        "jsonl_extra_key_ignored",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z", "undeclared": "x"}
        ),
        LOADED,
        1,
        1,
        0,
        rows=[(1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None)],
    ),
    # ---- invalid JSON lines ---------------------------------------------------------------
    TxCase(
        "jsonl_invalid_lines",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z"},
            b"{not json",
            b'{"session_id": "s3", "customer_id": "c3"',
            b"[1, 2]",
            b'"just a string"',
            {"session_id": "s6", "customer_id": "c6", "started_at": "2026-01-31T11:00:00Z"},
        ),
        LOADED,
        6,
        2,
        4,
        rejects={
            2: ("json", ("not valid JSON",)),
            3: ("json", ("not valid JSON",)),
            4: ("json", ("not a JSON object",)),
            5: ("json", ("not a JSON object",)),
        },
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None),
            (6, "s6", "c6", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
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


@pytest.mark.parametrize("case", TX_CASES, ids=[c.id for c in TX_CASES])
def test_transaction_file(world: World, case: TxCase) -> None:
    previous = load_previous(world, case.dataset)
    r = world.load_tx(case.dataset, case.ext, case.data)
    check_load(world, r, case.status, case.read, case.loaded, case.rejected)
    check_rejects(world, r, case.rejects)
    # the partition now holds exactly this file's good rows, typed, and only its rejects
    assert world.partition(case.dataset) == case.rows
    assert {x[0] for x in world.partition_rejects(case.dataset)} <= {r.load_id}
    assert world.q(
        f"SELECT DISTINCT _load_id FROM {world.cfg.transaction(case.dataset).table} WHERE _partition_date = ?",
        [DAY],
    ) == ([(r.load_id,)] if case.rows else [])
    assert previous.load_id != r.load_id


# --------------------------------------------------------------------------------------------
# transactions: files that cannot be loaded (FAILED, partition and rejects untouched)
# --------------------------------------------------------------------------------------------


def _truncated_gzip(data: bytes, keep: float) -> bytes:
    z = gzip.compress(data)
    return z[: int(len(z) * keep)]


_BIG_POS = POS_HEADER + _pos_rows(3000)


@dataclass
class FailCase:
    id: str
    dataset: str
    ext: str
    data: bytes
    words: tuple[str, ...]  # the error must contain these (case-insensitive)


TX_FAIL_CASES = [
    FailCase("csv_empty_file", "pos", "csv", b"", ("empty",)),
    FailCase("jsonl_empty_file", "web", "jsonl", b"", ("empty",)),
    FailCase("csv_blank_first_line", "pos", "csv", b"\n" + POS_HEADER, ("empty",)),
    FailCase(
        "csv_missing_required_column",
        "pos",
        "csv",
        b"customer_id,purchased_at,quantity,amount,store\nc1,01/31/2026,1,1,S\n",
        ("missing", "order_id"),
    ),
    FailCase(
        "csv_missing_customer_column",
        "pos",
        "csv",
        b"order_id,purchased_at,quantity,amount,store\no1,01/31/2026,1,1,S\n",
        ("missing", "customer_id"),
    ),
    FailCase(
        "csv_missing_optional_column",
        "pos",
        "csv",
        b"order_id,customer_id,purchased_at,quantity,amount\no1,c1,01/31/2026,1,1\n",
        ("missing", "store"),
    ),
    FailCase(
        "csv_extra_column",
        "pos",
        "csv",
        b"order_id,customer_id,purchased_at,quantity,amount,store,coupon\no1,c1,01/31/2026,1,1,S,X\n",
        ("coupon", "not declared"),
    ),
    FailCase(
        "csv_duplicate_header_name",
        "pos",
        "csv",
        b"order_id,customer_id,purchased_at,quantity,amount,store,store\no1,c1,01/31/2026,1,1,S,S\n",
        ("store", "more than once"),
    ),
    FailCase(
        "csv_header_not_utf8",
        "pos",
        "csv",
        b"order_id,customer_id,purchased_at,quantit\xe9,amount,store\n",
        ("utf-8", "latin-1"),
    ),
    FailCase(
        "csv_gz_truncated_midway", "pos", "csv.gz", _truncated_gzip(_BIG_POS, 0.5), ("cannot read", "gzip")
    ),
    FailCase(
        "csv_gz_truncated_trailer",
        "pos",
        "csv.gz",
        gzip.compress(POS_HEADER + b"o1,c1,01/31/2026,1,1,S\n")[:-6],
        ("cannot read",),
    ),
    FailCase("csv_gz_truncated_in_header", "pos", "csv.gz", gzip.compress(_BIG_POS)[:20], ("cannot read",)),
    FailCase("csv_gz_not_gzip", "pos", "csv.gz", b"order_id,customer_id\n", ("cannot read",)),
    FailCase(
        "jsonl_gz_truncated",
        "web",
        "jsonl.gz",
        _truncated_gzip(
            jl(
                *[
                    {"session_id": f"s{i}", "customer_id": "c", "started_at": "2026-01-31T10:00:00Z"}
                    for i in range(3000)
                ]
            ),
            0.5,
        ),
        ("cannot read", "gzip"),
    ),
]


@pytest.mark.parametrize("case", TX_FAIL_CASES, ids=[c.id for c in TX_FAIL_CASES])
def test_transaction_file_fails_and_keeps_partition(world: World, case: FailCase) -> None:
    load_previous(world, case.dataset)
    before_rows = world.partition(case.dataset)
    before_rejects = world.partition_rejects(case.dataset)
    r = world.load_tx(case.dataset, case.ext, case.data)
    name = f"{world.cfg.transaction(case.dataset).file_name}_{DAY:%Y%m%d}.{case.ext}"
    check_failed(world, r, name, case.words)
    assert world.partition(case.dataset) == before_rows == PREVIOUS_ROWS[case.dataset]
    assert world.partition_rejects(case.dataset) == before_rejects and len(before_rejects) == 1
    # a FAILED load does not count as done: the file is still pending
    spec = world.cfg.transaction(case.dataset)
    files = list_files(world.folder, spec.file_name)
    assert [f.name for f in files_to_apply(world.con, case.dataset, files)] == [name]


def test_failed_load_is_recorded_on_first_load_without_creating_the_table(world: World) -> None:
    r = world.load_tx("pos", "csv", b"")
    check_failed(world, r, f"pos_{DAY:%Y%m%d}.csv", ("empty",))
    assert not world.has_table("tx_pos")


def test_loaded_file_is_no_longer_pending(world: World) -> None:
    r = world.load_tx("pos", "csv", POS_HEADER + b"o1,c1,01/31/2026,1,1,S\n")
    check_load(world, r, LOADED, 1, 1, 0)
    assert files_to_apply(world.con, "pos", list_files(world.folder, "pos")) == []


# --------------------------------------------------------------------------------------------
# customers: files that load, applied in update mode on top of an existing data set
# --------------------------------------------------------------------------------------------

CUSTOMERS_BASE = CUSTOMERS_HEADER + b"p1,Paris,30,cooking,1,%d\np2,Lyon,40,,0,0\n" % epoch(2026, 1, 29, 12)
CUSTOMERS_BASE_ROWS = [
    ("p1", "Paris", 30.0, ["cooking"], True, ts(2026, 1, 29, 12)),
    ("p2", "Lyon", 40.0, None, False, None),
]


def load_customer_base(w: World) -> LoadResult:
    r = w.load_customers("csv", CUSTOMERS_BASE, day=PREV)
    check_load(w, r, LOADED, 2, 2, 0)
    assert w.customers() == CUSTOMERS_BASE_ROWS
    return r


@dataclass
class CustomerCase:
    id: str
    ext: str
    data: bytes
    status: str
    read: int
    loaded: int
    rejected: int
    rejects: Expected = field(default_factory=dict)
    rows: list[tuple] = field(default_factory=list)  # the customers this load wrote (CUSTOMER_COLUMNS)
    spec: dict | None = None  # CustomersSpec overrides


def cjson(header: list, data: list) -> bytes:
    return json.dumps({"header": header, "data": data}).encode()


CUSTOMER_HEADER_LIST = CUSTOMERS_HEADER.decode().strip().split(",")

CUSTOMER_CASES = [
    CustomerCase("csv_header_only", "csv", CUSTOMERS_HEADER, PROCESSED, 0, 0, 0),
    CustomerCase("json_no_data_rows", "json", cjson(CUSTOMER_HEADER_LIST, []), PROCESSED, 0, 0, 0),
    CustomerCase(
        "csv_utf8_bom",
        "csv",
        b"\xef\xbb\xbf" + CUSTOMERS_HEADER + b"u1,Nice,25,,,\n",
        LOADED,
        1,
        1,
        0,
        rows=[("u1", "Nice", 25.0, None, None, None)],
    ),
    CustomerCase(
        "csv_crlf_line_ends",
        "csv",
        (CUSTOMERS_HEADER + b'u1,Nice,25,"golf, chess",1,0\nu2,Metz,x,,,\nu3,Brest,,tennis,,\n').replace(
            b"\n", b"\r\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("num_age", ("'x'", "number"))},
        rows=[
            ("u1", "Nice", 25.0, ["golf", "chess"], True, None),
            ("u3", "Brest", None, ["tennis"], None, None),
        ],
    ),
    CustomerCase(
        "csv_latin1_bytes_in_utf8_dataset",
        "csv",
        LATIN1_CUSTOMERS,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[("u2", "Metz", 26.0, None, None, None)],
    ),
    CustomerCase(
        "csv_latin1_file_in_latin1_dataset",
        "csv",
        LATIN1_CUSTOMERS,
        LOADED,
        2,
        2,
        0,
        rows=[("u1", "Café", 25.0, ["crème"], None, None), ("u2", "Metz", 26.0, None, None, None)],
        spec={"encoding": "latin-1"},
    ),
    CustomerCase(
        "csv_quoted_multiline_cell",
        "csv",
        CUSTOMERS_HEADER + b'u1,"Saint-\nDenis",25,,,\nu2,Metz,26,,,,x\nu3,"Le ""Mans""",27,,,\n',
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "7"))},
        rows=[("u1", "Saint-\nDenis", 25.0, None, None, None), ("u3", 'Le "Mans"', 27.0, None, None, None)],
    ),
    CustomerCase(
        "csv_duplicate_customuid",
        "csv",
        CUSTOMERS_HEADER + b"u1,Nice,25,,,\nu2,Metz,26,,,\nu1,Lille,27,,,\np1,Rome,1,,,\np1,Oslo,2,,,\n",
        LOADED,
        5,
        3,
        2,
        rejects={3: ("customuid", ("'u1'", "again", "row 1")), 5: ("customuid", ("'p1'", "again", "row 4"))},
        rows=[
            ("p1", "Rome", 1.0, None, None, None),
            ("u1", "Nice", 25.0, None, None, None),
            ("u2", "Metz", 26.0, None, None, None),
        ],
    ),
    CustomerCase(
        "csv_text_in_number_goal_and_goal_timestamp",
        "csv",
        CUSTOMERS_HEADER
        + b"u1,Nice,old,,,\nu2,Metz,26,,yes,\nu3,Lyon,27,,1,2026-01-31\nu4,Brest,28.5,,0,%d\n"
        % epoch(2026, 1, 31, 9),
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("num_age", ("'old'", "number")),
            2: ("goal_newsletter", ("'yes'", "1, 0 or empty")),
            3: ("goal_newsletter_timestamp", ("'2026-01-31'", "unix")),
        },
        rows=[("u4", "Brest", 28.5, None, False, ts(2026, 1, 31, 9))],
    ),
    CustomerCase(
        "csv_missing_customuid",
        "csv",
        CUSTOMERS_HEADER + b',Nice,25,,,\n   ,Metz,26,,,\n"",Lyon,27,,,\nu4,Brest,28,,,\n',
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("customuid", ("missing",)),
            2: ("customuid", ("missing",)),
            3: ("customuid", ("missing",)),
        },
        rows=[("u4", "Brest", 28.0, None, None, None)],
    ),
    CustomerCase(
        "csv_row_with_wrong_column_count",
        "csv",
        CUSTOMERS_HEADER + b"u1,Nice,25\nu2,Metz,26,,,\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("columns", ("6", "3"))},
        rows=[("u2", "Metz", 26.0, None, None, None)],
    ),
    CustomerCase(
        "json_row_of_wrong_length",
        "json",
        cjson(
            CUSTOMER_HEADER_LIST,
            [
                ["u1", "Nice", 25, None, None, None],
                ["u2", "Metz"],
                ["u3", "Lyon", 27, None, None, None, "extra"],
                "u4",
                ["u5", "Oslo", 1, "", "", ""],
            ],
        ),
        LOADED,
        5,
        2,
        3,
        rejects={
            2: ("columns", ("expected 6 values", "found 2")),
            3: ("columns", ("expected 6 values", "found 7")),
            4: ("columns", ("expected 6 values",)),
        },
        rows=[("u1", "Nice", 25.0, None, None, None), ("u5", "Oslo", 1.0, None, None, None)],
    ),
    CustomerCase(
        "json_typed_values_and_bad_values",
        "json",
        cjson(
            CUSTOMER_HEADER_LIST,
            [
                ["u1", "Nice", 25, "golf, chess", 1, epoch(2026, 1, 31, 9)],
                ["u2", "Metz", "old", None, None, None],
                [None, "Lyon", 1, None, None, None],
                ["u4", "Brest", "28.5", None, 0, 0],
                ["u1", "Rome", 1, None, None, None],
            ],
        ),
        LOADED,
        5,
        2,
        3,
        rejects={
            2: ("num_age", ("'old'",)),
            3: ("customuid", ("missing",)),
            5: ("customuid", ("'u1'", "row 1")),
        },
        rows=[
            ("u1", "Nice", 25.0, ["golf", "chess"], True, ts(2026, 1, 31, 9)),
            ("u4", "Brest", 28.5, None, False, None),
        ],
    ),
]


@pytest.mark.parametrize("case", CUSTOMER_CASES, ids=[c.id for c in CUSTOMER_CASES])
def test_customers_file(world: World, case: CustomerCase) -> None:
    base = load_customer_base(world)
    spec = world.cfg.customers.model_copy(update=case.spec or {})
    r = world.load_customers(case.ext, case.data, spec=spec)
    check_load(world, r, case.status, case.read, case.loaded, case.rejected)
    check_rejects(world, r, case.rejects)
    written = world.q(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE _load_id = ? ORDER BY customuid", [r.load_id]
    )
    assert written == case.rows
    # update mode: the customers not in the file keep their row (and their load)
    untouched = {row[0] for row in case.rows}
    kept = [row for row in CUSTOMERS_BASE_ROWS if row[0] not in untouched]
    assert (
        world.q(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE _load_id = ? ORDER BY customuid", [base.load_id]
        )
        == kept
    )
    assert world.q("SELECT count(*) FROM customers")[0][0] == len(kept) + len(case.rows)


CUSTOMER_FAIL_CASES = [
    FailCase("csv_empty_file", "customers", "csv", b"", ("empty",)),
    FailCase("json_empty_file", "customers", "json", b"", ("empty",)),
    FailCase(
        "json_not_valid_json",
        "customers",
        "json",
        b'{"header": ["customuid"], "data": [["u1"]',
        ("not valid JSON",),
    ),
    FailCase("json_not_an_object", "customers", "json", b'[["customuid"], ["u1"]]', ("header", "data")),
    FailCase(
        "json_data_not_an_array",
        "customers",
        "json",
        b'{"header": ["customuid"], "data": {"u1": 1}}',
        ("header", "data"),
    ),
    FailCase(
        "json_duplicate_header_name",
        "customers",
        "json",
        cjson(["customuid", "txt_city", "txt_city"], [["u1", "a", "b"]]),
        ("txt_city",),
    ),
    FailCase(
        "csv_missing_customuid_column", "customers", "csv", b"txt_city,num_age\nNice,25\n", ("customuid",)
    ),
    FailCase("csv_unknown_column", "customers", "csv", b"customuid,city\nu1,Nice\n", ("unknown", "city")),
    FailCase(
        "csv_email_and_emailsha256",
        "customers",
        "csv",
        b"customuid,email,emailsha256\nu1,a@x.com,ab\n",
        ("email", "emailsha256"),
    ),
    FailCase(
        "csv_gz_truncated",
        "customers",
        "csv.gz",
        _truncated_gzip(CUSTOMERS_HEADER + b"".join(b"u%d,Nice,%d,,,\n" % (i, i) for i in range(3000)), 0.5),
        ("cannot read",),
    ),
    FailCase(
        "json_gz_truncated",
        "customers",
        "json.gz",
        _truncated_gzip(
            cjson(CUSTOMER_HEADER_LIST, [[f"u{i}", "Nice", i, None, None, None] for i in range(3000)]), 0.5
        ),
        ("cannot read",),
    ),
]


@pytest.mark.parametrize("case", CUSTOMER_FAIL_CASES, ids=[c.id for c in CUSTOMER_FAIL_CASES])
def test_customers_file_fails_and_keeps_data_set(world: World, case: FailCase) -> None:
    load_customer_base(world)
    before = world.customer_snapshot()
    before_rejects = world.q("SELECT * FROM rejects WHERE dataset = 'customers' ORDER BY load_id, row_number")
    r = world.load_customers(case.ext, case.data)
    check_failed(world, r, f"customers_{DAY:%Y%m%d}.{case.ext}", case.words)
    assert world.customer_snapshot() == before
    assert world.customers() == CUSTOMERS_BASE_ROWS
    assert (
        world.q("SELECT * FROM rejects WHERE dataset = 'customers' ORDER BY load_id, row_number")
        == before_rejects
    )
    pending = files_to_apply(world.con, "customers", list_files(world.folder, "customers"))
    assert [f.name for f in pending] == [f"customers_{DAY:%Y%m%d}.{case.ext}"]


# --------------------------------------------------------------------------------------------
# customers: modes
# --------------------------------------------------------------------------------------------

MODE_BASE = b"customuid,txt_city,num_age\nu1,Paris,30\nu2,Lyon,40\nu3,Nice,50\n"
MODE_BASE_ROWS = [("u1", "Paris", 30.0), ("u2", "Lyon", 40.0), ("u3", "Nice", 50.0)]
D1, D2, D3 = DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY


def load_mode_base(w: World, mode: str | None = None) -> LoadResult:
    r = w.load_customers("csv", MODE_BASE, day=D1, mode=mode)
    check_load(w, r, LOADED, 3, 3, 0)
    assert w.customers("customuid, txt_city, num_age") == MODE_BASE_ROWS
    return r


def check_mode_failure(
    w: World, r: LoadResult, day: dt.date, words: tuple[str, ...], before: list[tuple]
) -> None:
    check_failed(w, r, f"customers_{day:%Y%m%d}.csv", words)
    assert w.customer_snapshot() == before


def test_customers_mode_create_first_file_creates_the_data_set(world: World) -> None:
    base = load_mode_base(world, mode="create")
    assert world.q("SELECT customuid, _first_seen_at, _updated_at, _load_id FROM customers ORDER BY 1") == [
        ("u1", D1, D1, base.load_id),
        ("u2", D1, D1, base.load_id),
        ("u3", D1, D1, base.load_id),
    ]


def test_customers_mode_create_on_existing_data_set_fails(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,num_age\nu9,Rome,1\n", day=D2, mode="create")
    check_mode_failure(world, r, D2, ("create", "exists already"), before)


def test_customers_mode_update_with_other_columns_fails_naming_them(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,txt_segment\nu1,Rome,gold\n", day=D2, mode="update")
    check_mode_failure(world, r, D2, ("update", "missing ['num_age']", "['txt_segment']"), before)


def test_customers_mode_update_with_an_extra_column_fails(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers(
        "csv", b"customuid,txt_city,num_age,txt_segment\nu1,Rome,1,gold\n", day=D2, mode="update"
    )
    check_mode_failure(world, r, D2, ("missing []", "['txt_segment']", "overwrite"), before)


def test_customers_mode_update_upserts(world: World) -> None:
    base = load_mode_base(world)
    # same columns in another order; u2 changes, u4 is new, u3's row is rejected (keeps its old values)
    r = world.load_customers(
        "csv", b"num_age,customuid,txt_city\n41,u2,Bordeaux\n20,u4,Lille\nold,u3,Metz\n", day=D2
    )
    check_load(world, r, LOADED, 3, 2, 1)
    check_rejects(world, r, {3: ("num_age", ("'old'",))})
    assert world.q(
        "SELECT customuid, txt_city, num_age, _first_seen_at, _updated_at, _load_id FROM customers ORDER BY 1"
    ) == [
        ("u1", "Paris", 30.0, D1, D1, base.load_id),
        ("u2", "Bordeaux", 41.0, D1, D2, r.load_id),
        ("u3", "Nice", 50.0, D1, D1, base.load_id),
        ("u4", "Lille", 20.0, D2, D2, r.load_id),
    ]


def test_customers_mode_overwrite_may_add_a_column(world: World) -> None:
    load_mode_base(world)
    r = world.load_customers(
        "csv",
        b"customuid,txt_city,num_age,txt_segment\nu2,Brest,42,gold\nu5,Metz,22,silver\n",
        day=D3,
        mode="overwrite",
    )
    check_load(world, r, LOADED, 2, 2, 0)
    check_rejects(world, r, {})
    assert world.q(
        "SELECT customuid, txt_city, num_age, txt_segment, _first_seen_at, _updated_at, _load_id "
        "FROM customers ORDER BY 1"
    ) == [
        ("u2", "Brest", 42.0, "gold", D1, D3, r.load_id),  # stays: _first_seen_at kept
        ("u5", "Metz", 22.0, "silver", D3, D3, r.load_id),  # new
    ]  # u1 and u3 are not in the file: gone


def test_customers_mode_overwrite_may_not_drop_a_column(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city\nu1,Rome\n", day=D2, mode="overwrite")
    check_mode_failure(world, r, D2, ("overwrite", "missing ['num_age']"), before)
    assert world.customers("customuid, txt_city, num_age") == MODE_BASE_ROWS


def test_customers_mode_from_config_is_used_by_default(world: World) -> None:
    spec = world.cfg.customers.model_copy(update={"mode": "create"})
    r = world.load_customers("csv", MODE_BASE, day=D1, spec=spec)
    check_load(world, r, LOADED, 3, 3, 0)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,num_age\nu9,Rome,1\n", day=D2, spec=spec)
    check_mode_failure(world, r, D2, ("create",), before)


# --------------------------------------------------------------------------------------------
# customers: a plain `email` column is hashed and never stored
# --------------------------------------------------------------------------------------------


def sha(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def scan_warehouse(w: World, needles: list[str]) -> dict[str, list[str]]:
    """Where each needle (case-insensitive) appears: 'table.column' of every column of every table."""
    hits: dict[str, list[str]] = {n: [] for n in needles}
    con = w.con
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    assert {t for t, _ in columns} >= {"customers", "rejects", "loads"}
    for table, column in columns:
        for needle in needles:
            n = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE strpos(lower(CAST("{column}" AS VARCHAR)), ?) > 0',
                [needle.lower()],
            ).fetchall()[0][0]
            if n:
                hits[needle].append(f"{table}.{column}")
    return hits


PLAIN = [
    "alice.smith@example.com",
    "a@x.com",
    "b@y.com",
    "dave@z.com",
    "erin@q.com",
    "frank@w.com",
    "gina@h.com",
]


def test_customers_email_is_hashed_and_never_stored_csv(world: World) -> None:
    data = (
        b"customuid,email,txt_city,num_age\n"
        b"u1, Alice.Smith@Example.COM ,Paris,30\n"
        b'u2,"a@x.com, B@Y.com",Lyon,40\n'
        b"u3,dave@z.com,Nice,old\n"  # rejected: num_age
        b"u1,erin@q.com,Metz,20\n"  # rejected: duplicate customuid
        b"u4,frank@w.com,Brest,20,extra\n"  # rejected: columns
        b"u5,,Lille,\n"
        b'u6,"gina@h.com,Rome,1\n'  # rejected: unterminated quote
    )
    r = world.load_customers("csv", data)
    check_load(world, r, LOADED, 7, 3, 4)
    check_rejects(
        world,
        r,
        {3: ("num_age", ("'old'",)), 4: ("customuid", ("'u1'",)), 5: ("columns", ()), 7: ("row", ("quote",))},
    )
    assert world.q("SELECT customuid, emailsha256, txt_city, num_age FROM customers ORDER BY 1") == [
        ("u1", sha("Alice.Smith@Example.COM"), "Paris", 30.0),
        ("u2", sha("a@x.com") + "," + sha("b@y.com"), "Lyon", 40.0),
        ("u5", None, "Lille", None),
    ]
    assert "email" not in {
        c
        for (c,) in world.q(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'"
        )
    }
    hits = scan_warehouse(world, [*PLAIN, "Paris"])
    assert hits.pop("Paris") == ["customers.txt_city"]  # the scan does find plain text
    assert hits == {p: [] for p in PLAIN}


def test_customers_email_is_hashed_and_never_stored_json(world: World) -> None:
    data = cjson(
        ["customuid", "email", "txt_city", "num_age"],
        [
            ["u1", " Alice.Smith@Example.COM ", "Paris", 30],
            ["u2", "a@x.com, B@Y.com"],  # rejected: wrong length
            ["u3", "dave@z.com", "Nice", "old"],  # rejected: num_age
            ["u4", "erin@q.com,, frank@w.com ,", "Metz", 1],
        ],
    )
    r = world.load_customers("json", data)
    check_load(world, r, LOADED, 4, 2, 2)
    check_rejects(world, r, {2: ("columns", ("found 2",)), 3: ("num_age", ("'old'",))})
    assert world.q("SELECT customuid, emailsha256, txt_city, num_age FROM customers ORDER BY 1") == [
        ("u1", sha("alice.smith@example.com"), "Paris", 30.0),
        ("u4", sha("erin@q.com") + "," + sha("frank@w.com"), "Metz", 1.0),
    ]
    hits = scan_warehouse(world, [*PLAIN, "Paris"])
    assert hits.pop("Paris") == ["customers.txt_city"]
    assert hits == {p: [] for p in PLAIN}


def test_customers_email_then_update_with_email_again(world: World) -> None:
    r1 = world.load_customers("csv", b"customuid,email\nu1,old@x.com\nu2,keep@x.com\n", day=PREV)
    check_load(world, r1, LOADED, 2, 2, 0)
    r2 = world.load_customers("csv", b"customuid,email\nu1,NEW@x.com\n", day=DAY)
    check_load(world, r2, LOADED, 1, 1, 0)
    assert world.q("SELECT customuid, emailsha256 FROM customers ORDER BY 1") == [
        ("u1", sha("new@x.com")),
        ("u2", sha("keep@x.com")),
    ]
    assert scan_warehouse(world, ["old@x.com", "keep@x.com", "new@x.com"]) == {
        "old@x.com": [],
        "keep@x.com": [],
        "new@x.com": [],
    }


# --------------------------------------------------------------------------------------------
# property: random mixes of good and bad rows
# --------------------------------------------------------------------------------------------

GOOD, BAD_NUMBER, NO_CUSTOMER, EXTRA_COLUMN = "good", "bad_number", "no_customer", "extra_column"
_TEXT = string.ascii_letters + string.digits + ' ,"-é\n'
_value = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_letters),
    st.text(alphabet=_TEXT, max_size=6),
)
_row = st.tuples(
    st.sampled_from([GOOD, GOOD, BAD_NUMBER, NO_CUSTOMER, EXTRA_COLUMN]),
    _value,  # customer id
    st.integers(min_value=-(10**6), max_value=10**6),  # quantity
    st.decimals(
        min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False
    ),  # amount
    st.text(alphabet=_TEXT, max_size=6),  # store
    st.booleans(),  # bad number: in quantity or in amount
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=4).map(lambda s: "x" + s),  # the bad number
    st.sampled_from(["", " ", "   "]),  # the missing customer id
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=12))
def test_property_random_good_and_bad_rows(tmp_path: Path, rows: list[tuple]) -> None:
    w = World(tmp_path)
    try:
        _check_random_file(w, rows)
    finally:
        w.close()


def _check_random_file(w: World, rows: list[tuple]) -> None:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["order_id", "customer_id", "purchased_at", "quantity", "amount", "store"])
    expected_rows, expected_rejects = [], {}
    for i, (kind, customer, qty, amount, store, in_qty, bad, blank) in enumerate(rows, start=1):
        cells = [f"o{i}", customer, "01/31/2026", str(qty), str(amount), store]
        if kind == BAD_NUMBER:
            cells[3 if in_qty else 4] = bad
            expected_rejects[i] = ("quantity", (f"'{bad}'",)) if in_qty else ("amount", (f"'{bad}'",))
        elif kind == NO_CUSTOMER:
            cells[1] = blank
            expected_rejects[i] = ("customer_id", ("missing",))
        elif kind == EXTRA_COLUMN:
            cells.append("extra")
            expected_rejects[i] = ("columns", ())
        else:
            expected_rows.append(
                (i, f"o{i}", customer.strip(" "), DAY, qty, amount, store.strip(" ") or None)
            )
        out.writerow(cells)
    r = w.load_tx("pos", "csv", buf.getvalue())
    n_bad = len(expected_rejects)
    check_load(w, r, LOADED if rows else PROCESSED, len(rows), len(rows) - n_bad, n_bad)
    assert r.rows_loaded == len(expected_rows)
    check_rejects(w, r, expected_rejects)
    assert w.partition("pos") == expected_rows
