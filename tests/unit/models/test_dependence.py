"""The binned summary of a dependence table (pipeline/models/dependence.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pipeline.models.dependence import summarise
from pipeline.models.plots import dependence_plot


def test_summary_bins_the_values_and_keeps_missing_ones_last() -> None:
    table = pd.DataFrame(
        {"value": [1.0, 2.0, 3.0, 4.0, np.nan, 4.0], "shap": [0.1, 0.3, -0.2, 0.4, 1.0, 0.2]}
    )
    got = summarise(table, bins=2)
    assert got["customers"].tolist() == [2, 3, 1]
    assert got["value_from"].tolist()[:2] == [1.0, 3.0] and got["value_to"].tolist()[:2] == [2.0, 4.0]
    assert np.allclose(got["mean_shap"], [0.2, 0.4 / 3, 1.0])
    assert np.isnan(got["value_from"].iloc[2])


def test_the_plot_without_a_secondary_feature_draws_one_colour_without_a_warning() -> None:
    # `nightjar explain --dependence F --plot P` without --secondary printed matplotlib's
    # "UserWarning: No data for colormapping provided via 'c'" (a colour map given for one colour)
    table = pd.DataFrame(
        {
            "feature": ["num_age"] * 3,
            "value": [20.0, 40.0, np.nan],
            "shap": [0.1, -0.2, 0.0],
            "secondary_feature": [None] * 3,
            "secondary_value": [np.nan] * 3,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = dependence_plot(table)
    assert image.startswith("![")
