"""The malformed-input corpus shared by the test_ingest_malformed* modules: the project under
test (one config, one folder, one warehouse per test), the assertions every case shares, and the
case records."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.ingest.config import CustomersSpec
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.sources.local_files import find_file
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.write import FAILED, LOADED, LoadResult

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
    "sales": "order_id, customer_id, sold_at, amount, qty",
}
CUSTOMER_COLUMNS = "customuid, txt_city, num_age, attr_interests, goal_newsletter, goal_newsletter_timestamp"

POS_HEADER = b"order_id,customer_id,purchased_at,quantity,amount,store\n"
WEB_CSV_HEADER = b"session_id,customer_id,started_at,page_views,purchased,revenue,channel\n"
EVENTS_HEADER = b"customer_id,event,occurred_at,opened_at,sent_on\n"
CUSTOMERS_HEADER = b"customuid,txt_city,num_age,attr_interests,goal_newsletter,goal_newsletter_timestamp\n"


class World:
    """A project folder with the config above, its landing folder and its warehouse."""

    def __init__(self, root: Path, config: dict | None = None):
        self.cfg = parse_config(config or CONFIG, "test.yaml", root)
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
            f"SELECT _row_number, {PROJECTION[dataset]} FROM {table} "
            "WHERE _partition_date = ? ORDER BY _row_number",
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
    b'{"session_id": "s1", "customer_id": "Ren\xe9", "started_at": "2026-01-31T10:00:00Z", '
    b'"channel": "caf\xe9"}\n'
    b'{"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z"}\n'
)
LATIN1_CUSTOMERS = CUSTOMERS_HEADER + b"u1,Caf\xe9,25,cr\xe8me,,\nu2,Metz,26,,,\n"


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
