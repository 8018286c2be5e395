"""Every physical record counted, whatever its length, and files over the dataset's `limits` refused
before they are read (pipeline/ingest/limits.py).

A line longer than `limits.max_record_bytes` is rejected with its row number and the reason
`row: longer than N bytes`, in CSV, JSON lines, whitespace-delimited and customer files, plain or
gzip, one by one or several days at once; rows_read = rows_loaded + rows_rejected holds for each.
Most cases use a small limit (1 KiB) so the files stay small; two use the default limit with lines
past the reader's 32 MB buffer (a 40 MB line, and a gzip file streamed from a generator).
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from pipeline.core.warehouse import connect
from pipeline.ingest import customers
from pipeline.ingest.limits import scan
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import (
    CONFIG,
    CUSTOMERS_HEADER,
    DAY,
    POS_HEADER,
    World,
    check_failed,
    check_load,
    check_rejects,
)

SMALL = 1024
LONG = ("row", (f"row: longer than {SMALL} bytes",))


def _config(**limits: int) -> dict:
    config = copy.deepcopy(CONFIG)
    for t in config["transactions"]:
        t["limits"] = dict(limits)
    config["customers"]["limits"] = dict(limits)
    return config


@pytest.fixture
def small(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path, _config(max_record_bytes=SMALL))
    yield w
    w.close()


def _pos(i: int, store: bytes = b"S") -> bytes:
    return b"o%d,c%d,01/31/2026,1,1.00,%s" % (i, i, store)


def _web(i: int, channel: bytes = b"web") -> bytes:
    return (
        b'{"session_id": "s%d", "customer_id": "c%d", "started_at": "2026-01-31T09:00:00Z", "channel": "%s"}'
        % (
            i,
            i,
            channel,
        )
    )


FAT = b"x" * (SMALL + 1)
CRLF_HEADER, CR_HEADER = POS_HEADER.replace(b"\n", b"\r\n"), POS_HEADER.replace(b"\n", b"\r")


@pytest.mark.parametrize(
    ("dataset", "ext", "data", "read", "long_rows", "loaded_rows"),
    [
        ("pos", "csv", POS_HEADER + b"\n".join([_pos(1), _pos(2, FAT), _pos(3)]) + b"\n", 3, [2], [1, 3]),
        ("pos", "csv", CRLF_HEADER + b"\r\n".join([_pos(1, FAT), _pos(2), _pos(3, FAT)]), 3, [1, 3], [2]),
        ("pos", "csv", CR_HEADER + b"\r".join([_pos(1), _pos(2), _pos(3, FAT * 50)]) + b"\r", 3, [3], [1, 2]),
        (
            "pos",
            "csv.gz",
            gzip.compress(POS_HEADER + b"\n".join([_pos(1, FAT), _pos(2)]) + b"\n"),
            2,
            [1],
            [2],
        ),
        ("web", "jsonl", b"\n".join([_web(1), _web(2, FAT), _web(3)]) + b"\n", 3, [2], [1, 3]),
        ("web", "jsonl.gz", gzip.compress(b"\n".join([_web(1, FAT), b"", _web(3)])), 2, [1], [3]),
        # a line exactly at the limit is read as any other
        (
            "web",
            "jsonl",
            b"\n".join([_web(1, b"y" * (SMALL - len(_web(1, b"")))), _web(2)]) + b"\n",
            2,
            [],
            [1, 2],
        ),
    ],
    ids=[
        "csv",
        "csv-crlf-first-and-last",
        "csv-cr-only",
        "csv-gz",
        "jsonl",
        "jsonl-gz-blank-line",
        "at-limit",
    ],
)
def test_a_line_longer_than_the_limit_is_rejected_with_its_row_number(
    small: World, dataset: str, ext: str, data: bytes, read: int, long_rows: list[int], loaded_rows: list[int]
) -> None:
    r = small.load_tx(dataset, ext, data)
    check_load(small, r, LOADED, read, read - len(long_rows), len(long_rows))
    rows = check_rejects(small, r, dict.fromkeys(long_rows, LONG))
    assert all(raw == "" for *_, raw in rows)  # the long line is not kept
    assert [row[0] for row in small.partition(dataset)] == loaded_rows


def test_a_long_line_in_a_whitespace_delimited_file(tmp_path: Path) -> None:
    config = _config(max_record_bytes=SMALL)
    config["transactions"][0].update(delimiter="whitespace")
    w = World(tmp_path, config)
    try:
        lines = [
            b"o1 c1 01/31/2026 1 1.00 S",
            b"o2 c2 01/31/2026 1 1.00 " + FAT,
            b"o3 c3 01/31/2026 1 1.00 S",
        ]
        r = w.load_tx("pos", "txt", POS_HEADER.replace(b",", b" ") + b"\n".join(lines) + b"\n")
        check_load(w, r, LOADED, 3, 2, 1)
        check_rejects(w, r, {2: LONG})
    finally:
        w.close()


def test_a_long_line_in_a_customer_file(small: World) -> None:
    good = b"u1,Paris,30,,,\n"
    r = small.load_customers("csv", CUSTOMERS_HEADER + good + b"u2," + FAT + b",31,,,\nu3,Lyon,32,,,\n")
    check_load(small, r, LOADED, 3, 2, 1)
    check_rejects(small, r, {2: LONG})
    assert [c[0] for c in small.customers()] == ["u1", "u3"]


def test_a_header_longer_than_the_limit_fails_the_file(small: World) -> None:
    r = small.load_tx("pos", "csv", b"y" * (3 << 20) + b"\n" + _pos(1) + b"\n")
    check_failed(small, r, "pos_20260131.csv", ("header is longer than 1 MiB",))
    assert len(r.error or "") < 200


def test_days_loaded_together_count_their_long_lines_each(small: World) -> None:
    """The batch path (a backfill's days read at once) gives each file its own long-line rejects."""
    spec = small.cfg.transaction("pos")
    days = [DAY - dt.timedelta(days=i) for i in (2, 1, 0)]
    inputs = []
    for n, day in enumerate(days):
        stamp = day.strftime("%m/%d/%Y").encode()
        rows = [_pos(1).replace(b"01/31/2026", stamp), _pos(2, FAT * n).replace(b"01/31/2026", stamp)]
        inputs.append((day, small.land("pos", "csv", POS_HEADER + b"\n".join(rows) + b"\n", day)))
    with connect(small.warehouse) as con:
        results = ingest_transactions(con, spec, "landing", inputs)
    assert [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        (LOADED, 2, 2, 0),
        (LOADED, 2, 1, 1),
        (LOADED, 2, 1, 1),
    ]
    for r in results[1:]:
        check_rejects(small, r, {2: LONG})


# a quoted cell of short lines (a long note, or the text between two stray quotes) making one record
# longer than the limit: the reader rejects it as too long, with no column at fault
SPANNING = b'"' + b"\n".join([b"y" * 100] * (SMALL // 100 + 1)) + b'"'


def test_a_record_of_short_lines_longer_than_the_limit(small: World) -> None:
    """Its reason was the typing's of a row without values (`order_id: missing (required); ...`) and its
    raw_row the whole record: it is `row: longer than N bytes` with an empty raw_row, as a long line."""
    r = small.load_tx("pos", "csv", POS_HEADER + b"\n".join([_pos(1), _pos(2, SPANNING), _pos(3)]) + b"\n")
    check_load(small, r, LOADED, 3, 2, 1)
    assert all(raw == "" for *_, raw in check_rejects(small, r, {2: LONG}))
    c = small.load_customers("csv", CUSTOMERS_HEADER + b"u1,Paris,30,,,\nu2," + SPANNING + b",31,,,\n")
    check_load(small, c, LOADED, 2, 1, 1)
    check_rejects(small, c, {2: LONG})
    # days loaded together (the batch path)
    spec = small.cfg.transaction("pos")
    days = [DAY - dt.timedelta(days=i) for i in (2, 1)]
    rows = [[_pos(1), _pos(2, SPANNING)], [_pos(1, SPANNING), _pos(2)]]
    inputs = [
        (
            day,
            small.land(
                "pos",
                "csv",
                POS_HEADER
                + b"\n".join(rows[n]).replace(b"01/31/2026", day.strftime("%m/%d/%Y").encode())
                + b"\n",
                day,
            ),
        )
        for n, day in enumerate(days)
    ]
    with connect(small.warehouse) as con:
        results = ingest_transactions(con, spec, "landing", inputs)
    assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [(2, 1, 1), (2, 1, 1)]
    check_rejects(small, results[0], {2: LONG})
    check_rejects(small, results[1], {1: LONG})


def test_a_40_mb_line_past_the_readers_buffer_is_counted(world: World) -> None:
    """DuckDB's reader drops a line longer than its 32 MB buffer without a word; it never sees one."""
    r = world.load_tx(
        "pos", "csv", POS_HEADER + _pos(1) + b"\n" + _pos(2, b"z" * (40 << 20)) + b"\n" + _pos(3)
    )
    check_load(world, r, LOADED, 3, 2, 1)
    check_rejects(world, r, {2: ("row", ("longer than 2000000 bytes",))})


def _gzip_stream(path: Path, parts: Iterator[bytes]) -> None:
    with gzip.open(path, "wb", compresslevel=1) as out:
        for part in parts:
            out.write(part)


def _one_long_line(first: bytes, size: int, last: bytes) -> Iterator[bytes]:
    """A file of a short line, one line of ``size`` bytes and a short line, made 8 MB at a time."""
    yield first + b"\n"
    block = b"w" * (8 << 20)
    for _ in range(size // len(block)):
        yield block
    yield b"w" * (size % len(block)) + b"\n" + last + b"\n"


def test_a_gzip_file_holding_a_line_past_the_buffer_is_streamed_and_counted(world: World) -> None:
    spec = world.cfg.transaction("web")
    path = world.folder / f"{spec.file_name}_{DAY:%Y%m%d}.jsonl.gz"
    _gzip_stream(path, _one_long_line(_web(1), 96 << 20, _web(3)))
    r = world.load_tx("web", "jsonl.gz", path.read_bytes())
    check_load(world, r, LOADED, 3, 2, 1)
    check_rejects(world, r, {2: ("row", ("longer than 2000000 bytes",))})


# --------------------------------------------------------------------------------------------
# limits: a file over max_uncompressed_bytes or max_rows fails before it is read
# --------------------------------------------------------------------------------------------


def test_a_gzip_bomb_fails_at_the_decompressed_size_limit(tmp_path: Path) -> None:
    w = World(tmp_path, _config(max_uncompressed_bytes=10 << 20))
    try:
        spec = w.cfg.transaction("pos")
        path = w.folder / f"{spec.file_name}_{DAY:%Y%m%d}.csv.gz"
        rows = (_pos(1) + b"\n") * 100_000  # 2.6 MB a block, a few kB compressed
        _gzip_stream(path, iter([POS_HEADER, *[rows] * 20]))
        assert path.stat().st_size < 1 << 20
        r = w.load_tx("pos", "csv.gz", path.read_bytes())
        check_failed(w, r, "pos_20260131.csv.gz", ("more than 10,485,760 bytes once decompressed", "limits."))
        assert "max_uncompressed_bytes" in (r.error or "")
        assert not w.has_table("tx_pos")
    finally:
        w.close()


def test_a_file_of_too_many_rows_fails(tmp_path: Path) -> None:
    w = World(tmp_path, _config(max_rows=1000))
    try:
        r = w.load_tx("pos", "csv", POS_HEADER + (_pos(1) + b"\n") * 1000)
        check_failed(w, r, "pos_20260131.csv", ("more than 1,000 lines", "limits.max_rows"))
        r = w.load_tx("pos", "csv", POS_HEADER + (_pos(1) + b"\n") * 998)
        assert (r.status, r.rows_read) == (LOADED, 998)
    finally:
        w.close()


def test_a_last_line_without_a_line_end_counts_toward_max_rows(tmp_path: Path) -> None:
    """The header and 1,000 rows, the last without a final newline: 1,001 lines, over 1,000."""
    w = World(tmp_path, _config(max_rows=1000))
    try:
        r = w.load_tx("pos", "csv", POS_HEADER + (_pos(1) + b"\n") * 999 + _pos(1))
        check_failed(w, r, "pos_20260131.csv", ("more than 1,000 lines", "limits.max_rows"))
        r = w.load_tx("pos", "csv", POS_HEADER + (_pos(1) + b"\n") * 998 + _pos(1))
        assert (r.status, r.rows_read) == (LOADED, 999)
    finally:
        w.close()


def test_the_scan_finds_exactly_the_long_lines(tmp_path: Path) -> None:
    from pipeline.ingest.config import Limits
    from pipeline.ingest.sources.files import LandedFile

    path = tmp_path / "x_20260101.csv"
    body = b"a\n" + b"b" * 3000 + b"\r\n" + b"c" * 1024 + b"\n\n" + b"d" * 1025
    path.write_bytes(body)
    f = LandedFile(path, DAY, len(body), 0)
    found = scan(f, Limits(max_record_bytes=1024))
    assert found.long == ((2, 3002), (len(body) - 1025, len(body)))
    assert found.size == len(body)


def test_the_scan_counts_lines_only_where_max_rows_can_be_passed(tmp_path: Path) -> None:
    """A line holds a byte at least: a plain file of at most max_rows bytes is not counted; a larger
    one, or a gzip file, is, and fails past max_rows lines (LF, CRLF or CR ends)."""
    from pipeline.ingest.config import Limits
    from pipeline.ingest.read import IngestError
    from pipeline.ingest.sources.files import LandedFile

    def landed(name: str, body: bytes) -> LandedFile:
        path = tmp_path / name
        path.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
        return LandedFile(path, DAY, path.stat().st_size, 0)

    assert scan(landed("a_20260101.csv", b"a\nb\nc\n"), Limits(max_rows=6)).lines is None
    assert scan(landed("b_20260101.csv", b"a\nb\nc\n"), Limits(max_rows=5)).lines == 3
    assert scan(landed("c_20260101.csv.gz", b"a\nb\nc\n"), Limits(max_rows=6)).lines == 3
    # a last line without a line end is a line
    assert scan(landed("f_20260101.csv", b"a\nb\r\nc"), Limits(max_rows=3)).lines == 3
    assert scan(landed("g_20260101.csv.gz", b"a\rb\rc"), Limits(max_rows=6)).lines == 3
    for name, body in (
        ("d_20260101.csv", b"a\rb\rc\r"),
        ("e_20260101.csv.gz", b"a\nb\nc\n"),
        ("h_20260101.csv", b"a\nb\nc"),
        ("i_20260101.csv.gz", b"a\nb\nc"),
    ):
        with pytest.raises(IngestError, match="more than 2 lines"):
            scan(landed(name, body), Limits(max_rows=2))


def test_limits_are_checked_in_the_config(tmp_path: Path) -> None:
    config = _config(max_record_bytes=10)
    with pytest.raises(ConfigError) as e:
        parse_config(config, "x.yaml", tmp_path)
    assert "transactions[0].limits.max_record_bytes" in str(e.value)
    customers = parse_config(_config(max_rows=5), "x.yaml", tmp_path).customers
    assert customers is not None and customers.limits.max_rows == 5


def test_customer_json_is_checked_before_it_is_parsed_whole(world: World, monkeypatch) -> None:
    """A small .json.gz that decompresses past what may be parsed whole (256 MB; 8 MB here) fails
    on the streamed pass (it is never decompressed into memory), and a normal one still loads."""
    monkeypatch.setattr(customers, "JSON_DOCUMENT_BYTES", 8 << 20)
    path = world.folder / f"customers_{DAY:%Y%m%d}.json.gz"
    head = b'{"header": ["customuid", "txt_city"], "data": [["u1", "'
    _gzip_stream(path, iter([head, *[b"a" * (4 << 20)] * 3, b'"]]}']))
    assert path.stat().st_size < 256 << 10
    r = world.load_customers("json.gz", path.read_bytes())
    check_failed(world, r, path.name, ("read whole", "8,388,608 bytes", "as csv"))
    doc = b'{"header": ["customuid", "txt_city"], "data": [["u1", "Paris"], ["u2", "Lyon"]]}'
    r = world.load_customers("json.gz", gzip.compress(doc))
    check_load(world, r, LOADED, 2, 2, 0)


def test_duckdb_spills_beside_the_warehouse(world: World) -> None:
    from pipeline.core.warehouse import spill_folder

    (folder,) = world.con.execute("SELECT current_setting('temp_directory')").fetchone() or ("",)
    assert Path(folder) == spill_folder(world.warehouse)


def test_a_truncated_gzip_among_days_loaded_together_is_named_truncated_not_a_full_disk(world: World) -> None:
    spec = world.cfg.transaction("pos")
    rows = POS_HEADER + b"".join(_pos(i) + b"\n" for i in range(1, 5000))
    good, cut = gzip.compress(rows), gzip.compress(rows)[:-2000]
    days = [DAY - dt.timedelta(days=1), DAY]
    inputs = [
        (days[0], world.land("pos", "csv.gz", good, days[0])),
        (days[1], world.land("pos", "csv.gz", cut, days[1])),
    ]
    with connect(world.warehouse) as con:
        first, second = ingest_transactions(con, spec, "landing", inputs)
    assert first.status == LOADED
    check_failed(world, second, "pos_20260131.csv.gz", ("truncated or corrupt gzip",))
    assert "disk" not in (second.error or "")


def test_a_failed_run_does_not_end_on_failed_loads_0(tmp_path: Path) -> None:
    from pipeline.cli.project import summary

    missing = tmp_path / "nothing.duckdb"
    assert "wrote nothing" in summary(missing, ok=False)
    w = World(tmp_path)
    w.close()
    assert summary(w.warehouse, ok=True).endswith("Failed loads: 0")
    failed = summary(w.warehouse, ok=False)
    assert "Failed loads: 0; the run FAILED: its failed steps are listed above" in failed
