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
    lifts = con.execute(sql("activation/report/lifts")).df()
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
