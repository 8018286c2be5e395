"""Malformed inputs through the one ingestion path (pipeline/ingest/).

Every case lands a file in a local_files folder, loads it into a fresh DuckDB warehouse and
asserts the exact outcome: status, rows_read / rows_loaded / rows_rejected (and the invariant
rows_read == rows_loaded + rows_rejected), the reject row numbers, fields and reasons (naming the
field and the value), the typed values that were loaded, and the `loads` row. A file that cannot
be loaded must give a FAILED load that leaves the partition (or the `customers` table) and its
rejects exactly as they were before.

This module: transaction files (the cases in malformed_tx_files.py and malformed_tx_values.py)
and transaction files that cannot be loaded; customer files are in the test_ingest_malformed_*
modules beside it."""

from __future__ import annotations

import gzip

import pytest

from pipeline.ingest.customers import files_to_apply
from pipeline.ingest.sources.local_files import list_files
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import (
    _BIG_POS,
    DAY,
    POS_HEADER,
    PREVIOUS_ROWS,
    FailCase,
    TxCase,
    World,
    _truncated_gzip,
    check_failed,
    check_load,
    check_rejects,
    jl,
    load_previous,
)
from tests.unit.ingest.malformed_tx_files import FILE_CASES
from tests.unit.ingest.malformed_tx_values import VALUE_CASES

TX_CASES = FILE_CASES + VALUE_CASES


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
        f"SELECT DISTINCT _load_id FROM {world.cfg.transaction(case.dataset).table} "
        "WHERE _partition_date = ?",
        [DAY],
    ) == ([(r.load_id,)] if case.rows else [])
    assert previous.load_id != r.load_id


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
    # Latin-1 reading has no characters for the bytes 0x80-0x9f (Windows-1252's quotes, the euro
    # sign): the reader fails the file; the error names the line and the byte, and the fix
    FailCase(
        "csv_latin1_with_windows_1252_quotes",
        "pos_latin",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,1,1,Caf\xe9\no2,c2,01/31/2026,1,1,\x93S\x94\n",
        ("line 3", "0x93", "windows-1252", "utf-8"),
    ),
    FailCase(
        "jsonl_latin1_with_a_euro_sign",
        "web_latin",
        "jsonl",
        jl(b'{"session_id": "s1", "started_at": "2026-01-31T10:00:00Z", "channel": "\x80 5"}'),
        ("line 1", "0x80", "windows-1252", "utf-8"),
    ),
    # the CSV reader takes one kind of line end per file: a file that mixes them says so
    FailCase(
        "csv_mixed_line_ends",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,1,1,S\r\no2,c2,01/31/2026,1,1,S\n",
        ("mixes line ends", "2 LF", "1 CRLF", "one kind"),
    ),
    FailCase(
        "csv_gz_mixed_line_ends",
        "pos",
        "csv.gz",
        gzip.compress(
            POS_HEADER.replace(b"\n", b"\r\n") + b"o1,c1,01/31/2026,1,1,S\ro2,c2,01/31/2026,1,1,S\r\n"
        ),
        ("mixes line ends", "2 CRLF", "1 CR", "one kind"),
    ),
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


def test_a_row_not_utf8_after_lines_of_spaces_keeps_its_number_and_raw_text(world: World) -> None:
    """Lines of spaces only are blank lines: not records, not counted in the row numbers; the raw
    text of the row rejected for its bytes is read again from the file (its delimiters kept)."""
    data = (
        POS_HEADER
        + b"  \no1,c1,01/31/2026,2,3.50,S1\n\n   \no2,Ren\xe9,01/31/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n"
    )
    r = world.load_tx("pos", "csv", data)
    check_load(world, r, LOADED, 3, 2, 1)
    assert world.q("SELECT row_number, field, raw_row FROM rejects WHERE load_id = ?", [r.load_id]) == [
        (2, "encoding", "o2,Ren\ufffd,01/31/2026,1,1,S2")
    ]
    assert [(n, order) for n, order, *_ in world.partition("pos")] == [(1, "o1"), (3, "o3")]
