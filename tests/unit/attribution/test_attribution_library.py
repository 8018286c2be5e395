"""Nightjar's attribution against an established open-source implementation on the same paths:
DP6's marketing-attribution-models (PyPI `marketing-attribution-models`, module `mam`; a dev dependency).

Every model it implements is compared per channel to 1e-9: first click, last click, linear
(Equally Weighted), position based (40/20/40), time decay (half-life), first-order Markov
(removal effects by the fundamental matrix) and Shapley (conversion rate of the channel set).
"""

from __future__ import annotations

import datetime as dt

import mam  # a dev dependency (pyproject's dev group): `make install` always installs it
import numpy as np
import pandas as pd
import pytest

from tests.unit.attribution.helpers import DAY, attribute, spec

CHANNELS = ["Search", "Email", "Display", "Direct"]
MODELS = {  # ours -> mam's
    "first": ({"modelType": "first"}, lambda m: m.run_first_click()),
    "last": ({"modelType": "last"}, lambda m: m.run_last_click()),
    "linear": ({"modelType": "spread"}, lambda m: m.run_linear()),
    "position": ({"modelType": "position"}, lambda m: m.run_position_based()),
    "time_decay": (
        {"modelType": "time_decay", "halfLifeDays": 2},
        lambda m: m.run_time_decay(half_life_hours=48),
    ),
    "markov": ({"modelType": "markov"}, lambda m: m.run_markov()),
    "shapley": ({"modelType": "shapley"}, lambda m: m.run_shapley(max_size=None)),
}


def journeys(seed: int, customers: int = 60):
    """Random journeys: 1..6 touches over the 20 days before a conversion at 23:00 (or no conversion)."""
    rng = np.random.default_rng(seed)
    conversion_at = dt.datetime.combine(DAY, dt.time(23))
    out = []
    for c in range(customers):
        n = int(rng.integers(1, 7))
        hours = np.sort(rng.choice(np.arange(1, 480), n, replace=False))[::-1]  # hours before the conversion
        path = [CHANNELS[i] for i in rng.choice(len(CHANNELS), n, p=[0.4, 0.3, 0.2, 0.1])]
        converts = bool(rng.random() < 0.6)
        value = float(rng.integers(100, 100_000)) / 100 if converts else 0.0
        out.append(
            (
                f"c{c:03d}",
                path,
                [conversion_at - dt.timedelta(hours=int(h)) for h in hours],
                [float(h) for h in hours],
                converts,
                value,
            )
        )
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_every_model_agrees_with_marketing_attribution_models_per_channel(seed):
    data = journeys(seed)
    rows = []
    for cust, path, times, _, converts, value in data:
        rows += [
            (f"{cust}:t{i}", cust, "visit", t, ch, None)
            for i, (ch, t) in enumerate(zip(path, times, strict=True))
        ]
        if converts:
            rows.append((f"{cust}:order", cust, "order", dt.datetime.combine(DAY, dt.time(23)), None, value))
    att = spec([{"name": name, "lookbackDays": 30, **cfg} for name, (cfg, _) in MODELS.items()])
    con = attribute(rows, att)
    ours = {
        (m, ch): v
        for m, ch, v in con.execute(
            "SELECT model, channel, value FROM attribution_summary WHERE model IN ?", [list(MODELS)]
        ).fetchall()
    }
    assert not any(ch == "(unattributed)" for _, ch in ours)

    frame = pd.DataFrame(
        {
            "journey_id": [d[0] for d in data],
            "path": [" > ".join(d[1]) for d in data],
            "time_till_end": [" > ".join(str(h) for h in d[3]) for d in data],
            "has_conversion": [d[4] for d in data],
            "value": [d[5] for d in data],
        }
    )
    model = mam.MAM(
        frame,
        format_type="journey",
        channels_colname="path",
        journey_with_conv_colname="has_conversion",
        user_id_colname="journey_id",
        time_till_conv_colname="time_till_end",
        conversion_value_colname="value",
    )
    compared = 0
    for name, (_, run) in MODELS.items():
        table = run(model).to_pandas()  # the per-channel totals
        for ch, v in zip(table["channels"].astype(str), table["attribution"], strict=True):
            assert abs(ours.get((name, ch), 0.0) - v) < 1e-9, (name, ch, ours.get((name, ch)), v)
            compared += 1
        assert sum(v for (m, _), v in ours.items() if m == name) == pytest.approx(
            frame["value"].sum(), abs=1e-9
        )
    assert compared >= len(MODELS) * 3
