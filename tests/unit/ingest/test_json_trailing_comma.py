"""JSON lines: a comma before a closing brace or bracket (`{"a": 1,}`), which DuckDB's parser takes,
is not JSON: the line is rejected with the problem Python's parser names, alone and in a batch. The
same characters inside a string are a value. A key given twice is read once, its first value."""

from __future__ import annotations

import datetime as dt
import json

from pipeline.core.warehouse import connect
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import DAY, PREV, World, check_load, check_rejects

START = '{"session_id": "s%d", "customer_id": "c%d", "started_at": "%sT09:00:00Z"'
LINES = [
    START + ', "channel": "web"}',
    START + ', "channel": "web",}',  # a trailing comma at the end
    START + ',"channel":"web" , }',  # with spaces
    START + ', "channel": ["a", "b",]}',  # in an array
    START + ', "extra": {"k": 1,}, "channel": "z"}',  # in a nested object, not at the end
    START + ', "channel": "a,}"}',  # in a string: a value
    START + ', "channel": ["x,]", "y"], "extra": {"k": "\\",}"}}',  # in strings of a line parsed again
    START + ', "channel": "first", "channel": "second"}',  # a key given twice
]
BAD = {2, 3, 4, 5}


def lines(day: dt.date) -> list[str]:
    return [line % (i, i, day.isoformat()) for i, line in enumerate(LINES, 1)]


def reasons(day: dt.date) -> dict[int, str]:
    """What Python's parser says of each bad line (the position within the line)."""
    out = {}
    for i in BAD:
        try:
            json.loads(lines(day)[i - 1])
        except json.JSONDecodeError as e:
            out[i] = f"json: the line is not valid JSON: {e.msg} at column {e.colno}"
    assert sorted(out) == sorted(BAD)
    return out


def test_a_trailing_comma_rejects_the_line(world: World) -> None:
    r = world.load_tx("web", "jsonl", "\n".join(lines(DAY)) + "\n")
    check_load(world, r, LOADED, 8, 4, 4)
    rows = check_rejects(world, r, {i: ("json", ("not valid JSON",)) for i in BAD})
    assert {n: reason for n, _, reason, _ in rows} == reasons(DAY)
    assert [(row[0], row[-1]) for row in world.partition("web")] == [
        (1, "web"),
        (6, "a,}"),
        (7, "x,], y"),
        (8, "first"),
    ]


def test_files_read_together_reject_it_too(world: World) -> None:
    spec = world.cfg.transaction("web")
    files = [(d, world.land("web", "jsonl", "\n".join(lines(d)) + "\n", d)) for d in (PREV, DAY)]
    with connect(world.warehouse) as con:
        results = ingest_transactions(con, spec, "landing", files)
    assert [(r.status, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        (LOADED, 8, 4, 4)
    ] * 2
    for day in (PREV, DAY):
        got = world.q("SELECT row_number, reason FROM rejects WHERE partition_date = ? ORDER BY 1", [day])
        assert dict(got) == reasons(day)
        assert [row[0] for row in world.partition("web", day)] == [1, 6, 7, 8]
