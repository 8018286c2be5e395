"""Inputs found by review that once crashed a load or were read wrongly; each ends in a clear outcome."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from decimal import Decimal

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.customers import files_to_apply, ingest_customers
from pipeline.ingest.sources.local_files import find_file, landed_file, list_files
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.write import FAILED, LOADED
from tests.unit.ingest.malformed_corpus import CUSTOMERS_HEADER, DAY, POS_HEADER, World, epoch


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


def rejects(w: World, dataset: str) -> list[tuple]:
    return w.q(
        "SELECT row_number, field, reason FROM rejects WHERE dataset = ? ORDER BY row_number", [dataset]
    )


@pytest.mark.parametrize("value", ["nan", "inf", "1e20", "-1e20"])
def test_an_epoch_out_of_range_is_a_rejected_row_not_a_crash(world, value):
    t = epoch(2026, 1, 31, 10)
    lines = (
        f'{{"customer_id": "c1", "event": "open", "occurred_at": {t}}}\n'
        f'{{"customer_id": "c2", "event": "open", "occurred_at": "{value}"}}\n'
    )
    r = world.load_tx("events", "jsonl", lines)
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == (LOADED, 2, 1, 1)
    assert rejects(world, "events") == [
        (2, "occurred_at", f"occurred_at: '{value}' is not a Timestamp in unix time")
    ]


def test_a_goal_timestamp_out_of_range_is_rejected(world):
    data = CUSTOMERS_HEADER + b"u1,Paris,30,,1,99999999999999\nu2,Lyon,40,,0,0\n"
    r = world.load_customers("csv", data)
    assert (r.status, r.rows_loaded, r.rows_rejected) == (LOADED, 1, 1)
    assert rejects(world, "customers")[0][:2] == (1, "goal_newsletter_timestamp")


def test_header_names_that_differ_only_in_case_fail_the_load(world):
    r = world.load_customers("csv", b"customuid,txt_City,txt_city\nu1,a,b\n")
    assert r.status == FAILED and "more than once" in r.error and "txt_City" in r.error


def test_cr_only_line_ends(world):
    r = world.load_tx("pos", "csv", POS_HEADER.replace(b"\n", b"\r") + b"o1,c1,01/31/2026,1,2.5,S\r")
    assert (r.status, r.rows_read, r.rows_loaded) == (LOADED, 1, 1)
    assert world.partition("pos") == [(1, "o1", "c1", DAY, 1, Decimal("2.5"), "S")]


def test_a_quoted_header_with_spaces_after_the_commas(world):
    header = b'"order_id", "customer_id", "purchased_at", "quantity", "amount", "store"\n'
    r = world.load_tx("pos", "csv", header + b"o1,c1,01/31/2026,1,2.5,S\n")
    assert (r.status, r.rows_loaded) == (LOADED, 1)


def test_a_nested_json_value_is_rejected_with_the_field(world):
    lines = (
        '{"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00", '
        '"channel": {"name": "x"}}\n'
        '{"session_id": "s2", "customer_id": ["c1", "c2"], "started_at": "2026-01-31T10:00:00"}\n'
        '{"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31T10:00:00", "channel": "Email"}\n'
    )
    r = world.load_tx("web", "jsonl", lines)  # an array in a String field: its values, joined
    assert (r.status, r.rows_loaded, r.rows_rejected) == (LOADED, 2, 1)
    assert [(n, f) for n, f, _ in rejects(world, "web")] == [(1, "channel")]
    assert "a JSON object or array is not a single value" in rejects(world, "web")[0][2]
    assert world.q("SELECT customer_id FROM tx_web WHERE session_id = 's2'") == [("c1, c2",)]


def test_customer_json_arrays_are_multi_value_cells_where_the_column_takes_several(world):
    data = (
        '{"header": ["customuid", "attr_interests", "idfa", "txt_city"], "data": ['
        '["u1", ["cooking", "writing"], ["a1", "b2"], "Paris"],'
        '["u2", null, null, ["Lyon", "Metz"]]]}'
    )
    r = world.load_customers("json", data)
    assert (r.status, r.rows_loaded, r.rows_rejected) == (LOADED, 1, 1)
    assert world.q("SELECT customuid, attr_interests, idfa FROM customers") == [
        ("u1", ["cooking", "writing"], "a1,b2")
    ]
    assert rejects(world, "customers")[0][:2] == (2, "txt_city")


@pytest.mark.parametrize("ext", ["json", "json.gz"])
def test_customer_json_with_a_utf8_bom_loads_plain_or_gzipped(world, ext):
    """A Windows tool writes a byte order mark first: the plain file failed ('Unexpected UTF-8 BOM')
    while the same document gzipped loaded."""
    doc = b'\xef\xbb\xbf{"header": ["customuid", "txt_city"], "data": [["u1", "Paris"]]}\r\n'
    r = world.load_customers(ext, gzip.compress(doc) if ext.endswith(".gz") else doc)
    assert (r.status, r.rows_loaded, r.error) == (LOADED, 1, None)
    assert world.q("SELECT customuid, txt_city FROM customers") == [("u1", "Paris")]
    bom_only = world.load_customers("json", b"\xef\xbb\xbf", day=DAY - dt.timedelta(days=1))
    assert (bom_only.status, bom_only.error) == (
        FAILED,
        f"customers_{DAY - dt.timedelta(days=1):%Y%m%d}.json: the file is empty",
    )


def test_a_json_array_file_is_refused_for_json_lines(world):
    r = world.load_tx("web", "json", '[\n {"session_id": "s1"},\n {"session_id": "s2"}\n]\n')
    assert r.status == FAILED and "one JSON array" in r.error


def test_extensions_are_found_in_any_letter_case(world):
    path = world.folder / f"pos_{DAY:%Y%m%d}.CSV"
    path.write_bytes(POS_HEADER + b"o1,c1,01/31/2026,1,2.5,S\n")
    f = find_file(world.folder, "pos", DAY)
    assert f is not None and f.format == "csv"
    with connect(world.warehouse) as con:
        r = ingest_transaction(con, world.cfg.transaction("pos"), "landing", f, DAY)
    assert (r.status, r.rows_loaded) == (LOADED, 1)


def test_an_unknown_extension_fails_the_load(world):
    path = world.folder / "upload.xlsx"
    path.write_bytes(POS_HEADER + b"o1,c1,01/31/2026,1,2.5,S\n")
    with connect(world.warehouse) as con:
        r = ingest_transaction(con, world.cfg.transaction("pos"), "upload", landed_file(path, DAY), DAY)
    assert r.status == FAILED and "unknown file type" in r.error


def test_two_customer_loads_on_one_day_keep_their_own_rejects(world):
    world.load_customers("csv", CUSTOMERS_HEADER + b"u1,Paris,x,,1,0\n")
    first = world.q("SELECT load_id FROM loads")[0][0]
    path = world.folder / "upload.csv"
    path.write_bytes(CUSTOMERS_HEADER + b"u2,Lyon,y,,1,0\n")
    with connect(world.warehouse) as con:
        ingest_customers(con, world.cfg.customers, "upload", landed_file(path, DAY))
    assert world.q("SELECT load_id, row_number FROM rejects ORDER BY load_id") == [(first, 1), (first + 1, 1)]


def test_a_changed_older_customer_file_is_applied_again_with_every_later_one(world):
    world.load_customers("csv", CUSTOMERS_HEADER + b"u1,Paris,30,,1,0\n", day=DAY - dt.timedelta(days=1))
    world.load_customers("csv", CUSTOMERS_HEADER + b"u1,Paris,31,,1,0\n", day=DAY)
    files = list_files(world.folder, "customers")
    assert files_to_apply(world.con, "customers", files) == []
    os.utime(files[0].path, (7, 7))
    again = files_to_apply(world.con, "customers", list_files(world.folder, "customers"))
    assert [f.name for f in again] == [f.name for f in files]


@pytest.mark.parametrize(
    ("dataset", "ext"),
    [("pos", "csv"), ("pos_latin", "csv"), ("web", "jsonl"), ("web", "jsonl.gz"), ("customers", "csv")]
    + [("customers", "json")],
)
def test_a_utf16_file_fails_saying_so(world, dataset, ext):
    """Windows PowerShell and Excel's "Unicode text" write UTF-16 with a byte order mark: a JSON-lines
    file lost its first line (rejected as not UTF-8) and loaded the others with their NUL bytes removed
    (any character beyond ASCII another one); a CSV file failed with advice to read it as Latin-1."""
    text = {
        "pos": POS_HEADER.decode() + "o1,c1,01/31/2026,1,2.5,S\n",
        "web": '{"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00"}\n' * 2,
        "customers": CUSTOMERS_HEADER.decode() + "u1,Paris,30,,1,0\n",
    }[dataset.removesuffix("_latin")]
    if ext == "json":
        text = '{"header": ["customuid"], "data": [["u1"]]}'
    data = text.encode("utf-16")
    data = gzip.compress(data) if ext.endswith(".gz") else data
    r = world.load_customers(ext, data) if dataset == "customers" else world.load_tx(dataset, ext, data)
    name = f"{dataset}_{DAY:%Y%m%d}.{ext}"
    assert (r.status, r.rows_read, r.error) == (
        FAILED,
        0,
        f"{name}: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8",
    )
