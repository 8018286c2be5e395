"""The report's experiment lifts are each variant's lift in the primary metric, one row per variant."""

from __future__ import annotations

import duckdb

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
    rows = con.execute(sql("activation/findings/lifts"), {"truth": str(truth)}).fetchall()
    assert [(e, v, lift, true) for e, v, lift, _, _, true in rows] == [("offer", "a", 0.05, 0.04)]


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
