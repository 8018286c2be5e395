"""UTF-16 without a byte order mark (UTF-16LE or UTF-16BE, as some tools write it) fails whole, as
UTF-16 with one does: read as UTF-8 or Latin-1 with its NUL bytes removed, its ASCII rows loaded and
any other character was changed silently (``Łódź`` loaded as ``A\\x01ódz\\x01``) or rejected."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.read_errors import utf16_order
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import FAILED, LOADED
from tests.unit.ingest.malformed_corpus import CUSTOMERS_HEADER, DAY, POS_HEADER, PREV, World
from tests.unit.ingest.malformed_tx_dialects import sales_config

TEXTS = {
    "pos": POS_HEADER.decode() + "o1,c1,01/31/2026,1,2.5,Łódź\no2,c2,01/31/2026,1,2.5,S\n",
    "web": '{"session_id": "s1", "customer_id": "Łódź", "started_at": "2026-01-31T10:00:00"}\n'
    '{"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T10:00:00"}\n',
    "customers": CUSTOMERS_HEADER.decode() + "u1,Łódź,30,,1,0\nu2,Paris,31,,1,0\n",
    "customers.json": '{"header": ["customuid", "txt_city"], "data": [["u1", "Łódź"], ["u2", "Paris"]]}',
}
CASES = [
    ("pos", "csv"),
    ("pos", "csv.gz"),
    ("pos_latin", "csv"),
    ("web", "jsonl"),
    ("web", "jsonl.gz"),
    ("web_latin", "jsonl"),
    ("customers", "csv"),
    ("customers", "csv.gz"),
    ("customers", "json"),
]


def _message(name: str, order: str) -> str:
    return (
        f"{name}: the file is UTF-16{order} (UTF-16 without a byte order mark: its first bytes "
        "alternate NUL bytes and text): save it as UTF-8"
    )


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


@pytest.mark.parametrize("order", ["LE", "BE"])
@pytest.mark.parametrize(("dataset", "ext"), CASES)
def test_a_utf16_file_without_a_byte_order_mark_fails_saying_so(world, dataset, ext, order):
    key = "customers.json" if ext == "json" else dataset.removesuffix("_latin")
    data = TEXTS[key].encode(f"utf-16-{order.lower()}")
    data = gzip.compress(data) if ext.endswith(".gz") else data
    r = world.load_customers(ext, data) if dataset == "customers" else world.load_tx(dataset, ext, data)
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.error) == (
        FAILED,
        0,
        0,
        0,
        _message(f"{dataset}_{DAY:%Y%m%d}.{ext}", order),
    )
    assert world.q("SELECT count(*) FROM rejects") == [(0,)]


@pytest.mark.parametrize("order", ["LE", "BE"])
def test_a_headerless_latin1_file_fails_too(tmp_path: Path, order: str) -> None:
    """Without a header to misread, the file loaded every row, ``Łódź`` changed into other characters."""
    columns = ["order_id", "customer_id", "sold_at", "amount", "qty"]
    w = World(tmp_path, sales_config(header=False, columns=columns, encoding="latin-1"))
    try:
        data = "o1,Łódź,2026-01-31,3.50,2\no2,c2,2026-01-31,1,1\n".encode(f"utf-16-{order.lower()}")
        r = w.load_tx("sales", "csv", data)
        assert (r.status, r.rows_read, r.error) == (FAILED, 0, _message("sales_20260131.csv", order))
        assert w.partition("sales") == []
    finally:
        w.close()


def test_files_read_together_fail_the_utf16_one_only(world: World) -> None:
    spec = world.cfg.transaction("pos")
    files = [
        (PREV, world.land("pos", "csv", TEXTS["pos"].encode("utf-16-le"), PREV)),
        (DAY, world.land("pos", "csv", TEXTS["pos"].encode(), DAY)),
    ]
    with connect(world.warehouse) as con:
        results = ingest_transactions(con, spec, "landing", files)
    assert [(r.status, r.rows_read, r.rows_loaded, r.error) for r in results] == [
        (FAILED, 0, 0, _message("pos_20260130.csv", "LE")),
        (LOADED, 2, 2, None),
    ]
    assert world.q("SELECT store FROM tx_pos ORDER BY 1") == [("S",), ("Łódź",)]


def test_a_utf8_file_with_a_stray_nul_byte_still_loads(world: World) -> None:
    """A NUL byte here and there is no UTF-16: it is removed, as before."""
    data = POS_HEADER + "o1,c1,01/31/2026,1,2.5,Łódź\x00\no2,c2,01/31/2026,1,2.5,S\n".encode()
    r = world.load_tx("pos", "csv", data)
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == (LOADED, 2, 2, 0)
    assert world.q("SELECT store FROM tx_pos ORDER BY 1") == [("S",), ("Łódź",)]


@pytest.mark.parametrize(
    ("head", "order"),
    [
        ("id,name\n1,Łódź\n".encode("utf-16-le"), "LE"),
        ("id,name\n1,Łódź\n".encode("utf-16-be"), "BE"),
        ("a".encode("utf-16-le"), "LE"),
        (b"", None),
        (b"a", None),
        ("id,name\n1,Łódź\n".encode(), None),
        ("id,name\n1,Łódź\n".encode("latin-1", "replace"), None),
        (b"id,name\n\x001,x\x00\n", None),  # stray NUL bytes
        (b"\x00" * 64, None),  # NUL bytes only: no text
        ("顧客,金額\n".encode("utf-16-le"), None),  # under half ASCII-range characters: not told
    ],
    ids=["le", "be", "one_char", "empty", "one_byte", "utf8", "latin1", "stray_nul", "nul_only", "cjk"],
)
def test_utf16_order(head: bytes, order: str | None) -> None:
    assert utf16_order(head) == order
