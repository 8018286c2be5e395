"""`write_report`: the page replaced whole, even when another writer writes the same folder meanwhile."""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import pytest

import pipeline.activation.report as report_module
from pipeline.activation.publish import publish
from pipeline.activation.report import FIGURES, INDEX, write_report
from pipeline.core.sql import sql
from pipeline.core.warehouse import published_folder


def published(tmp_path):
    """The published folder of an empty warehouse's snapshot."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
    return published_folder(warehouse)


def test_two_writers_of_one_folder_never_take_each_others_page(tmp_path, monkeypatch: pytest.MonkeyPatch):
    # both staged the page as reports/.index.html.partial: the `report` asset and `nightjar report --out`
    # at once, one moved the other's page into place and the other failed with FileNotFoundError
    root, out = published(tmp_path), tmp_path / "reports"
    replace, others = os.replace, []

    def another_writer_first(src, dst):  # the other writer runs whole between this one's write and rename
        if not others:
            others.append(None)
            others[0] = write_report(root, out)
        replace(src, dst)

    monkeypatch.setattr(report_module.os, "replace", another_writer_first)
    page = write_report(root, out)
    monkeypatch.undo()
    assert others == [page] == [out / INDEX]
    assert page.read_text().startswith("<!DOCTYPE html>") and page.read_text().endswith("</html>\n")
    assert sorted(p.name for p in out.iterdir()) == sorted([INDEX, FIGURES])  # nothing staged is left


def test_a_page_staged_by_a_killed_writer_is_removed_by_a_later_write(tmp_path):
    # a writer killed between its write and its rename left reports/.index.html.partial-<hex> for ever
    root, out = published(tmp_path), tmp_path / "reports"
    out.mkdir()
    left = [out / f".{INDEX}.partial-0badf00d", out / f".{FIGURES}.partial-0badf00d"]
    at_work = out / f".{INDEX}.partial-c0ffee00"  # another writer's, staged a moment ago: kept
    for p in [*left, at_work]:
        p.write_text("half a page")
    old = os.stat(at_work).st_mtime - 2 * 86_400  # two days: a writer stages for seconds
    for p in left:
        os.utime(p, (old, old))
    write_report(root, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([INDEX, FIGURES, at_work.name])


def test_a_dollar_in_a_channel_name_is_text_not_a_formula(tmp_path):
    # a channel is named by the events' own data: one holding two dollar signs was parsed as a TeX
    # formula by matplotlib, and "Buy $5_off_a_b$" ("Double subscript") failed the report every night
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        con.execute(sql("attribution/create_tables"))
        con.execute(
            "INSERT INTO attribution_summary (date, model, conversion, channel, conversions, value) VALUES "
            "('2026-01-08', 'Last Touch', 'order', 'Buy $5_off_a_b$', 1, 10), "
            "('2026-01-08', 'Last Touch', 'order', 'Email', 2, 20)"
        )
        publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
    page = write_report(published_folder(warehouse), tmp_path / "reports").read_text()
    assert 'alt="attribution"' in page
