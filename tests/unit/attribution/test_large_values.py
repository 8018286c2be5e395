"""Conversion values near the limit of the exact DECIMAL(38, 18) sums: each value is under 1e20 (a Float
beyond counts as none), but a channel's day may add up to more, and its summary holds the sum."""

from __future__ import annotations

import pytest

from pipeline.attribution import credits as att_credits
from tests.unit.attribution.helpers import attribute, spec, summary, ts

MODELS = [{"name": "Spread", "modelType": "spread", "lookbackDays": 30}]


def _orders(values: list[float]) -> list[tuple]:
    """One customer per value: a Search visit the day before, an order worth the value, a Direct visit
    the day before that too (the spread model splits between them)."""
    rows = []
    for i, value in enumerate(values):
        rows += [
            (f"s{i}", f"c{i}", "visit", ts(-1), "Search", None),
            (f"d{i}", f"c{i}", "visit", ts(-2), "Direct", None),
            (f"o{i}", f"c{i}", "order", ts(0, 10 + i / 10), None, value),
        ]
    return rows


def test_a_channel_whose_day_adds_up_to_more_than_a_decimal_holds_is_summed():
    con = attribute(_orders([6e19, 7e19, 9.5e19]), spec(MODELS))
    assert summary(con, "Last Click") == {"Search": (3.0, pytest.approx(2.25e20, rel=1e-15))}
    spread = summary(con, "Spread")
    assert spread == {
        "Search": (1.5, pytest.approx(1.125e20, rel=1e-15)),
        "Direct": (1.5, pytest.approx(1.125e20, rel=1e-15)),
    }


def test_the_wide_sum_gives_the_bits_of_the_exact_sum(monkeypatch):
    values = [1 / 3, 2 / 3, 0.1, 1234567.891, 7.7e12]
    narrow = attribute(_orders(values), spec(MODELS)).execute(
        "SELECT * FROM attribution_summary ORDER BY ALL"
    )
    want = narrow.fetchall()
    monkeypatch.setattr(att_credits, "EXACT_SUM_LIMIT", 0.0)  # every day summed the wide way
    wide = attribute(_orders(values), spec(MODELS)).execute("SELECT * FROM attribution_summary ORDER BY ALL")
    assert wide.fetchall() == want
