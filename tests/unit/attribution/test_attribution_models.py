"""Attribution models on hand-built events: hand-computed cases for every model, the invariant
(credits sum to 1, value kept or reported unattributed) as a property, and exact Markov / Shapley."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.attribution.config import BUILTIN_NAMES, UNATTRIBUTED
from pipeline.attribution.credits import build_attribution
from pipeline.attribution.models import all_models
from pipeline.attribution.types.markov import markov_removal_effects
from pipeline.attribution.types.shapley import shapley_values
from pipeline.core.sql import sql
from tests.unit.attribution.helpers import DAY, attribute, config, credits, load_events, spec, summary, ts

CUSTOM = [
    {"name": "P", "modelType": "position"},
    {"name": "P62", "modelType": "position", "firstShare": 0.6, "lastShare": 0.2},
    {"name": "T1", "modelType": "time_decay", "halfLifeDays": 1},
    {"name": "M", "modelType": "markov"},
    {"name": "S", "modelType": "shapley"},
    {"name": "F7", "modelType": "first", "lookbackDays": 7},
    {"name": "Spread", "modelType": "spread", "firstWeight": 2, "lastWeight": 5},
    {"name": "NoDirect", "modelType": "last", "channelsMode": "exclude", "channels": ["Direct"]},
    {"name": "OnlyEmail", "modelType": "last", "channelsMode": "include", "channels": [2]},
    {
        "name": "News eqi",
        "modelType": "first",
        "matchCriteria": [{"field": "campaign", "op": "eqi", "value": "NEWSLETTER"}],
    },
    {
        "name": "News eq",
        "modelType": "first",
        "matchCriteria": [{"field": "campaign", "op": "eq", "value": "NEWSLETTER"}],
    },
]
SPEC = spec(CUSTOM)
MODELS = [m.name for m in all_models(SPEC)]


def visit(eid, cust, when, channel, campaign=None):
    return (eid, cust, "visit", when, channel, None, campaign)


def order(eid, cust, when, value):
    return (eid, cust, "order", when, None, value, None)


def shares(con, model):
    """{touch_id: share} of model's credits (touch None: unattributed)."""
    return {t: s for _, t, _, s, _ in credits(con, model)}


def test_one_touch_gets_everything_in_every_model():
    con = attribute([visit("v1", "c1", ts(-3), "Search"), order("o1", "c1", ts(0), 80)], SPEC)
    for model in MODELS:
        if model in ("OnlyEmail", "News eqi", "News eq"):  # their filters drop the touch
            assert credits(con, model) == [("o1", None, UNATTRIBUTED, 1.0, 80.0)], model
        elif model.endswith("(PPC Only)"):
            assert credits(con, model) == [("o1", None, UNATTRIBUTED, 1.0, 80.0)], model
        else:
            assert credits(con, model) == [("o1", "v1", "Search", 1.0, 80.0)], model


def test_two_touches_by_hand():
    # Search 2 days before the order, Email 1 day before.
    con = attribute(
        [
            visit("v1", "c1", ts(-2), "Search"),
            visit("v2", "c1", ts(-1), "Email"),
            order("o1", "c1", ts(0), 120),
        ],
        SPEC,
    )
    expected = {
        "First Click": {"v1": 1.0},
        "First Click (Infinite)": {"v1": 1.0},
        "F7": {"v1": 1.0},
        "Last Click": {"v2": 1.0},
        "Last Click (Infinite)": {"v2": 1.0},
        "First Click Weighted": {"v1": 0.75, "v2": 0.25},  # 3 : 1
        "Last Click Weighted": {"v1": 0.25, "v2": 0.75},  # 1 : 3
        "Equally Weighted": {"v1": 0.5, "v2": 0.5},
        "First and Last Click Weighted": {"v1": 0.5, "v2": 0.5},  # 3 : 3
        "Spread": {"v1": 2 / 7, "v2": 5 / 7},
        "P": {"v1": 0.5, "v2": 0.5},  # two touches: first and last shares, normalised
        "P62": {"v1": 0.75, "v2": 0.25},
        "T1": {"v1": 1 / 3, "v2": 2 / 3},  # one day older: half the weight
        "NoDirect": {"v2": 1.0},
        "OnlyEmail": {"v2": 1.0},
        # The day's only path is Search > Email (converting): removing either channel loses every
        # conversion, so both removal effects are 1; v({Search, Email}) = 1, v({Search}) = v({Email}) = 0.
        "M": {"v1": 0.5, "v2": 0.5},
        "S": {"v1": 0.5, "v2": 0.5},
    }
    for model, want in expected.items():
        got = shares(con, model)
        assert got.keys() == want.keys(), model
        assert all(abs(got[k] - want[k]) < 1e-12 for k in want), (model, got)
    assert summary(con, "First Click Weighted") == {"Search": (0.75, 90.0), "Email": (0.25, 30.0)}


def test_three_or_more_touches_position_and_spread():
    rows = [
        visit(f"v{i}", "c1", ts(-5 + i), ch) for i, ch in enumerate(["Search", "Email", "Display", "Search"])
    ]
    con = attribute(rows + [order("o1", "c1", ts(0), 100)], SPEC)
    assert shares(con, "P") == pytest.approx({"v0": 0.4, "v1": 0.1, "v2": 0.1, "v3": 0.4})
    assert shares(con, "P62") == pytest.approx({"v0": 0.6, "v1": 0.1, "v2": 0.1, "v3": 0.2})
    assert shares(con, "First and Last Click Weighted") == pytest.approx(
        {"v0": 3 / 8, "v1": 1 / 8, "v2": 1 / 8, "v3": 3 / 8}
    )
    # time decay, half-life 1 day: ages 4, 3, 2, 1 days -> weights 1/16, 1/8, 1/4, 1/2 (sum 15/16)
    assert shares(con, "T1") == pytest.approx({"v0": 1 / 15, "v1": 2 / 15, "v2": 4 / 15, "v3": 8 / 15})
    assert summary(con, "P") == {"Search": (0.8, 80.0), "Email": (0.1, 10.0), "Display": (0.1, 10.0)}


def test_the_largest_weights_and_half_life_still_credit_the_touches():
    # weights of 1e308 (once accepted) overflowed the total: every share 0, the order unattributed
    most = spec(
        [
            {"name": "W", "modelType": "spread", "firstWeight": 1e6, "lastWeight": 1e6},
            {"name": "T", "modelType": "time_decay", "halfLifeDays": 10_000},
        ]
    )
    rows = [visit(f"v{i}", "c1", ts(-3 + i), ch) for i, ch in enumerate(["Search", "Email", "Display"])]
    con = attribute(rows + [order("o1", "c1", ts(0), 100)], most)
    middle = 1 / (2e6 + 1)
    assert shares(con, "W") == pytest.approx({"v0": 1e6 * middle, "v1": middle, "v2": 1e6 * middle})
    assert shares(con, "T") == pytest.approx({"v0": 1 / 3, "v1": 1 / 3, "v2": 1 / 3}, rel=1e-3)


def test_a_position_model_may_give_the_first_touch_nothing():
    # firstShare 0 is a share of 0 (the config check once read it as the default 0.4 and refused
    # 0 + 0.7): the middle touches split what the last leaves, and with two touches the last gets all.
    zero_first = spec([{"name": "P07", "modelType": "position", "firstShare": 0, "lastShare": 0.7}])
    rows = [
        visit(f"v{i}", "c1", ts(-5 + i), ch) for i, ch in enumerate(["Search", "Email", "Display", "Search"])
    ]
    con = attribute(rows + [order("o1", "c1", ts(0), 100)], zero_first)
    assert shares(con, "P07") == pytest.approx({"v1": 0.15, "v2": 0.15, "v3": 0.7})
    con = attribute(rows[2:] + [order("o1", "c1", ts(0), 100)], zero_first)
    assert shares(con, "P07") == {"v3": 1.0}


def test_lookback_window_and_infinite_models():
    rows = [
        visit("v0", "c1", ts(-120), "Direct"),
        visit("v1", "c1", ts(-8), "Search"),
        visit("v2", "c1", ts(-3), "Email"),
        visit("v3", "c1", ts(0, 13), "Display"),  # after the order: never
        order("o1", "c1", ts(0), 50),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "First Click (Infinite)") == {"v0": 1.0}
    assert shares(con, "First Click") == {"v1": 1.0}  # 90 days: v0 is out
    assert shares(con, "F7") == {"v2": 1.0}  # 7 days: v1 is out
    assert shares(con, "Last Click (Infinite)") == {"v2": 1.0}
    # exactly lookbackDays before the conversion is still in; a second later is out
    con = attribute([visit("v1", "c1", ts(-7), "Search"), order("o1", "c1", ts(0), 50)], SPEC)
    assert shares(con, "F7") == {"v1": 1.0}
    con = attribute([visit("v1", "c1", ts(-7, 11.9999), "Search"), order("o1", "c1", ts(0), 50)], SPEC)
    assert shares(con, "F7") == {None: 1.0}


def test_a_conversion_early_in_the_day_looks_back_its_whole_window():
    # The window runs back from the conversion, not from the end of its day: a conversion 36 s after
    # midnight reaches a touch 6 days 23.5 hours before it with a 7-day lookback (and 89.5 days with 90).
    rows = [
        visit("v1", "c1", ts(-7, 0.5), "Search"),
        visit("v0", "c1", ts(-90, 0.5), "Email"),
        order("o1", "c1", ts(0, 0.01), 10),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "F7") == {"v1": 1.0}
    assert shares(con, "First Click") == {"v0": 1.0}


def test_match_criteria_on_value_test_the_touch_not_the_conversion():
    m = [
        {"name": "Valued", "modelType": "last", "matchCriteria": [{"field": "value", "op": "gt", "value": 5}]}
    ]
    rows = [
        ("v1", "c1", "visit", ts(-2), "Search", 9, None),
        ("v2", "c1", "visit", ts(-1), "Email", 1, None),
        order("o1", "c1", ts(0), 100),
    ]
    con = attribute(rows, spec(m))
    assert shares(con, "Valued") == {"v1": 1.0}  # the order's value (100) would let v2 through


def test_a_touch_at_the_conversion_time_counts():
    con = attribute(
        [
            visit("v1", "c1", ts(-1), "Search"),
            visit("v2", "c1", ts(0), "Email"),
            order("o1", "c1", ts(0), 10),
        ],
        SPEC,
    )
    assert shares(con, "Last Click") == {"v2": 1.0}


def test_equal_timestamps_are_ordered_by_touch_id_deterministically():
    rows = [
        visit("web:2", "c1", ts(-1), "Email"),
        visit("web:1", "c1", ts(-1), "Search"),
        order("o1", "c1", ts(0), 10),
    ]
    for _ in range(2):
        con = attribute(rows, SPEC)
        assert shares(con, "First Click") == {"web:1": 1.0}
        assert shares(con, "Last Click") == {"web:2": 1.0}
        assert shares(con, "First Click Weighted") == {"web:1": 0.75, "web:2": 0.25}
        con = attribute(list(reversed(rows)), SPEC)
        assert shares(con, "First Click") == {"web:1": 1.0}


def test_a_conversion_without_touches_is_unattributed_and_keeps_its_value():
    rows = [visit("v1", "c2", ts(-1), "Search"), order("o1", "c1", ts(0), 42.5), order("o2", "c2", ts(0), 7)]
    con = attribute(rows, SPEC)
    for model in MODELS:
        got = {c: (t, ch, s, v) for c, t, ch, s, v in credits(con, model)}
        assert got["o1"] == (None, UNATTRIBUTED, 1.0, 42.5), model
    assert summary(con, "Last Click") == {UNATTRIBUTED: (1.0, 42.5), "Search": (1.0, 7.0)}
    totals = con.execute("SELECT model, sum(value) FROM attribution_summary GROUP BY model").fetchall()
    assert len(totals) == len(MODELS) and all(abs(v - 49.5) < 1e-9 for _, v in totals)


def test_excluded_and_included_channels_and_ppc_only():
    rows = [
        visit("v1", "c1", ts(-3), "Display"),
        visit("v2", "c1", ts(-2), "Email"),
        visit("v3", "c1", ts(-1), "Direct"),
        order("o1", "c1", ts(0), 30),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "Last Click") == {"v3": 1.0}
    assert shares(con, "NoDirect") == {"v2": 1.0}
    assert shares(con, "OnlyEmail") == {"v2": 1.0}
    assert shares(con, "Equally Weighted (PPC Only)") == {"v1": 1.0}  # Display is the paid channel
    assert shares(con, "First Click Weighted (PPC Only)") == {"v1": 1.0}


def test_eqi_matches_whatever_the_case_and_eq_does_not():
    rows = [
        visit("v1", "c1", ts(-3), "Search", "spring"),
        visit("v2", "c1", ts(-2), "Email", "NewsLetter"),
        visit("v3", "c1", ts(-1), "Email", "NEWSLETTER"),
        order("o1", "c1", ts(0), 30),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "News eqi") == {"v2": 1.0}
    assert shares(con, "News eq") == {"v3": 1.0}


def test_conversion_values_fixed_missing_and_other_days():
    att = spec(
        conversions=[
            {"name": "order", "type": "order"},
            {
                "name": "signup",
                "type": "visit",
                "value": 5,
                "matchCriteria": [{"field": "channel", "op": "eq", "value": "Email"}],
            },
        ]
    )
    rows = [visit("v1", "c1", ts(-1), "Email"), order("o1", "c1", ts(0), None), order("o0", "c1", ts(-1), 99)]
    con = attribute(rows, att)
    got = con.execute("""SELECT conversion, conversion_id, conversion_value, sum(credited_value)
                         FROM attribution_credits
                         WHERE model = 'Last Click' GROUP BY ALL ORDER BY 1""").fetchall()
    assert got == [("order", "o1", 0.0, 0.0)]  # o0 is another day's; v1 (the signup) is the day before too
    con = attribute(rows, att, day=DAY.replace(day=9))
    got = con.execute("""SELECT conversion, conversion_id, conversion_value FROM attribution_credits
                         WHERE model = 'Last Click' ORDER BY 1""").fetchall()
    assert got == [("order", "o0", 99.0), ("signup", "v1", 5.0)]


def test_a_float_value_beyond_what_the_warehouse_sums_counts_as_no_value():
    # ingestion keeps a Float beyond what DECIMAL(38,18) holds (1e21; "1e400" is inf) in float_value only,
    # its value NULL, as the KPIs read it: no value. The day's attribution is not failed
    # by it (it was: 'Could not cast value 1000000000000000000000.000000 to DECIMAL(38,18)').
    rows = [
        visit("v1", "c1", ts(-1), "Search"),
        order("o1", "c1", ts(0), None),
        visit("v2", "c2", ts(-1), "Email"),
        order("o2", "c2", ts(0), None),
        order("o3", "c3", ts(0), None),
    ]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("core/schema"))
    load_events(con, rows)
    floats = {"o1": 1e21, "o2": 2.5, "o3": float("inf")}
    for event_id, value in floats.items():
        con.execute(
            "UPDATE events SET float_value = $v, value = TRY_CAST($v AS DECIMAL(38, 18)) WHERE event_id = $e",
            {"v": value, "e": event_id},
        )
    for per_touch in (True, False):
        build_attribution(con, config(spec(CUSTOM, perTouchCredits=per_touch)), DAY)
        got = con.execute("""SELECT conversion_id, channel, credit_share, credited_value, conversion_value
                             FROM attribution_credits WHERE model = 'Last Click' ORDER BY 1""").fetchall()
        assert got == [
            ("o1", "Search", 1.0, 0.0, 0.0),
            ("o2", "Email", 1.0, 2.5, 2.5),
            ("o3", UNATTRIBUTED, 1.0, 0.0, 0.0),
        ]
        want = {"Search": (1.0, 0.0), "Email": (1.0, 2.5), UNATTRIBUTED: (1.0, 0.0)}
        assert summary(con, "Last Click") == want
        modelled = con.execute("SELECT DISTINCT model FROM attribution_summary").fetchall()
        assert {m for (m,) in modelled} == set(MODELS)


def test_rerunning_a_day_gives_the_same_rows():
    rows = [
        visit("v1", "c1", ts(-2), "Search"),
        visit("v2", "c1", ts(-1), "Email"),
        order("o1", "c1", ts(0), 10),
        visit("v3", "c2", ts(-1), "Email"),
    ]
    con = attribute(rows, SPEC)
    first = con.execute("SELECT * FROM attribution_credits ORDER BY ALL").fetchall()
    build_attribution(con, config(SPEC), DAY)
    assert con.execute("SELECT * FROM attribution_credits ORDER BY ALL").fetchall() == first


# ---- the data-driven models ---------------------------------------------------------------------


def test_markov_removal_effects_by_hand():
    # Paths: Search > Email converts, Email converts, Search does not.
    # start -> Search 2/3, -> Email 1/3; Search -> Email 1/2, -> null 1/2; Email -> conversion 1.
    # P(conv) = 2/3 * 1/2 + 1/3 = 2/3. Without Search: 1/3 (RE 1/2). Without Email: 0 (RE 1).
    effects = markov_removal_effects([("Search", "Email"), ("Email",), ("Search",)], [1, 1, 0], [0, 0, 1])
    assert effects == pytest.approx({"Search": 0.5, "Email": 1.0}, abs=1e-12)
    rows = [
        visit("v1", "c1", ts(-2), "Search"),
        visit("v2", "c1", ts(-1), "Email"),
        order("o1", "c1", ts(0), 30),
        visit("v3", "c2", ts(-1), "Email"),
        order("o2", "c2", ts(0), 10),
        visit("v4", "c3", ts(-1), "Search"),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "M") == pytest.approx({"v1": 1 / 3, "v2": 2 / 3, "v3": 1.0}, abs=1e-12)


def _removal_effects_by_power_series(paths, conv, nulls):
    """An independent computation: P(conversion) as the sum over steps of Q^k R, to convergence."""
    channels = sorted({c for p in paths for c in p})
    states = ["start", *channels, "conv", "null"]
    n = len(states)
    counts = np.zeros((n, n))
    for p, c, u in zip(paths, conv, nulls, strict=True):
        seq = ["start"] + [x for i, x in enumerate(p) if i == 0 or x != p[i - 1]]
        for a, b in itertools.pairwise(seq):
            counts[states.index(a), states.index(b)] += c + u
        counts[states.index(seq[-1]), n - 2] += c
        counts[states.index(seq[-1]), n - 1] += u

    def p_conv(removed):
        m = counts.copy()
        if removed is not None:
            i = states.index(removed)
            m[:, n - 1] += m[:, i]
            m[:, i] = 0
        t = m / np.maximum(m.sum(1, keepdims=True), 1e-300)
        dist = np.zeros(n)
        dist[0] = 1.0
        total = 0.0
        for _ in range(5000):
            dist = dist @ t
            total += dist[n - 2]
            dist[n - 2] = dist[n - 1] = 0
        return total

    base = p_conv(None)
    return {c: 1 - p_conv(c) / base for c in channels}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("ABCD"), min_size=1, max_size=5), st.integers(0, 3), st.integers(0, 3)
        ).filter(lambda r: r[1] + r[2] > 0),
        min_size=1,
        max_size=8,
    )
)
def test_markov_agrees_with_a_direct_power_series(paths):
    ps, conv, nulls = [tuple(p) for p, _, _ in paths], [c for _, c, _ in paths], [u for _, _, u in paths]
    if sum(conv) == 0:
        return
    assert markov_removal_effects(ps, conv, nulls) == pytest.approx(
        _removal_effects_by_power_series(ps, conv, nulls), abs=1e-9
    )


def test_shapley_by_hand_exact_and_sampled():
    # v({A,B}) = 1, v({A}) = 0.5, v({B}) = 0: phi_A = (0.5 + 1)/2 = 0.75, phi_B = (0 + 0.5)/2 = 0.25
    v = {frozenset("AB"): 1.0, frozenset("A"): 0.5}
    assert shapley_values(["A", "B"], v) == pytest.approx({"A": 0.75, "B": 0.25}, abs=1e-15)
    # an additive game (v(T) = sum of the players' numbers): phi_i = i exactly, also by sampling
    # (every order gives the same marginals); 12 players is beyond max_exact, so it samples, seeded
    players = [f"c{i}" for i in range(12)]
    additive = {
        frozenset(s): float(sum(int(p[1:]) for p in s))
        for k in range(1, 13)
        for s in itertools.combinations(players, k)
    }
    sampled = shapley_values(players, additive, max_exact=10, samples=50, seed=1)
    assert sampled == pytest.approx({p: float(p[1:]) for p in players}, abs=1e-9)
    assert shapley_values(players[:5], additive, max_exact=5) == pytest.approx(
        {p: float(p[1:]) for p in players[:5]}
    )
    # a non-additive game: sampling converges to the exact values
    rng = np.random.default_rng(0)
    game = {
        frozenset(s): float(rng.random()) for k in range(1, 7) for s in itertools.combinations("ABCDEF", k)
    }
    exact = shapley_values(list("ABCDEF"), game)
    approx = shapley_values(list("ABCDEF"), game, max_exact=3, samples=20000, seed=0)
    assert approx == pytest.approx(exact, abs=0.02)
    assert sum(approx.values()) == pytest.approx(game[frozenset("ABCDEF")])  # efficiency holds per order


def test_shapley_credits_by_hand():
    # {Search, Email}: 1 conversion of 1 (rate 1); {Search}: 1 of 2 (0.5); {Email}: none converts (v = 0)
    rows = [
        visit("v1", "c1", ts(-2), "Search"),
        visit("v2", "c1", ts(-1), "Email"),
        order("o1", "c1", ts(0), 40),
        visit("v3", "c2", ts(-1), "Search"),
        order("o2", "c2", ts(0), 10),
        visit("v4", "c3", ts(-1), "Search"),
        visit("v5", "c4", ts(-1), "Email"),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "S") == pytest.approx({"v1": 0.75, "v2": 0.25, "v3": 1.0}, abs=1e-12)


def test_a_shapley_channel_whose_set_converts_less_gets_a_negative_credit():
    # {A}: 1 of 1 (v = 1); {A, B}: 1 of 2 (v = 0.5): phi_A = 0.75, phi_B = -0.25 over v({A, B}) = 0.5
    rows = [
        visit("v1", "c1", ts(-1), "A"),
        order("o1", "c1", ts(0), 10),
        visit("v2", "c2", ts(-2), "A"),
        visit("v3", "c2", ts(-1), "B"),
        order("o2", "c2", ts(0), 10),
        visit("v4", "c3", ts(-2), "A"),
        visit("v5", "c3", ts(-1), "B"),
    ]
    con = attribute(rows, SPEC)
    assert shares(con, "S") == pytest.approx({"v1": 1.0, "v2": 1.5, "v3": -0.5}, abs=1e-12)


# ---- the invariant, as a property ---------------------------------------------------------------

CHANNEL_NAMES = ["Search", "Email", "Display", "Direct"]
touch = st.tuples(
    st.integers(0, 4),
    st.floats(-40, 0.5),
    st.sampled_from(CHANNEL_NAMES),
    st.sampled_from([None, "newsletter", "NEWSLETTER", "x"]),
)
conversion = st.tuples(st.integers(0, 4), st.floats(0, 0.99), st.one_of(st.none(), st.floats(0, 1000)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(touch, max_size=14), st.lists(conversion, min_size=1, max_size=5))
def test_credits_sum_to_one_and_value_is_kept_for_every_model_and_conversion(touches, conversions):
    rows = [visit(f"v{i}", f"c{c}", ts(d, 0), ch, camp) for i, (c, d, ch, camp) in enumerate(touches)]
    rows += [order(f"o{i}", f"c{c}", ts(d, 0), v) for i, (c, d, v) in enumerate(conversions)]
    con = attribute(rows, SPEC)
    per = con.execute("""SELECT conversion_id, model, sum(credit_share), sum(credited_value),
                                any_value(conversion_value),
                                count(*) FILTER (WHERE touch_id IS NULL), count(*)
                         FROM attribution_credits GROUP BY ALL""").fetchall()
    assert len(per) == len(conversions) * len(MODELS)  # every conversion, every model
    for conv_id, model, share, credited, value, unattributed, n in per:
        assert abs(share - 1) < 1e-9, (conv_id, model)
        assert abs(credited - value) < 1e-9 * max(1, value), (conv_id, model)
        assert unattributed == 0 or n == 1
    by_model = dict(con.execute("SELECT model, sum(value) FROM attribution_summary GROUP BY ALL").fetchall())
    total = sum(v or 0 for _, _, v in conversions)  # events keep values to 18 decimals
    assert set(by_model) == set(MODELS)
    assert all(abs(v - total) < 1e-6 for v in by_model.values())
    assert set(BUILTIN_NAMES) <= set(by_model)


@pytest.mark.parametrize("per_touch", [True, False])
def test_touches_at_the_same_time_are_ordered_by_their_id(per_touch):
    # a and b at the same second: a is the first touch and b the last (their ids break the tie), x and y
    # too (x between z and y), for the rows per touch and those summed per channel alike
    rows = [
        ("b", "c1", "visit", ts(-1), "Search", None),
        ("a", "c1", "visit", ts(-1), "Email", None),
        ("z", "c2", "visit", ts(-3), "Display", None),
        ("y", "c2", "visit", ts(-2), "Direct", None),
        ("x", "c2", "visit", ts(-2), "Display", None),
        ("o1", "c1", "order", ts(0), None, 10),
        ("o2", "c2", "order", ts(0), None, 10),
    ]
    models = [
        {"name": "F", "modelType": "first"},
        {"name": "L", "modelType": "last"},
        {"name": "W", "modelType": "spread", "firstWeight": 3, "lastWeight": 1},
    ]
    con = attribute(rows, spec(models, perTouchCredits=per_touch))
    got = con.execute(
        """SELECT conversion_id, model, touch_id, channel, round(credit_share, 9) FROM attribution_credits
           WHERE model IN ('F', 'L', 'W') ORDER BY ALL"""
    ).fetchall()
    w2 = (
        [("o2", "W", "x", "Display", 0.2), ("o2", "W", "y", "Direct", 0.2), ("o2", "W", "z", "Display", 0.6)]
        if per_touch
        else [("o2", "W", "y", "Direct", 0.2), ("o2", "W", None, "Display", 0.8)]  # NULLs last
    )
    assert got == [
        ("o1", "F", "a", "Email", 1.0),
        ("o1", "L", "b", "Search", 1.0),
        ("o1", "W", "a", "Email", 0.75),
        ("o1", "W", "b", "Search", 0.25),
        ("o2", "F", "z", "Display", 1.0),
        ("o2", "L", "y", "Direct", 1.0),
        *w2,
    ]
