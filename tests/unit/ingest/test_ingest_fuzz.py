"""Fuzz (hypothesis): random CSV and JSON-lines bytes within the limits never crash a load, and every
load keeps rows_read = rows_loaded + rows_rejected, with its `loads` row, its rejects and its
partition agreeing; a JSON-lines file counts every physical line that holds text, however long
(pipeline/ingest/limits.py, read.py). One warehouse serves every example (each load replaces the
day), and the record limit is small so that long lines come up often."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import limits
from pipeline.ingest.config import Limits
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.write import FAILED
from tests.unit.ingest.malformed_corpus import CONFIG, POS_HEADER, World

LIMIT = 1024
_config = copy.deepcopy(CONFIG)
for _t in _config["transactions"]:
    _t["limits"] = {"max_record_bytes": LIMIT}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("fuzz"), _config)
    yield w
    w.close()


_junk = st.binary(max_size=30)
_text = st.text(alphabet="abc019,;\"'{}[]:\\ \t\x00é\u2028", max_size=40).map(lambda s: s.encode())
_pos = st.tuples(
    st.integers(0, 99), st.sampled_from(["01/31/2026", "13/45/2026", ""]), st.text("1.5x", max_size=4)
)
_good_csv = _pos.map(lambda p: b"o%d,c%d,%s,1,%s,S" % (p[0], p[0], p[1].encode(), p[2].encode()))
_json = st.fixed_dictionaries(
    {"session_id": st.text("s1", max_size=3), "started_at": st.sampled_from(["2026-01-31T09:00:00Z", "x"])},
    optional={"customer_id": st.one_of(st.none(), st.text("c2", max_size=3), st.integers())},
).map(lambda d: repr(d).replace("'", '"').replace("None", "null").encode())
_long = st.integers(LIMIT - 8, LIMIT + 40).map(lambda n: b"y" * n)
_end = st.sampled_from([b"\n", b"\r\n", b"\r"])


def _file(lines: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.tuples(st.lists(lines, max_size=8), _end, st.booleans()).map(
        lambda t: t[1].join(t[0]) + (t[1] if t[2] else b"")
    )


def _check(w: World, dataset: str, ext: str, data: bytes) -> None:
    r = w.load_tx(dataset, ext, data)  # never raises
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    row = w.q(
        "SELECT status, rows_read, rows_loaded, rows_rejected FROM loads WHERE load_id = ?", [r.load_id]
    )
    assert row == [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected)]
    rejects = w.q("SELECT count(*) FROM rejects WHERE load_id = ?", [r.load_id])[0][0]
    assert rejects == r.rows_rejected
    if r.status != FAILED:
        assert len(w.partition(dataset)) == r.rows_loaded
    else:
        assert r.error and "\n" not in r.error


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_file(st.one_of(_good_csv, _junk, _text, _long)))
def test_random_csv_bytes_keep_the_accounting(shared: World, body: bytes) -> None:
    _check(shared, "pos", "csv", POS_HEADER + body)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_file(st.one_of(_json, _text, _long, _junk.filter(lambda b: b"\x1f" not in b))))
def test_random_json_lines_count_every_line_that_holds_text(shared: World, body: bytes) -> None:
    _check(shared, "web", "jsonl", body)
    r = shared.q("SELECT rows_read, status FROM loads ORDER BY load_id DESC LIMIT 1")[0]
    lines = re.split(rb"\r\n|\n|\r", body.replace(b"\x00", b""))
    if lines and lines[-1] == b"":
        lines.pop()
    texts = sum(1 for line in lines if line.strip(b" "))
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):  # a JSON array: the whole file fails, by design
        assert r == (0, FAILED)
    else:
        assert r == ((texts, "LOADED") if texts else (0, r[1]))


def _reference_long_lines(data: bytes, limit: int) -> tuple[tuple[int, int], ...]:
    """Every line's byte range, by a regex over the whole file, kept when longer than ``limit``."""
    return tuple((m.start(), m.end()) for m in re.finditer(rb"[^\r\n]*", data) if m.end() - m.start() > limit)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"bbbbbbbb", b"\n", b"\r", b"\r\n", b"\x00"]), max_size=80).map(
        b"".join
    )
)
def test_the_one_pass_scan_finds_the_long_lines_across_chunk_boundaries(data: bytes) -> None:
    small = Limits.model_construct(max_record_bytes=16, max_uncompressed_bytes=10**9, max_rows=10**9)
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(limits, "CHUNK", 24):  # chunks of 24 bytes
        path = Path(tmp) / "x_20260101.csv"
        path.write_bytes(data)
        found = limits.scan(LandedFile(path, dt.date(2026, 1, 1), len(data), 0), small)
    assert found.long == _reference_long_lines(data, 16)
    assert found.nul == (b"\x00" in data)
