"""learned.numeric: the feature frames as float matrices, txt_* categories coded alike in both. The
codes of a text categorical are read from its categories (not row by row): they must equal coding
every row's text against the sorted texts of both frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.experiments.learned import numeric


def _by_rows(train: pd.DataFrame, score: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The reference: every row's value as text, looked up among the sorted distinct texts."""
    train = train.reindex(columns=score.columns)
    out = []
    for frame in (train, score):
        cols = []
        for c in score.columns:
            if c.startswith("txt_"):
                texts = set(train[c].dropna().astype(str)) | set(score[c].dropna().astype(str))
                codes = pd.Categorical(frame[c].astype(object), categories=sorted(texts)).codes
                cols.append(np.where(codes < 0, np.nan, codes.astype(float)))
            else:
                cols.append(pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float))
        out.append(np.column_stack(cols))
    return out[0], out[1]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cities = np.array(["Lyon", "Paris", "Nice", "Brest", "lyon"], dtype=object)
    city = pd.Series(rng.choice(cities, n), dtype=object).where(rng.random(n) > 0.2)
    # categories the rows do not use (kept by a reindex or a read-back frame) must get no code
    categories = [*cities, "Unused", "Zzz"]
    return pd.DataFrame(
        {
            "txt_city": pd.Categorical(city, categories=rng.permutation(categories)),
            "txt_tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
            "txt_plain": pd.Series(rng.choice(["a", "b", "c"], n), dtype=object),  # not a categorical
            "txt_number": pd.Categorical(rng.choice([1.5, 2.0, 3.25], n)),  # categories that are not text
            "txt_empty": pd.Categorical([None] * n, categories=["x"]),
            "num_age": rng.integers(18, 80, n).astype(float),
            "count_orders_7d": rng.poisson(1.0, n).astype(float),
        },
        index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_codes_equal_coding_every_rows_text(seed):
    rng = np.random.default_rng(seed)
    score = _frame(rng, 400)
    # the training rows: a reindex by logged customers, some unknown to the scoring frame (all NaN)
    train = score.reindex([*rng.choice(score.index, 150), "C_unknown"])
    got_train, got_score = numeric(train, score)
    want_train, want_score = _by_rows(train, score)
    np.testing.assert_array_equal(got_train, want_train)
    np.testing.assert_array_equal(got_score, want_score)
    only_train, none = numeric(train, score, score_matrix=False)
    np.testing.assert_array_equal(only_train, want_train)
    assert none.shape == (0, score.shape[1])
    # the cities' codes follow the sorted texts in use, whatever the categories' order
    city = score.columns.get_loc("txt_city")
    used = sorted(set(score["txt_city"].dropna()) | set(train["txt_city"].dropna()))
    assert np.nanmax(got_score[:, city]) == len(used) - 1
