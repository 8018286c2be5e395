"""CSV exports over a small hand-made warehouse: what the file holds and that it is counted back."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from pipeline.activation.exports import write_export
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from tests.conftest import make_config

DAY = dt.date(2026, 1, 9)


@pytest.fixture
def config(tmp_path: Path):
    config = make_config(tmp_path)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
    return config


def add_results(config, rows: int, reason: str = "'r'", send_at: str = "NULL") -> None:
    """``rows`` results of DAY (customers C0, C1, ...), each with the SQL expressions ``reason`` and
    ``send_at`` (over ``i``, the row's number)."""
    with connect(config.warehouse_path) as con:
        con.execute(
            "INSERT INTO results "
            "(date, customer_id, experiment, variant, is_control, score, reason, send_at) "
            f"SELECT $day, 'C' || i, 'offer', 'discount_10', false, 0.5, {reason}, {send_at} "
            "FROM range($rows) t(i)",
            {"day": DAY, "rows": rows},
        )


def export_csv(config, path: Path, columns: list[str] | None = None) -> int:
    with connect(config.warehouse_path, read_only=True) as con:
        return write_export(con, config, "results", DAY, path, "csv", columns)


def test_text_with_line_breaks_is_counted_back_beyond_the_readers_first_block(config, tmp_path: Path):
    # 20,000 rows with two-line reasons make a 1.8 MB file: the row count read it in 1 MB blocks, split
    # a quoted value at a block's end and failed the export
    add_results(config, 20_000, reason="'the first line of the reason' || chr(10) || 'the second line ' || i")
    path = tmp_path / "results.csv"
    assert export_csv(config, path) == 20_000
    assert path.stat().st_size > 1 << 20
    with path.open(newline="") as f:
        reasons = {row["customer_id"]: row["reason"] for row in csv.DictReader(f)}
    assert len(reasons) == 20_000
    assert reasons["C19999"] == "the first line of the reason\nthe second line 19999"


def test_timestamps_are_written_as_json_lines_writes_them_whatever_the_night(config, tmp_path: Path):
    # a night whose every send_at is at midnight was written as dates (2026-01-10), and a fraction of a
    # second on one value gave every value of the column six digits
    add_results(config, 2, send_at="$day + INTERVAL 1 DAY")
    path = tmp_path / "midnight.csv"
    export_csv(config, path, ["customer_id", "send_at"])
    assert path.read_text().splitlines() == [
        "customer_id,send_at",
        "C0,2026-01-10 00:00:00",
        "C1,2026-01-10 00:00:00",
    ]
    with connect(config.warehouse_path) as con:
        con.execute(
            "UPDATE results SET send_at = send_at + INTERVAL 250 MILLISECOND WHERE customer_id = 'C1'"
        )
        lines = tmp_path / "fraction.jsonl"
        write_export(con, config, "results", DAY, lines, "jsonl", ["customer_id", "send_at"])
    path = tmp_path / "fraction.csv"
    export_csv(config, path, ["customer_id", "send_at"])
    written = ["C0,2026-01-10 00:00:00", "C1,2026-01-10 00:00:00.25"]
    assert path.read_text().splitlines()[1:] == written
    assert [json.loads(line)["send_at"] for line in lines.read_text().splitlines()] == [
        w.split(",")[1] for w in written
    ]


def test_floats_are_written_in_full(config, tmp_path: Path):
    # six significant digits wrote a credited value of 2500000.5 as 2.5e+06: the cents were lost
    with connect(config.warehouse_path) as con:
        con.execute(sql("attribution/create_tables"))
        con.execute(
            "INSERT INTO attribution_credits (_partition_date, conversion, conversion_id, customer_id, "
            "model, model_type, touch_id, channel, touched_at, converted_at, conversion_value, "
            "credit_share, credited_value, touches) VALUES ($day, 'order', 'o1', 'C1', 'Spread', 'spread', "
            "'t1', 'Search', $day, $day + INTERVAL 1 HOUR, 7500001.5, 1 / 3, 2500000.5, 1)",
            {"day": DAY},
        )
        path = tmp_path / "credits.csv"
        columns = ["conversion_value", "credit_share", "credited_value"]
        write_export(con, config, "attribution", DAY, path, "csv", columns)
    with path.open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert row == {
        "conversion_value": "7500001.5",
        "credit_share": "0.3333333333333333",
        "credited_value": "2500000.5",
    }
    assert float(row["credit_share"]) == 1 / 3


def test_a_carriage_return_is_quoted_and_a_list_is_its_json_array(config, tmp_path: Path):
    # pandas left a lone carriage return unquoted (the count read it as a row break and failed every
    # export), and wrote a recommender's items as numpy's text (['P1' 'P2']): DuckDB's writer quotes
    # the one and the list is written as JSON lines writes it
    add_results(config, 2, reason="'a' || chr(13) || 'b'")
    path = tmp_path / "cr.csv"
    assert export_csv(config, path, ["customer_id", "reason"]) == 2
    with path.open(newline="") as f:
        assert [row["reason"] for row in csv.DictReader(f)] == ["a\rb", "a\rb"]
    with connect(config.warehouse_path) as con:
        con.execute(sql("models/create"))
        con.execute(
            "INSERT INTO predictions VALUES ($day, 'C1', 'rec', $day, 0.9, ['P1', 'P,2']), "
            "($day, 'C2', 'rec', $day, 0.8, [])",
            {"day": DAY},
        )
        path, lines = tmp_path / "items.csv", tmp_path / "items.jsonl"
        write_export(con, config, "recommendations", DAY, path, "csv", ["customer_id", "items"])
        write_export(con, config, "recommendations", DAY, lines, "jsonl", ["customer_id", "items"])
    with path.open(newline="") as f:
        items = [json.loads(row["items"]) for row in csv.DictReader(f)]
    assert items == [["P1", "P,2"], []]
    assert items == [json.loads(line)["items"] for line in lines.read_text().splitlines()]


def test_a_one_column_export_with_empty_values_is_counted_back_whole(config, tmp_path: Path):
    # a control row has no variant code: DuckDB writes its one-column row as an empty line, which the
    # count-back skipped: `--columns code` failed every night with control ("2 rows written, 4 expected")
    add_results(config, 4)
    with connect(config.warehouse_path) as con:
        con.execute(
            "UPDATE results SET variant = 'control', is_control = true WHERE customer_id IN ('C0', 'C2')"
        )
    path = tmp_path / "codes.csv"
    assert export_csv(config, path, ["code"]) == 4
    assert path.read_text().split("\n") == ["code", "", "D10", "", "D10", ""]
    with connect(config.warehouse_path, read_only=True) as con:  # DuckDB reads the empty values back
        assert con.execute("SELECT count(*), count(code) FROM read_csv($p)", {"p": str(path)}).fetchall() == [
            (4, 2)
        ]
