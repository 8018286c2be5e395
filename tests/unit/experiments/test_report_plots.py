"""The report's plots: a forest plot with one row per variant and metric, a zero line and labelled
values; the cumulative lift plot only for experiments with several presentation dates, its axes
spanning those dates."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
from matplotlib.dates import num2date

from pipeline.core.plots import markdown_image
from pipeline.core.sql import sql
from pipeline.experiments.plots import forest_figure, forest_plot, lift_figure

FOREST = pd.DataFrame(
    [
        ("offer", "primary", "discount_10", 0.40, -0.10, 0.90),
        ("offer", "primary", "discount_20", 1.20, 0.50, 1.90),
        ("offer", "unsubscribed", "discount_10", 0.05, -0.20, 0.30),
        ("channel", "primary", "email", float("nan"), float("nan"), float("nan")),
    ],
    columns=["experiment", "metric", "variant", "rel_lift", "rel_lift_low", "rel_lift_high"],
)


def test_forest_plot_has_a_row_per_variant_and_metric_a_zero_line_and_labels():
    fig = forest_figure(FOREST)
    offer, channel = fig.axes
    assert [t.get_text() for t in offer.get_yticklabels()] == [
        "discount_10",
        "discount_20",
        "discount_10 · unsubscribed",
    ]
    assert list(offer.get_yticks()) == [2, 1, 0]  # the first row on top
    assert any(list(line.get_xdata()) == [0, 0] for line in offer.get_lines())  # the zero line
    labels = [t.get_text() for t in offer.texts]
    assert labels == ["+40.0% [-10.0, +90.0]", "+120.0% [+50.0, +190.0]", "+5.0% [-20.0, +30.0]"]
    assert [t.get_text() for t in channel.texts] == ["undefined"]
    low, high = offer.get_xlim()
    assert low < -10 and 190 < high < 400  # the axis spans the intervals, not thousands of percent


def lift_rows(dates: list[dt.date]) -> pd.DataFrame:
    return pd.DataFrame(
        [("offer", "discount_20", d, 0.5, 0.1, 0.9) for d in dates],
        columns=["experiment", "variant", "to_date", "rel_lift", "rel_lift_low", "rel_lift_high"],
    )


def test_lift_over_time_only_with_several_dates_and_its_axis_spans_them():
    day = dt.date(2026, 11, 28)
    assert lift_figure(lift_rows([day])) is None
    assert lift_figure(lift_rows([])) is None
    fig = lift_figure(lift_rows([day, day + dt.timedelta(days=1), day + dt.timedelta(days=2)]))
    assert fig is not None
    (ax,) = fig.axes
    low, high = (num2date(x).date() for x in ax.get_xlim())
    assert day - dt.timedelta(days=1) <= low and high <= day + dt.timedelta(days=3)
    assert -100 < ax.get_ylim()[0] and ax.get_ylim()[1] < 200


def _report(con: duckdb.DuckDBPyConnection) -> None:
    """A minimal experiment_report holding the columns the forest plot reads, from FOREST."""
    con.execute(
        "CREATE TABLE experiment_report (experiment VARCHAR, metric VARCHAR, variant VARCHAR, "
        "is_control BOOLEAN, scope VARCHAR, rel_lift DOUBLE, rel_lift_low DOUBLE, rel_lift_high DOUBLE, "
        "cuped_rel_lift DOUBLE, cuped_rel_lift_low DOUBLE, cuped_rel_lift_high DOUBLE)"
    )
    rows = [(*r[:3], False, "total", *r[3:], *r[3:]) for r in FOREST.values.tolist()]
    con.executemany("INSERT INTO experiment_report VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _drawn_anew(con: duckdb.DuckDBPyConnection) -> str:
    return markdown_image(forest_figure(con.execute(sql("experiments/forest_rows")).df()))


def test_the_forest_plot_is_drawn_again_only_when_its_rows_changed():
    con = duckdb.connect()
    _report(con)
    first = forest_plot(con)
    assert first == _drawn_anew(con) and first.startswith("![](data:image/png;base64,")
    # a report with the same rows shows the kept plot: marked, it comes back as it was kept
    con.execute("UPDATE built_experiment_plots SET markdown = 'kept'")
    assert forest_plot(con) == "kept"
    # a changed lift: drawn again, byte for byte what drawing it anew gives, and kept in place of the last
    con.execute("UPDATE experiment_report SET rel_lift = rel_lift + 0.01 WHERE variant = 'discount_20'")
    second = forest_plot(con)
    assert second not in ("kept", first) and second == _drawn_anew(con)
    assert con.execute("SELECT count(*), any_value(markdown) FROM built_experiment_plots").fetchall() == [
        (1, second)
    ]
