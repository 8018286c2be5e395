"""Several days loaded together (a backfill: pipeline.ingest.transactions.ingest_transactions) give each day
exactly what loading its file alone gives: the same partition, rejects (row numbers, fields,
reasons, raw text) and `loads` row; a file that cannot be read fails alone and keeps its partition.

The cases are the malformed-input corpus of test_ingest_malformed, each landed on its own day.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.transactions import _ingest_one, ingest_transactions
from pipeline.ingest.write import FAILED, LOADED
from tests.unit.ingest.malformed_corpus import PREVIOUS, World
from tests.unit.ingest.test_ingest_malformed import TX_CASES, TX_FAIL_CASES

FIRST = dt.date(2026, 1, 2)


def _on_day(data: bytes, day: dt.date) -> bytes:
    """The case's rows dated ``day`` instead of 2026-01-31 (in the three text forms the corpus uses)."""
    for old, fmt in ((b"01/31/2026", "%m/%d/%Y"), (b"2026-01-31", "%Y-%m-%d"), (b"2026/01/31", "%Y/%m/%d")):
        data = data.replace(old, day.strftime(fmt).encode())
    return data


def _snapshot(w: World, dataset: str, days: list[dt.date]) -> dict:
    """Everything a load leaves for these days, without the load ids and times."""
    table = w.cfg.transaction(dataset).table
    cols = [
        r[0]
        for r in w.q(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name <> '_load_id' ORDER BY column_name",
            [table],
        )
    ]
    rows = (
        w.q(
            f"SELECT {', '.join(cols)} FROM {table} WHERE list_contains(?, _partition_date) "
            "ORDER BY _partition_date, _row_number",
            [days],
        )
        if cols
        else []
    )
    rejects = w.q(
        "SELECT * EXCLUDE (load_id) FROM rejects WHERE dataset = ? AND list_contains(?, partition_date) "
        "ORDER BY partition_date, row_number",
        [dataset, days],
    )
    loads = w.q(
        "SELECT file, partition_date, status, rows_read, rows_loaded, rows_rejected, error FROM loads "
        "WHERE dataset = ? ORDER BY partition_date, load_id",
        [dataset],
    )
    return {"rows": rows, "rejects": rejects, "loads": loads}


DATASETS = sorted({c.dataset for c in TX_CASES + TX_FAIL_CASES})


@pytest.mark.parametrize("dataset", DATASETS)
def test_days_loaded_together_give_what_each_gives_alone(tmp_path: Path, dataset: str) -> None:
    cases = [c for c in TX_CASES + TX_FAIL_CASES if c.dataset == dataset]
    days = [FIRST + dt.timedelta(days=i) for i in range(len(cases))]
    spec_ext, previous = PREVIOUS[dataset]
    outcomes, snapshots = [], []
    for together in (True, False):
        w = World(tmp_path / ("together" if together else "alone"))
        try:
            spec = w.cfg.transaction(dataset)
            # every day has a partition already: a file that fails must leave it as it was
            before = [(d, w.land(spec.file_name, spec_ext, _on_day(previous, d), d)) for d in days]
            with connect(w.warehouse) as con:
                assert all(r.status == LOADED for r in ingest_transactions(con, spec, "landing", before))
            inputs = [
                (d, w.land(spec.file_name, c.ext, _on_day(c.data, d), d))
                for d, c in zip(days, cases, strict=True)
            ]
            with connect(w.warehouse) as con:
                if together:
                    results = ingest_transactions(con, spec, "landing", inputs)
                else:
                    results = [_ingest_one(con, spec, "landing", f, d) for d, f in inputs]
            # (an error may name the file's path: the two warehouses' folders differ)
            outcomes.append(
                [
                    (
                        r.partition_date,
                        r.file,
                        r.status,
                        r.rows_read,
                        r.rows_loaded,
                        r.rows_rejected,
                        r.rejects_by_field,
                        (r.error or "").replace(str(w.folder), "<folder>"),
                    )
                    for r in results
                ]
            )
            snap = _snapshot(w, dataset, days)
            snap["loads"] = [
                (*x[:-1], (x[-1] or "").replace(str(w.folder), "<folder>")) for x in snap["loads"]
            ]
            snapshots.append(snap)
            for r in results:
                assert r.rows_read == r.rows_loaded + r.rows_rejected
        finally:
            w.close()
    assert outcomes[0] == outcomes[1]
    assert snapshots[0] == snapshots[1]
    # the failing cases fail (alone), the others load
    failing = {c.id for c in TX_FAIL_CASES}
    assert [o[2] == FAILED for o in outcomes[0]] == [c.id in failing for c in cases]


def test_four_days_together_hand_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pos over four days in one call: a blank line and a row with a wrong column count on day 1,
    a file missing a column on day 2 (fails alone, its earlier partition kept), days 3 and 4 read
    together; the load ids follow the days."""
    import pipeline.ingest.transactions as ingest

    batches: list[list[dt.date]] = []
    real = ingest._ingest_batch

    def spy(con, spec, source, batch, guarded_files):
        batches.append([d for d, _ in batch])
        return real(con, spec, source, batch, guarded_files)

    monkeypatch.setattr(ingest, "_ingest_batch", spy)
    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("pos")
        d1, d2, d3, d4 = (dt.date(2026, 1, d) for d in (10, 11, 12, 13))
        header = b"order_id,customer_id,purchased_at,quantity,amount,store\n"
        old = w.land(spec.file_name, "csv", header + b"x1,c1,01/11/2026,1,1.00,S\n", d2)
        with connect(w.warehouse) as con:
            assert ingest_transactions(con, spec, "landing", [(d2, old)])[0].status == LOADED
        files = [
            (
                d1,
                w.land(
                    spec.file_name,
                    "csv",
                    header + b"a1,c1,01/10/2026,1,2.50,S\n\n"
                    b"a2,c2,01/10/2026,1,2,S,extra\n"
                    b"a3,c3,01/10/2026,ten,2,S\n"
                    b"a4,c4,01/10/2026,4,4,S\n",
                    d1,
                ),
            ),
            (
                d2,
                w.land(
                    spec.file_name,
                    "csv",
                    b"order_id,purchased_at,quantity,amount,store\nb1,01/11/2026,1,1,S\n",
                    d2,
                ),
            ),
            (
                d3,
                w.land(
                    spec.file_name, "csv", header + b"c1,c1,01/12/2026,3,3,S\nc2,c2,01/13/2026,1,1,S\n", d3
                ),
            ),
            (d4, w.land(spec.file_name, "csv", header + b"e1,c1,01/13/2026,1,1,S\n", d4)),
        ]
        batches.clear()
        with connect(w.warehouse) as con:
            r1, r2, r3, r4 = ingest_transactions(con, spec, "landing", files)
        assert batches == [[d1], [d3, d4]]  # day 2 goes through the one-file path
        assert r1.load_id < r2.load_id < r3.load_id < r4.load_id
        assert (r1.status, r1.rows_read, r1.rows_loaded, r1.rows_rejected) == (LOADED, 4, 2, 2)
        assert r1.rejects_by_field == {"columns": 1, "quantity": 1}
        assert (r2.status, r2.rows_read, r2.rows_loaded, r2.rows_rejected) == (FAILED, 0, 0, 0)
        assert "customer_id" in r2.error and "missing" in r2.error
        assert (r3.status, r3.rows_read, r3.rows_loaded, r3.rows_rejected) == (LOADED, 2, 1, 1)
        # row numbers as an editor shows them (the blank line is not a record)
        assert w.q(
            "SELECT _row_number, order_id, quantity FROM tx_pos WHERE _partition_date = ? ORDER BY 1", [d1]
        ) == [(1, "a1", 1), (4, "a4", 4)]
        assert w.q(
            "SELECT partition_date, row_number, field, reason, raw_row FROM rejects ORDER BY 1, 2"
        ) == [
            (
                d1,
                2,
                "columns",
                "columns: Expected Number of Columns: 6 Found: 7",
                "a2,c2,01/10/2026,1,2,S,extra",
            ),
            (
                d1,
                3,
                "quantity",
                "quantity: 'ten' is not an Int",
                '{"order_id":"a3","customer_id":"c3","purchased_at":"01/10/2026","quantity":"ten","amount":"2","store":"S"}',
            ),
            (
                d3,
                2,
                "purchased_at",
                "purchased_at: 2026-01-13 is outside the partition 2026-01-12",
                '{"order_id":"c2","customer_id":"c2","purchased_at":"01/13/2026","quantity":"1","amount":"1","store":"S"}',
            ),
        ]
        assert w.q("SELECT order_id FROM tx_pos WHERE _partition_date = ?", [d2]) == [("x1",)]  # kept
        assert w.q("SELECT order_id FROM tx_pos WHERE _partition_date = ?", [d3]) == [("c1",)]
        assert w.q("SELECT order_id FROM tx_pos WHERE _partition_date = ?", [d4]) == [("e1",)]
        loads = w.q(
            "SELECT partition_date, status, rows_read, rows_loaded, rows_rejected FROM loads "
            "WHERE load_id IN (?, ?, ?, ?) ORDER BY 1",
            [r.load_id for r in (r1, r2, r3, r4)],
        )
        assert loads == [
            (d1, LOADED, 4, 2, 2),
            (d2, FAILED, 0, 0, 0),
            (d3, LOADED, 2, 1, 1),
            (d4, LOADED, 1, 1, 0),
        ]
    finally:
        w.close()


def test_a_batch_numbers_the_records_of_a_file_with_a_blank_line_and_a_row_not_utf8(tmp_path: Path) -> None:
    """Two days read together; the second has a blank line and a row with a Latin-1 byte: the rows
    keep their record numbers (the blank line is not a record, the bad row is record 2)."""
    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("pos")
        d1, d2 = dt.date(2026, 1, 10), dt.date(2026, 1, 11)
        header = b"order_id,customer_id,purchased_at,quantity,amount,store\n"
        files = [
            (
                d1,
                w.land(
                    spec.file_name, "csv", header + b"a1,c1,01/10/2026,1,1,S\na2,c2,01/10/2026,1,1,S\n", d1
                ),
            ),
            (
                d2,
                w.land(
                    spec.file_name,
                    "csv",
                    header
                    + b"\nb1,c1,01/11/2026,1,1,S\nb2,c2,01/11/2026,1,1,Caf\xe9\nb3,c3,01/11/2026,1,1,S\n",
                    d2,
                ),
            ),
        ]
        with connect(w.warehouse) as con:
            r1, r2 = ingest_transactions(con, spec, "landing", files)
        assert (r2.rows_read, r2.rows_loaded, r2.rows_rejected) == (3, 2, 1)
        assert w.q("SELECT count(DISTINCT started_at) FROM loads") == [(1,)]  # (read together)
        assert w.q("SELECT partition_date, row_number, field, raw_row FROM rejects") == [
            (d2, 2, "encoding", "b2,c2,01/11/2026,1,1,Caf\ufffd")  # (each byte that is not UTF-8: a U+FFFD)
        ]
        assert w.q("SELECT _partition_date, _row_number, order_id FROM tx_pos ORDER BY 1, 2") == [
            (d1, 1, "a1"),
            (d1, 2, "a2"),
            (d2, 1, "b1"),
            (d2, 3, "b3"),
        ]
    finally:
        w.close()


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("alone", [False, True])
def test_a_file_with_a_blank_line_and_a_row_not_utf8_is_scanned_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gz: bool, alone: bool
) -> None:
    """The scan of the file's lines that reads the raw text of its row rejected for its bytes also
    finds its blank line (read.py, raw_lines.py): one scan of its bytes, in a batch and alone, with
    the same record numbers and raw text."""
    import pipeline.ingest.raw_lines as raw_lines
    import pipeline.ingest.read as read
    from pipeline.ingest.line_scan import scan_lines

    scanned: list[str] = []

    def counting(path: Path, *args, **kwargs):
        scanned.append(Path(path).name)
        return scan_lines(path, *args, **kwargs)

    monkeypatch.setattr(read, "scan_lines", counting)
    monkeypatch.setattr(raw_lines, "scan_lines", counting)
    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("pos")
        d = dt.date(2026, 1, 11)
        data = (
            b"order_id,customer_id,purchased_at,quantity,amount,store\n"
            b"\nb1,c1,01/11/2026,1,1,S\nb2,c2,01/11/2026,1,1,Caf\xe9\nb3,c3,01/11/2026,1,1,S\n"
        )
        f = w.land(spec.file_name, "csv.gz" if gz else "csv", gzip.compress(data) if gz else data, d)
        with connect(w.warehouse) as con:
            if alone:
                r = _ingest_one(con, spec, "landing", f, d)
            else:
                (r,) = ingest_transactions(con, spec, "landing", [(d, f)])
        assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
        assert w.q("SELECT partition_date, row_number, field, raw_row FROM rejects") == [
            (d, 2, "encoding", "b2,c2,01/11/2026,1,1,Caf\ufffd")
        ]
        assert w.q("SELECT _row_number, order_id FROM tx_pos ORDER BY 1") == [(1, "b1"), (3, "b3")]
        assert len(scanned) == 1, scanned
    finally:
        w.close()


def test_a_batch_that_fails_half_way_loads_each_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement of the batch failing after its temp tables exist: each file is then loaded alone."""
    import duckdb

    import pipeline.ingest.read as ingest
    from tests.unit.ingest.malformed_corpus import jl

    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("web")
        d1, d2 = dt.date(2026, 1, 30), dt.date(2026, 1, 31)
        inputs = [
            (
                d,
                w.land(
                    spec.file_name,
                    "jsonl",
                    jl({"session_id": f"s{d.day}", "customer_id": "c", "started_at": f"{d}T10:00:00Z"}),
                    d,
                ),
            )
            for d in (d1, d2)
        ]
        real = ingest.json_values
        batches = []

        def fail_in_batch(names, carry="", nested=None, lists=None):
            if carry:  # the batch path (the one-file path parses without carried columns)
                batches.append(carry)
                raise duckdb.InvalidInputException("injected failure")
            return real(names, carry, nested, lists)

        monkeypatch.setattr(ingest, "json_values", fail_in_batch)
        with connect(w.warehouse) as con:
            results = ingest_transactions(con, spec, "landing", inputs)
        assert batches == ["_file, "]
        assert [(r.status, r.rows_loaded, r.error) for r in results] == [(LOADED, 1, None), (LOADED, 1, None)]
        assert w.q("SELECT _partition_date, session_id FROM tx_web ORDER BY 1") == [(d1, "s30"), (d2, "s31")]
    finally:
        w.close()


def _web_line(day: dt.date, i: int, extra: str = "", page_views: str = "1") -> bytes:
    return (
        f'{{"session_id": "s{i}", "customer_id": "c{i}", "started_at": "{day}T09:00:00Z", '
        f'"page_views": {page_views}, "channel": "web{extra}"}}'
    ).encode()


def test_batches_prepared_while_the_one_before_loads_give_what_each_file_gives_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every day a batch of its own (the guard pass over a batch's files runs on a thread while the
    batch before it loads): rejects in every batch, a line over the record limit and NUL bytes (read
    again from the marked copies made while the batch before loaded), a gzip file over the size limit
    (it fails alone), a bad JSON line in the last."""
    import pipeline.ingest.transactions as ingest

    days = [dt.date(2026, 1, 10) + dt.timedelta(days=i) for i in range(7)]

    def body(k: int, day: dt.date) -> bytes:
        rows = [_web_line(day, 1), _web_line(day, 2, page_views='"two"'), _web_line(day, 3)]
        if k == 2:
            rows[2] = _web_line(day, 3, extra="x" * 3000)  # over max_record_bytes (2,048 here)
        if k == 3:
            rows[0] = rows[0].replace(b"web", b"w\x00eb")
        if k == 6:
            rows.append(b'{"session_id": "s4", "customer_id": ')
        return b"\n".join(rows) + b"\n"

    def landed(w: World) -> list[tuple[dt.date, LandedFile]]:
        spec = w.cfg.transaction("web")
        out = []
        for k, d in enumerate(days):
            if k == 4:  # 3 MB once decompressed: over max_uncompressed_bytes
                out.append((d, w.land(spec.file_name, "jsonl.gz", gzip.compress(b"\n" * (3 << 20)), d)))
            else:
                out.append((d, w.land(spec.file_name, "jsonl", body(k, d), d)))
        return out

    snapshots, outcomes = [], []
    for together in (True, False):
        w = World(tmp_path / ("together" if together else "alone"))
        try:
            spec = w.cfg.transaction("web")
            limits = spec.limits.model_copy(
                update={"max_record_bytes": 2048, "max_uncompressed_bytes": 1 << 20}
            )
            spec = spec.model_copy(update={"limits": limits})
            inputs = landed(w)
            batches: list[list[dt.date]] = []
            real = ingest._ingest_batch

            def spy(con, spec, source, batch, guard, batches=batches, real=real):
                batches.append([d for d, _ in batch])
                return real(con, spec, source, batch, guard)

            monkeypatch.setattr(ingest, "_ingest_batch", spy)
            monkeypatch.setattr(ingest, "BATCH_BYTES", 1)  # a batch per file
            with connect(w.warehouse) as con:
                if together:
                    results = ingest_transactions(con, spec, "landing", inputs)
                    assert batches == [[d] for d in days]
                else:
                    results = [_ingest_one(con, spec, "landing", f, d) for d, f in inputs]
            outcomes.append(
                [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.rejects_by_field) for r in results]
            )
            snapshots.append(_snapshot(w, "web", days))
        finally:
            w.close()
    assert outcomes[0] == outcomes[1]
    assert snapshots[0] == snapshots[1]
    by_day = dict(zip(days, outcomes[0], strict=True))
    assert by_day[days[2]][:4] == (LOADED, 3, 1, 2)  # the long line and the bad page_views
    assert by_day[days[4]][0] == FAILED
    assert by_day[days[6]][:4] == (LOADED, 4, 2, 2)
    reasons = [r[-3:-1] for r in snapshots[0]["rejects"]]
    assert ("row", "row: longer than 2048 bytes") in reasons
    assert sum(1 for field, _ in reasons if field == "page_views") == 6


def test_the_files_are_read_while_their_guard_pass_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard pass over a batch's plain files (which can then only find long lines or NUL bytes)
    runs on the worker thread while DuckDB reads them: here the pass waits for the read to start."""
    import threading

    import pipeline.ingest.limits as limits
    import pipeline.ingest.read as read

    read_started = threading.Event()
    real_scan, real_read = limits.scan, read.read_jsonl_batch

    def scan_after_the_read(*args, **kwargs):
        assert read_started.wait(60), "the files were not read before their guard pass ended"
        return real_scan(*args, **kwargs)

    def reading(*args, **kwargs):
        read_started.set()
        return real_read(*args, **kwargs)

    monkeypatch.setattr(limits, "scan", scan_after_the_read)
    monkeypatch.setattr("pipeline.ingest.transactions.read_jsonl_batch", reading)
    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("web")
        days = [dt.date(2026, 1, 10), dt.date(2026, 1, 11)]
        inputs = [(d, w.land(spec.file_name, "jsonl", _web_line(d, 1) + b"\n", d)) for d in days]
        with connect(w.warehouse) as con:
            results = ingest_transactions(con, spec, "landing", inputs)
        assert [(r.status, r.rows_loaded) for r in results] == [(LOADED, 1), (LOADED, 1)]
    finally:
        w.close()
