"""JSON lines: a plain line (an object with no array, no nested object and no place where a value
could start or end with a space) takes its extracted values as they are; every other line has its
arrays joined and its values trimmed one by one. Both give what the typing always gave: the same
file written compactly (plain lines) or with spaces after the separators (no plain line) loads the
same rows and rejects, and the values that need care (spaces at either end, a space written as an
escape, arrays, nested values) are trimmed, joined or rejected as before, mixed with plain lines in
one file."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from pipeline.core.warehouse import connect
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import DAY, World, check_load, check_rejects

ROWS = [
    {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31 10:00:00", "page_views": 3,
     "purchased": True, "revenue": 9.5, "channel": "Organic Search"},
    {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31 11:00:00", "page_views": "x",
     "purchased": False, "revenue": None, "channel": "Email"},  # bad Int
    {"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31 12:00:00", "page_views": None,
     "purchased": "yes", "revenue": "1.25", "channel": ""},  # an empty text is missing
    {"session_id": "s4", "customer_id": "c4", "started_at": "2026-02-01 00:00:00"},  # outside the partition
    {"customer_id": "c5", "started_at": "2026-01-31 13:00:00"},  # required field missing
]  # fmt: skip


def _lines(separators: tuple[str, str]) -> bytes:
    return b"".join(json.dumps(r, separators=separators).encode() + b"\n" for r in ROWS)


def _snapshot(w: World) -> tuple[list, list]:
    rows = w.q("SELECT * EXCLUDE (_load_id) FROM tx_web ORDER BY _row_number")
    rejects = w.q("SELECT row_number, field, reason FROM rejects WHERE dataset = 'web' ORDER BY row_number")
    return rows, rejects


def test_plain_and_spaced_lines_load_the_same(tmp_path: Path) -> None:
    got = []
    for i, separators in enumerate(((",", ":"), (", ", ": "))):
        w = World(tmp_path / str(i))
        try:
            r = w.load_tx("web", "jsonl", _lines(separators))
            check_load(w, r, LOADED, 5, 2, 3)
            check_rejects(
                w,
                r,
                {
                    2: ("page_views", ("'x' is not an Int",)),
                    4: ("started_at", ("outside the partition",)),
                    5: ("session_id", ("missing (required)",)),
                },
            )
            got.append(_snapshot(w))
        finally:
            w.close()
    assert got[0] == got[1]
    rows = got[0][0]
    assert [(x[0], x[1], x[3], x[4], x[5], x[6]) for x in rows] == [
        ("s1", "c1", 3, True, Decimal("9.5"), "Organic Search"),
        ("s3", "c3", None, True, Decimal("1.25"), None),
    ]


def _line(values: bytes, started_at: bytes = b"2026-01-31 10:00:00") -> bytes:
    return b'{"customer_id":"c",' + values + b',"started_at":"' + started_at + b'"}'


CAREFUL = [
    _line(b'"session_id":"p1","channel":"Email"'),  # plain
    _line(b'"session_id":" p2 ","channel":"Email "', b" 2026-01-31 10:00:00"),  # spaces at the ends
    _line(b'"session_id":"\\u0020p3","channel":"x\\u0020"'),  # escaped spaces
    _line(b'"session_id":"p4","channel":"\\u00a0Email"'),  # no space: kept
    _line(b'"session_id":"p5","channel":["Email"," Social "]'),  # an array
    _line(b'"session_id":"p6","channel":"Email","page_views":[1]'),  # not Int
    _line(b'"session_id":"p7","channel":{"a":1}'),  # nested value
    _line(b'"session_id":"p8","channel":"  "'),  # only spaces: missing
    _line(b'"session_id":"p9","channel":"a {b} [c]"'),  # brackets in text
]


def test_values_that_need_care_among_plain_lines(tmp_path: Path) -> None:
    w = World(tmp_path)
    try:
        r = w.load_tx("web", "jsonl", b"\n".join(CAREFUL) + b"\n")
        check_load(w, r, LOADED, 9, 7, 2)
        check_rejects(
            w,
            r,
            {
                6: ("page_views", ("not a single value",)),
                7: ("channel", ("not a single value",)),
            },
        )
        assert w.q("SELECT session_id, channel FROM tx_web ORDER BY _row_number") == [
            ("p1", "Email"),
            ("p2", "Email"),
            ("p3", "x"),
            ("p4", "\u00a0Email"),
            ("p5", "Email,  Social"),
            ("p8", None),
            ("p9", "a {b} [c]"),
        ]
        raw = w.q("SELECT raw_row FROM rejects WHERE load_id = ? ORDER BY row_number", [r.load_id])
        assert [x[0].encode() for x in raw] == [CAREFUL[5], CAREFUL[6]]
    finally:
        w.close()


def test_a_batch_of_days_types_them_as_one_file_does(tmp_path: Path) -> None:
    """The batch path (several days read together) gives each day what the one-file test above gets."""
    days = [DAY - dt.timedelta(days=1), DAY]
    w = World(tmp_path)
    try:
        spec = w.cfg.transaction("web")
        data = b"\n".join(CAREFUL) + b"\n"
        files = [
            w.land(spec.file_name, "jsonl", data.replace(b"2026-01-31", d.isoformat().encode()), d)
            for d in days
        ]
        with connect(w.warehouse) as con:
            results = ingest_transactions(con, spec, "landing", list(zip(days, files, strict=True)))
        assert [(x.rows_read, x.rows_loaded, x.rows_rejected) for x in results] == [(9, 7, 2)] * 2
        got = w.q(
            "SELECT _partition_date, session_id, channel FROM tx_web ORDER BY _partition_date, _row_number"
        )
        assert [(s, c) for d, s, c in got if d == DAY] == [(s, c) for d, s, c in got if d == days[0]]
        assert [c for d, _, c in got if d == DAY] == [
            "Email",
            "Email",
            "x",
            "\u00a0Email",
            "Email,  Social",
            None,
            "a {b} [c]",
        ]
    finally:
        w.close()


WHITESPACE = [
    b'{"customer_id":"c","session_id":\t" t1","channel":"Email","started_at":"2026-01-31 10:00:00"}',  # a tab
    b'{"customer_id":"c","session_id" :" t2","channel":"Email","started_at":"2026-01-31 10:00:00"}',
    b'{"customer_id":"c","session_id":"t3" ,"channel":"he said:\\" hi","started_at":"2026-01-31 10:00:00"}',
    b'{"customer_id":"c","session_id":"t4","channel":" x","started_at":"2026-01-31 10:00:00"}',
]


def test_a_value_starting_with_a_space_after_any_whitespace_is_trimmed(tmp_path: Path) -> None:
    """A value that starts with a space follows ':' directly, or a space or a tab after it: each is
    trimmed; a space after a value, or after an escaped quote inside one, changes no value."""
    w = World(tmp_path)
    try:
        r = w.load_tx("web", "jsonl", b"\n".join(WHITESPACE) + b"\n")
        check_load(w, r, LOADED, 4, 4, 0)
        assert w.q("SELECT session_id, channel FROM tx_web ORDER BY _row_number") == [
            ("t1", "Email"),
            ("t2", "Email"),
            ("t3", 'he said:" hi'),
            ("t4", "x"),
        ]
    finally:
        w.close()


def test_a_json_number_with_a_fraction_is_read_as_a_double_and_a_string_as_written(tmp_path: Path) -> None:
    """What the README says of Decimal values in JSON lines: a number with a fraction keeps 15 to 17
    significant digits (DuckDB's JSON reads it as a double); a string, or a whole number, is exact."""
    rows = [
        '{"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31 10:00:00", '
        '"revenue": 1234567890123.4567}',
        '{"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31 10:00:00", '
        '"revenue": 99999999999999.9999}',
        '{"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31 10:00:00", '
        '"revenue": "99999999999999.9999"}',
        '{"session_id": "s4", "customer_id": "c4", "started_at": "2026-01-31 10:00:00", '
        '"revenue": 99999999999999}',
    ]
    w = World(tmp_path)
    try:
        r = w.load_tx("web", "jsonl", "".join(x + "\n" for x in rows).encode())
        check_load(w, r, LOADED, 4, 3, 1)
        check_rejects(w, r, {2: ("revenue", ("'100000000000000.0' is not a Decimal",))})
        assert w.q("SELECT session_id, revenue FROM tx_web ORDER BY 1") == [
            ("s1", Decimal("1234567890123.4568")),
            ("s3", Decimal("99999999999999.9999")),
            ("s4", Decimal("99999999999999")),
        ]
    finally:
        w.close()
