"""The report's plots: a forest plot with one row per variant and metric, a zero line and labelled
values; the cumulative lift plot only for experiments with several presentation dates, its axes
spanning those dates."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from matplotlib.dates import num2date

from pipeline.experiments.plots import forest_figure, lift_figure

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
