"""The report's experiment lifts are each variant's lift in the primary metric, one row per variant."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from pipeline.activation.publish import CURRENT, MANIFEST, SNAPSHOT
from pipeline.cli.findings import findings
from pipeline.core.sql import sql


def _report_row(con: duckdb.DuckDBPyConnection, variant: str, metric: str, lift: float | None) -> None:
    con.execute(
        "INSERT INTO experiment_report (experiment, variant, is_control, scope, from_date, to_date, "
        "presented, converted, in_progress, windows, metric, pre_converted, guardrail_failed, abs_lift, "
        "abs_lift_low, abs_lift_high) VALUES ('offer', ?, ?, 'total', DATE '2026-01-01', DATE '2026-01-05', "
        "100, 10, 0, 'complete windows only', ?, 0, false, ?, ? - 0.01, ? + 0.01)",
        [variant, variant == "control", metric, lift, lift, lift],
    )


def test_a_guardrails_rows_are_not_shown_as_the_variants_lift():
    con = duckdb.connect()
    con.execute(sql("experiments/create_experiment_report"))
    for metric, lift in (("primary", 0.05), ("unsubscribed", 0.002)):
        _report_row(con, "control", metric, None)
        _report_row(con, "a", metric, lift)
    both = {"capped_column": "capped", "comparison_column": "comparison"}
    lifts = con.execute(sql("activation/report/lifts", fragments=both)).df()
    # the guardrail's row was a second "offer / a" in the forest plot and the table (its lift: unsubscribes)
    assert lifts[["experiment", "variant", "abs_lift"]].values.tolist() == [["offer", "a", 0.05]]


def test_the_demo_findings_show_the_primary_lift_only(tmp_path):
    con = duckdb.connect()
    con.execute(sql("experiments/create_experiment_report"))
    for metric, lift in (("primary", 0.05), ("unsubscribed", 0.002)):
        _report_row(con, "control", metric, None)
        _report_row(con, "a", metric, lift)
    truth = tmp_path / "experiments.json"
    truth.write_text('{"experiments": {"offer": {"true_abs_lift": {"a": 0.04}}}}')
    assert findings(published(tmp_path, con), tmp_path).splitlines()[1:] == [
        "  offer/a: +0.050 [+0.040, +0.060] | true +0.040"
    ]


def published(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> Path:
    """A published folder whose current snapshot holds ``con``'s experiment_report."""
    folder = tmp_path / "published" / "versions" / "v1"
    folder.mkdir(parents=True)
    con.execute(f"ATTACH '{folder / SNAPSHOT}' AS snap")
    con.execute("CREATE TABLE snap.experiment_report AS SELECT * FROM experiment_report")
    con.execute("DETACH snap")
    tables = {"experiment_report": {"rows": 3, "partitioned_by": None}}
    manifest = {"version": "v1", "published_at": "2026-01-05T00:00:00", "tables": tables}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    os.symlink(Path("versions") / "v1", tmp_path / "published" / CURRENT)
    return tmp_path / "published"


def test_the_demo_findings_name_the_control_a_lift_is_against(tmp_path):
    """A learned policy's variant is compared with the control customers drawn the same variant, a
    uniform one's with the whole control group: the findings' lines did not say which (the report's
    `comparison`); a snapshot published before the report had the column shows none."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_experiment_report"))
    for variant, lift in (("control", None), ("a", 0.05), ("b", -0.02)):
        _report_row(con, variant, "primary", lift)
    con.execute(
        "UPDATE experiment_report SET comparison = CASE variant WHEN 'a' THEN 'matched control' "
        "WHEN 'b' THEN 'whole control' END"
    )
    truth = tmp_path / "experiments.json"
    truth.write_text('{"experiments": {"offer": {"true_abs_lift": {"a": 0.04, "b": 0.0}}}}')
    assert findings(published(tmp_path / "new", con), tmp_path).splitlines() == [
        "Lift in conversion rate (95% interval) | true lift:",
        "  offer/a vs matched control: +0.050 [+0.040, +0.060] | true +0.040",
        "  offer/b vs whole control: -0.020 [-0.030, -0.010] | true +0.000",
    ]
    con.execute("ALTER TABLE experiment_report DROP COLUMN comparison")
    old = findings(published(tmp_path / "old", con), tmp_path).splitlines()
    assert old[1] == "  offer/a: +0.050 [+0.040, +0.060] | true +0.040"


def test_the_lifts_table_shows_the_capped_and_the_control_compared_with():
    """The HTML report's table of lifts shows, beside `presented`, how many of them a capacity cut
    (sent nothing), and which control the lift is against; a snapshot published before the report had
    those columns shows them empty."""
    from pipeline.activation.report import _experiments
    from pipeline.core.plots import Figures

    con = duckdb.connect()
    con.execute(sql("experiments/create_experiment_report"))
    _report_row(con, "control", "primary", None)
    _report_row(con, "a", "primary", 0.05)
    con.execute("UPDATE experiment_report SET capped = 7, comparison = 'matched control' WHERE variant = 'a'")
    page = _experiments(con, Figures())
    assert "<th>capped</th>" in page and "<td>7</td>" in page and "<td>matched control</td>" in page
    con.execute("ALTER TABLE experiment_report DROP COLUMN capped")
    con.execute("ALTER TABLE experiment_report DROP COLUMN comparison")
    assert "<th>capped</th>" in _experiments(con, Figures())
