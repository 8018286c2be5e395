"""The customer split is kept per customer: a champion's training customers are never in a challenger's
test split (pipeline/models/train.py, ``customer_draws``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy.special import expit

from pipeline.models import train, training
from pipeline.models.config import ModelSpec, SplitSpec
from pipeline.models.features import TrainingWindow
from pipeline.models.train import TEST
from pipeline.models.types import Prepared

SPEC = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "pos"}]})


def _fnv_fmix(text: str) -> float:
    """customer_draws' hash one id at a time, in plain Python integers (its definition)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    for shift, multiplier in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, 1)):
        h = ((h ^ (h >> shift)) * multiplier) % 2**64
    return (h >> 11) / 2**53


def _prepared(ids: np.ndarray, seed: int) -> Prepared:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(len(ids), 3)), columns=["a", "b", "c"])
    y = (rng.random(len(ids)) < expit(X["a"] - 0.5 * X["b"])).astype(np.int32)
    day = dt.date(2026, 3, 1) + dt.timedelta(days=seed)
    return Prepared(TrainingWindow(day, day, day, day, False), ids, X, y)


def test_no_champion_training_customer_is_in_the_challengers_test_split_when_customers_join_and_leave():
    """Two trainings a week apart on customer sets that differ by a few customers (12 joined, 5 left):
    the challenger is compared with the champion on the challenger's test customers, so none of
    them may be a customer the champion was fitted on (its training, early-stopping or calibration
    customers). A seeded permutation of the customer count put about 3 in 4 of them there."""
    rng = np.random.default_rng(11)
    everyone = np.array(sorted(f"C{v:07d}" for v in rng.choice(10**7, 1_217, replace=False)), dtype=object)
    old = np.sort(rng.choice(len(everyone), 1_205, replace=False))
    gone = rng.choice(old, 5, replace=False)
    champion_ids = everyone[old]
    challenger_ids = everyone[np.setdiff1d(np.arange(len(everyone)), gone)]
    champion = training.train(_prepared(champion_ids, 1), SPEC, draw=False)
    challenger = training.train(_prepared(challenger_ids, 8), SPEC, draw=False)
    fitted = set(champion_ids[~champion.test])
    tested = set(challenger_ids[challenger.test])
    assert len(tested) > 150
    assert not fitted & tested
    # and a customer in both keeps their side: the champion's test customers still there are tested
    assert set(champion_ids[champion.test]) & set(challenger_ids) <= tested


def test_the_draws_are_a_documented_hash_of_the_id_and_key_whatever_the_other_ids():
    ids = np.array(["C0000001", "C0000002", "kund-ö", "", "a longer customer id 123456789"], dtype=object)
    draws = train.customer_draws(ids, "7")
    assert draws.tolist() == [_fnv_fmix(f"7:{i}") for i in ids]
    # pinned: the same numbers on any machine and NumPy version, or every model's split moves
    assert draws[:2].tolist() == [0.8799771268013449, 0.8707740318951541]
    assert train.customer_draws(ids[1:3], "7").tolist() == draws[1:3].tolist()  # not a function of the others
    assert train.customer_draws(np.array(["C0000001", "C0000002"]), "7").tolist() == draws[:2].tolist()
    assert not np.array_equal(train.customer_draws(ids, "8"), draws)  # the seed draws anew


def test_the_split_keeps_the_configured_shares_within_sampling_and_in_order_without_shuffle():
    ids = np.array([f"C{i:06d}" for i in range(20_000)], dtype=object)
    shares = SplitSpec(train=0.5, evaluation=0.3, test=0.2)
    parts = train.split_customers(ids, shares, shuffle=True, seed=1)
    for part, share in (("train", 0.5), ("evaluation", 0.3), ("test", 0.2)):
        # three standard errors of a share over 20,000 customers: at most 0.011
        assert abs((parts == part).mean() - share) < 3 * np.sqrt(share * (1 - share) / len(ids))
    assert not (parts[:10_000] == "train").all()  # shuffled
    assert np.array_equal(parts, train.split_customers(ids, shares, True, 1))
    assert not np.array_equal(parts, train.split_customers(ids, shares, True, 2))
    held = train.split_customers(ids, shares, True, 1, calibration=True)
    for part in ("train", TEST):
        assert np.array_equal(parts == part, held == part)
    assert set(np.flatnonzero(held == "calibration")) < set(np.flatnonzero(parts == "evaluation"))
    assert abs((held == "calibration").mean() - 0.15) < 0.01
    ordered = train.split_customers(ids[:10], SplitSpec(), shuffle=False, seed=1)
    assert ordered.tolist() == ["train"] * 6 + ["evaluation"] * 2 + ["test"] * 2
