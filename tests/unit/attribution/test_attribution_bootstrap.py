"""Bootstrap intervals of every model's credits per channel: a replicate drawing each conversion once is
the day's summary (every model, the data-driven ones learning again), the intervals cover the truth at
their level over many simulated worlds, and a day's intervals are reproducible."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from pipeline.attribution.bootstrap import percentile_interval, resample_counts
from pipeline.attribution.credits import _learn, compute_credits
from pipeline.attribution.intervals import day_conversions, replicate_totals
from pipeline.attribution.models import all_models
from pipeline.attribution.touches import is_data_driven
from tests.conftest import example_dict
from tests.unit.attribution.helpers import DAY, attribute, spec, ts
from tests.unit.attribution.test_attribution_config import problems_of
from tests.unit.attribution.test_attribution_markov import _simulated_paths

MODELS = [
    {"name": "M", "modelType": "markov"},
    {"name": "MT", "modelType": "markov", "allocation": "total"},
    {"name": "M2", "modelType": "markov", "order": 2, "lookbackDays": 3},
    {"name": "S", "modelType": "shapley"},
    {"name": "P", "modelType": "position", "channelsMode": "exclude", "channels": ["Direct"]},
]
SUMMARY = """SELECT model, conversion, channel, conversions, value, conversions_lower, conversions_upper,
                    value_lower, value_upper FROM attribution_summary ORDER BY ALL"""


def _events(seed: int, n: int = 300) -> list[tuple]:
    """Simulated customers over four channels; the converters buy an order (worth 10..16) or a
    subscription (worth 5), so the day has two conversion sources."""
    rng = np.random.default_rng(seed)
    journeys, converted = _simulated_paths(rng, n, channels=("Search", "Email", "Display", "Direct"))
    rows = []
    for i, (journey, conv) in enumerate(zip(journeys, converted, strict=True)):
        rows += [
            (f"v{i}-{k}", f"c{i}", "visit", ts(k - len(journey), 8), ch, None, None)
            for k, ch in enumerate(journey)
        ]
        if conv or i % 9 == 0:
            kind, value = ("order", 10 + i % 7) if i % 2 else ("subscription", 5)
            rows.append((f"o{i}", f"c{i}", kind, ts(0, 20), None, value, None))
    return rows


def _spec(**changes):
    conversions = [{"name": "order", "type": "order"}, {"name": "subscription", "type": "subscription"}]
    return spec(MODELS, conversions=conversions, **changes)


@pytest.fixture(scope="module")
def world():
    att = _spec()
    rows = _events(3)
    return att, rows, attribute(rows, att)


def test_a_replicate_drawing_each_conversion_once_is_the_days_summary(world):
    att, _, con = world
    models = all_models(att)
    compute_credits(con, att, models, DAY)  # the day's credits per touch (_att_credits), as the asset
    paths = _learn(con, [m for m in models if is_data_driven(m)], DAY, keep=True).get(DAY, {})
    conversions = day_conversions(con)
    ones = np.ones((1, len(conversions["i"])))
    reps = replicate_totals(con, models, DAY, paths, ones, lambda model, nulls: nulls[None, :])
    got = dict(zip(reps.keys, zip(reps.conversions[0], reps.value[0], strict=True), strict=True))
    summary = {(m, s, c): (n, v) for m, s, c, n, v, *_ in con.execute(SUMMARY).fetchall()}
    assert {m for m, _, _ in summary} == {m.name for m in models}
    assert {s for _, s, _ in summary} == {"order", "subscription"}
    for key, (n, v) in summary.items():
        assert got[key] == pytest.approx((n, v), abs=1e-9), key
    assert all(abs(n) < 1e-12 and abs(v) < 1e-12 for k, (n, v) in got.items() if k not in summary)


def test_percentile_intervals_cover_the_truth_at_their_level_over_many_worlds():
    # 300 worlds of 200 conversions, each credited whole to one of three channels (a rule-based model):
    # the 95 % interval of a channel's credited conversions covers n x its probability ~95 % of the time.
    rng = np.random.default_rng(11)
    p, n, covered = np.array([0.5, 0.3, 0.2]), 200, []
    for _ in range(300):
        shares = np.eye(3)[rng.choice(3, size=n, p=p)]
        counts = resample_counts(rng, np.zeros(n, dtype=int), 200)
        lower, upper = percentile_interval(counts @ shares)
        covered.append((lower <= n * p) & (n * p <= upper))
    assert 0.93 <= np.mean(covered) <= 0.97, np.mean(covered)


def test_resampling_keeps_each_sources_size():
    strata = np.array([0, 0, 1, 1, 1, 2])
    counts = resample_counts(np.random.default_rng(0), strata, 50)
    assert counts.shape == (50, 6)
    assert (counts[:, :2].sum(axis=1) == 2).all() and (counts[:, 2:5].sum(axis=1) == 3).all()
    assert (counts[:, 5] == 1).all() and counts[:, :5].std(axis=0).min() > 0


def test_intervals_are_written_reproducible_and_off_by_default(world):
    att, rows, con = world
    assert all(r[5:] == (None,) * 4 for r in con.execute(SUMMARY).fetchall())
    first = attribute(rows, _spec(bootstrap=30)).execute(SUMMARY).fetchall()
    again = attribute(rows, _spec(bootstrap=30)).execute(SUMMARY).fetchall()
    other = attribute(rows, _spec(bootstrap=30, bootstrapSeed=1)).execute(SUMMARY).fetchall()
    assert first == again and first != other
    assert [r[:5] for r in first] == [r[:5] for r in con.execute(SUMMARY).fetchall()]
    assert all(None not in r for r in first)
    assert all(lo <= hi for *_, lo, hi, vlo, vhi in first for lo, hi in ((lo, hi), (vlo, vhi)))
    # the total allocation spreads every conversion over every channel: its intervals are narrow
    # beside those of the per-conversion Markov model
    width = {(m, s, c): hi - lo for m, s, c, _, _, lo, hi, _, _ in first}
    assert width[("MT", "order", "Search")] < width[("M", "order", "Search")]


def test_a_refused_bootstrap_is_named_by_its_key_path(tmp_path):
    data = example_dict()
    data["attribution"]["bootstrap"] = -1
    problems = problems_of(data, tmp_path)
    assert [p for p, _ in problems] == ["attribution.bootstrap"]
    assert "greater than or equal to 0" in problems[0][1]


def test_a_summary_table_from_before_the_intervals_gets_their_columns(world):
    att, rows, _ = world
    con = duckdb.connect()
    con.execute("""CREATE TABLE attribution_summary (date DATE NOT NULL, model VARCHAR NOT NULL,
                   conversion VARCHAR NOT NULL, channel VARCHAR NOT NULL, channel_id INTEGER,
                   conversions DOUBLE NOT NULL, value DOUBLE NOT NULL)""")
    attribute(rows, _spec(bootstrap=5), con=con)
    columns = [r[0] for r in con.execute("DESCRIBE attribution_summary").fetchall()]
    assert columns[-4:] == ["conversions_lower", "conversions_upper", "value_lower", "value_upper"]
    missing = con.execute("SELECT count(*) FROM attribution_summary WHERE value_upper IS NULL").fetchall()
    assert missing == [(0,)]
