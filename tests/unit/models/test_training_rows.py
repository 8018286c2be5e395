"""max_training_rows, max_held_out_rows: a seeded sample of a split's customers, each with all their rows."""

from __future__ import annotations

import numpy as np

from pipeline.models.config import ModelSpec
from pipeline.models.train import EVALUATION, TEST, TRAIN, UNUSED, capped, customer_split, cut, cut_customers


def test_the_training_split_is_cut_to_whole_customers_and_the_other_splits_stay():
    rng = np.random.default_rng(4)
    customers = np.array([f"C{i:04d}" for i in range(2000)])
    ids = np.repeat(customers, rng.integers(1, 30, size=len(customers)))  # 1-29 rows each
    split = rng.choice([TRAIN, EVALUATION, TEST], size=len(customers), p=[0.6, 0.2, 0.2])
    parts = split[np.searchsorted(customers, ids)]
    out = capped(parts, ids, 5000, seed=7)
    assert 4900 <= (out == TRAIN).sum() <= 5000 < (parts == TRAIN).sum()
    assert np.array_equal(out == UNUSED, (parts == TRAIN) & (out != TRAIN))
    assert np.array_equal(out[parts != TRAIN], parts[parts != TRAIN])  # evaluation and test whole
    for part in (TRAIN, UNUSED):  # a customer's rows are all kept or all left out
        kept = np.unique(ids[out == part])
        assert np.isin(ids, kept).sum() == (out == part).sum()
    assert np.array_equal(capped(parts, ids, 5000, seed=7), out)  # seeded
    assert not np.array_equal(capped(parts, ids, 5000, seed=8), out)
    assert capped(parts, ids, None, 7) is parts and capped(parts, ids, 10**6, 7) is parts


def test_every_split_is_cut_to_its_limit_the_same_from_the_rows_or_from_the_customer_list():
    rng = np.random.default_rng(5)
    customers = np.array([f"C{i:04d}" for i in range(3000)])
    rows = rng.integers(1, 30, size=len(customers))
    ids = np.repeat(customers, rows)
    spec = ModelSpec(
        name="r",
        type="recommender",
        label={"rules": [{"transaction": "pos"}]},
        item_field="product",
        max_training_rows=8000,
        max_held_out_rows=3000,
    )
    split, _, _ = customer_split(spec, customers, False)
    by_customer = cut_customers(split, rows, spec)
    out = cut(split[np.searchsorted(customers, ids)], ids, spec)
    assert np.array_equal(out, by_customer[np.searchsorted(customers, ids)])  # one decision, both ways
    assert 7900 <= (out == TRAIN).sum() <= 8000
    for part in (EVALUATION, TEST):
        assert 2900 <= (out == part).sum() <= 3000 < (split[np.searchsorted(customers, ids)] == part).sum()
    assert np.array_equal(split[by_customer != UNUSED], by_customer[by_customer != UNUSED])
    uncapped = spec.model_copy(update={"max_training_rows": None, "max_held_out_rows": None})
    assert cut_customers(split, rows, uncapped) is split
