"""Holm and Benjamini-Hochberg corrections equal statsmodels' multipletests to 1e-12."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from pipeline.experiments.corrections import adjust

METHODS = {"holm": "holm", "bh": "fdr_bh"}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("seed", range(20))
def test_equal_to_statsmodels(method, seed, monkeypatch):
    # statsmodels' holm runs a full gc.collect() a call: a second in a process holding Dagster's
    # objects; the values do not depend on it
    monkeypatch.setattr(gc, "collect", lambda *_: 0)
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 12))
    # a mix of small and uniform p-values, with ties
    p = np.concatenate([rng.uniform(0, 0.05, m // 2), rng.uniform(0, 1, m - m // 2)])
    if m > 2:
        p[1] = p[0]
    ref = multipletests(p, alpha=0.05, method=METHODS[method])[1]
    assert adjust(list(p), method) == pytest.approx(list(ref), abs=1e-12)


def test_by_hand_and_nan_is_left_out():
    p = [0.01, float("nan"), 0.04, 0.03]
    holm = adjust(p, "holm")  # m = 3: 3 * .01, max(.03, 2 * .03), max(.06, 1 * .04)
    assert (
        holm[0] == pytest.approx(0.03) and holm[3] == pytest.approx(0.06) and holm[2] == pytest.approx(0.06)
    )
    assert math.isnan(holm[1])
    bh = adjust(p, "bh")  # .01 * 3 / 1, .03 * 3 / 2, .04 * 3 / 3
    assert (bh[0], bh[3], bh[2]) == pytest.approx((0.03, 0.04, 0.04))
    assert adjust(p, "none")[2] == 0.04
