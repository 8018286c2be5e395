"""Customer files applied together (customer_batch.py) give exactly what applying them one by one gives:
the same customers (rows, first and last days, their load's file, their order), loads and rejects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.customer_batch import ingest_customer_files
from pipeline.ingest.customers import files_to_apply, ingest_customers
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.sources.local_files import list_files
from tests.unit.ingest.malformed_corpus import (
    CUSTOMERS_BASE,
    CUSTOMERS_HEADER,
    LATIN1_CUSTOMERS,
    World,
    epoch,
)

FIRST = dt.date(2026, 1, 28)
CITIES = ["Paris", "Lyon", " Nice ", "", "Metz"]
AGES = ["30", "41", "x", "", "2e1", " 7 "]


def _random_file(rng: np.random.Generator) -> bytes:
    """A customer CSV over a small pool of customers (so files overlap and repeat customers), with
    bad values, customers repeated within the file, missing ids and a ragged row now and then."""
    lines = []
    for _ in range(int(rng.integers(0, 9))):  # a few rows of test data
        uid = "" if rng.random() < 0.08 else f"u{rng.integers(1, 10)}"
        row = [
            uid,
            CITIES[rng.integers(len(CITIES))],
            AGES[rng.integers(len(AGES))],
            '"golf, chess"' if rng.random() < 0.3 else "",
            ["1", "0", "", "maybe"][rng.integers(4)],
            [str(epoch(2026, 1, 29, 12)), "0", "", "soon"][rng.integers(4)],
        ]
        if rng.random() < 0.05:
            row = row[:3]  # too few columns: rejected by the reader
        lines.append(",".join(row))
    return CUSTOMERS_HEADER + "".join(x + "\n" for x in lines).encode()


def _corpus(seed: int) -> list[bytes | tuple[str, bytes]]:
    """The files of consecutive days: the base data set, random files, and files that cannot go with the
    others (JSON, another header, bytes that are not UTF-8, an empty file) between them."""
    rng = np.random.default_rng(seed)
    files: list[bytes | tuple[str, bytes]] = [CUSTOMERS_BASE]
    files += [_random_file(rng) for _ in range(4)]
    files.append(("json", b'{"header": ["customuid", "txt_city"], "data": [["u1", "Rome"]]}'))  # fails
    files += [_random_file(rng) for _ in range(3)]
    files.append(b"customuid,txt_city\nu2,Oslo\n")  # another header: fails in mode update
    files += [_random_file(rng), LATIN1_CUSTOMERS, _random_file(rng), b"", _random_file(rng)]
    files.append(CUSTOMERS_HEADER)  # header only
    return files


def _land(w: World, corpus: list[bytes | tuple[str, bytes]]) -> list[LandedFile]:
    out = []
    for i, item in enumerate(corpus):
        ext, data = item if isinstance(item, tuple) else ("csv", item)
        out.append(w.land("customers", ext, data, FIRST + dt.timedelta(days=i)))
    return out


def _state(w: World) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """customers (in their order, with their load's file instead of its id), loads and rejects."""
    customers = w.q(
        "SELECT c.* EXCLUDE (_load_id), l.file FROM customers c JOIN loads l ON l.load_id = c._load_id "
        "ORDER BY c.rowid"
    )
    loads = w.q(
        "SELECT file, partition_date, status, rows_read, rows_loaded, rows_rejected, error FROM loads "
        "WHERE dataset = 'customers' ORDER BY file"
    )
    rejects = w.q(
        "SELECT r.file, r.partition_date, r.row_number, r.field, r.reason, r.raw_row, l.file "
        "FROM rejects r JOIN loads l USING (load_id) ORDER BY r.file, r.row_number"
    )
    return customers, loads, rejects


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_customer_files_together_give_what_each_gives_alone(tmp_path: Path, seed: int) -> None:
    corpus = _corpus(seed)
    alone, together = World(tmp_path / "alone"), World(tmp_path / "together")
    try:
        spec = alone.cfg.customers
        assert spec is not None
        files = _land(alone, corpus)
        with connect(alone.warehouse) as con:
            one_by_one = [ingest_customers(con, spec, "landing", f) for f in files]
        with connect(together.warehouse) as con:
            batched = ingest_customer_files(con, spec, "landing", _land(together, corpus))
        assert [(r.file, r.status, r.rows_read, r.rows_rejected) for r in batched] == [
            (r.file, r.status, r.rows_read, r.rows_rejected) for r in one_by_one
        ]
        assert _state(together) == _state(alone)
        assert sum(r.rows_rejected for r in batched) > 0
        assert len(together.q("SELECT * FROM customers")) > 2
        # the runs of CSV files between the files that cannot go with them were applied together
        started = together.q(
            "SELECT count(DISTINCT started_at) FROM loads WHERE dataset = 'customers' AND status <> 'FAILED'"
        )[0][0]
        # (the base file alone, then four runs: 13 loads that are not FAILED at 5 times at most)
        assert len([r for r in batched if r.status != "FAILED"]) == 13
        assert started <= 5
    finally:
        alone.close()
        together.close()


def test_a_customer_seen_before_keeps_its_first_day(tmp_path: Path) -> None:
    w = World(tmp_path)
    try:
        spec = w.cfg.customers
        assert spec is not None
        corpus: list[bytes | tuple[str, bytes]] = [
            CUSTOMERS_BASE,  # p1, p2 on the first day
            CUSTOMERS_HEADER + b"n1,Rome,20,,,\np1,Nice,31,,,\n",
            CUSTOMERS_HEADER + b"n1,Oslo,21,,,\nn2,Bern,22,,,\nn2,Bern,23,,,\n",
        ]
        with connect(w.warehouse) as con:
            ingest_customer_files(con, spec, "landing", _land(w, corpus))
        rows = w.q(
            "SELECT customuid, txt_city, num_age, _first_seen_at, _updated_at FROM customers "
            "ORDER BY customuid"
        )
        day = [FIRST + dt.timedelta(days=i) for i in range(3)]
        assert rows == [
            ("n1", "Oslo", 21.0, day[1], day[2]),
            ("n2", "Bern", 22.0, day[2], day[2]),
            ("p1", "Nice", 31.0, day[0], day[1]),
            ("p2", "Lyon", 40.0, day[0], day[0]),
        ]
        assert w.q("SELECT file, row_number, field FROM rejects") == [
            (f"customers_{day[2]:%Y%m%d}.csv", 3, "customuid")
        ]
    finally:
        w.close()


def test_a_rejected_row_does_not_make_the_next_row_of_its_customer_a_duplicate(tmp_path: Path) -> None:
    """In files applied together, n1's first row is rejected for its age: its second row is applied."""
    w = World(tmp_path)
    try:
        spec = w.cfg.customers
        assert spec is not None
        corpus: list[bytes | tuple[str, bytes]] = [
            CUSTOMERS_BASE,
            CUSTOMERS_HEADER + b"n2,Bern,22,,,\n",
            CUSTOMERS_HEADER + b"n1,Rome,old,,,\nn1,Oslo,21,,,\n",
        ]
        with connect(w.warehouse) as con:
            results = ingest_customer_files(con, spec, "landing", _land(w, corpus))
        assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in results[1:]] == [(1, 1, 0), (2, 1, 1)]
        assert w.q("SELECT txt_city FROM customers WHERE customuid = 'n1'") == [("Oslo",)]
        assert w.q("SELECT row_number, field FROM rejects") == [(1, "num_age")]
        assert w.q("SELECT count(DISTINCT started_at) FROM loads") == [(2,)]  # the last two together
    finally:
        w.close()


@pytest.mark.parametrize("mode", ["update", "overwrite"])
@pytest.mark.parametrize("together", [True, False], ids=["together", "alone"])
def test_a_late_file_for_an_earlier_day_gives_its_customers_that_first_day(
    tmp_path: Path, mode: str, together: bool
) -> None:
    """The files of days 1, 4 and 5 applied, then a late file of day 3 arrives: it and the later files
    are applied again in date order, and z, first held by the day-3 file, was first seen on day 3 (as
    applying the files in date order from the start gives), not on day 4."""
    w = World(tmp_path)
    try:
        spec = w.cfg.customers
        assert spec is not None
        spec = spec.model_copy(update={"mode": mode})
        day = [FIRST + dt.timedelta(days=i) for i in range(5)]

        def run() -> None:
            with connect(w.warehouse) as con:
                files = files_to_apply(con, "customers", list_files(w.folder, "customers"))
                if together:
                    ingest_customer_files(con, spec, "landing", files)
                else:
                    for f in files:
                        ingest_customers(con, spec, "landing", f)

        both = CUSTOMERS_HEADER + b"a,Paris,30,,,\nz,Rome,20,,,\n"
        w.land("customers", "csv", CUSTOMERS_HEADER + b"a,Paris,30,,,\n", day[0])
        w.land("customers", "csv", both, day[3])
        w.land("customers", "csv", both, day[4])
        run()
        w.land("customers", "csv", both, day[2])  # late
        run()
        assert w.q("SELECT customuid, _first_seen_at, _updated_at FROM customers ORDER BY 1") == [
            ("a", day[0], day[4]),
            ("z", day[2], day[4]),
        ]
    finally:
        w.close()
