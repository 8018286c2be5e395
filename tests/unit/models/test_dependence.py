"""The binned summary of a dependence table (pipeline/models/dependence.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.models.dependence import summarise


def test_summary_bins_the_values_and_keeps_missing_ones_last() -> None:
    table = pd.DataFrame(
        {"value": [1.0, 2.0, 3.0, 4.0, np.nan, 4.0], "shap": [0.1, 0.3, -0.2, 0.4, 1.0, 0.2]}
    )
    got = summarise(table, bins=2)
    assert got["customers"].tolist() == [2, 3, 1]
    assert got["value_from"].tolist()[:2] == [1.0, 3.0] and got["value_to"].tolist()[:2] == [2.0, 4.0]
    assert np.allclose(got["mean_shap"], [0.2, 0.4 / 3, 1.0])
    assert np.isnan(got["value_from"].iloc[2])
