"""Markov attribution: `allocation: total` and higher orders against an exact reference computed here
(the absorbing chain's fundamental matrix, written independently of pipeline/attribution/types/markov.py),
on hand-built paths and events and on large simulated sets of paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.attribution.types.markov import _chain, chain_states, markov_removal_effects
from pipeline.attribution.types.paths import Paths
from pipeline.core.sql import sql
from tests.conftest import ROOT
from tests.unit.attribution.helpers import DAY, attribute, credits, spec, summary, ts
from tests.unit.attribution.test_attribution_config import problems_of, with_model

ALLOCATIONS = spec(
    [
        {"name": "M", "modelType": "markov"},
        {"name": "MT", "modelType": "markov", "allocation": "total"},
        {"name": "M2", "modelType": "markov", "order": 2},
        {"name": "M2T", "modelType": "markov", "order": 2, "allocation": "total"},
    ]
)


def flat(totals):
    """{channel: (conversions, value)} -> {(channel, 0): conversions, (channel, 1): value} (for approx)."""
    return {(c, k): v for c, pair in totals.items() for k, v in enumerate(pair)}


def visit(eid, cust, when, channel):
    return (eid, cust, "visit", when, channel, None, None)


def order(eid, cust, when, value):
    return (eid, cust, "order", when, None, value, None)


# ---- the reference: states as "A|B" strings, P(conversion) = (I - Q)^-1 R, removal by redirecting ----


def _reference_states(path, order):
    if len(path) <= order:
        windows = ["|".join(path)]
    else:
        windows = ["|".join(path[i : i + order]) for i in range(len(path) - order + 1)]
    return [w for w, _ in itertools.groupby(windows)]


def reference_removal_effects(paths, conv, nulls, order=1):
    walks = [_reference_states(list(p), order) for p in paths]
    names = ["(start)", *sorted({s for w in walks for s in w}), "(conversion)", "(null)"]
    at = {s: i for i, s in enumerate(names)}
    n = len(names)
    counts = np.zeros((n, n))
    for walk, c, u in zip(walks, conv, nulls, strict=True):
        seq = ["(start)", *walk]
        for a, b in itertools.pairwise(seq):
            counts[at[a], at[b]] += c + u
        counts[at[seq[-1]], at["(conversion)"]] += c
        counts[at[seq[-1]], at["(null)"]] += u

    def p_conversion(channel):
        m = counts.copy()
        if channel is not None:
            for s in names[1:-2]:
                if channel in s.split("|"):
                    m[:, at["(null)"]] += m[:, at[s]]  # whoever would go into s goes to null
                    m[:, at[s]] = 0.0
        rows = m.sum(axis=1, keepdims=True)
        t = np.where(rows > 0, m / np.where(rows > 0, rows, 1.0), 0.0)
        q, r = t[: n - 2, : n - 2], t[: n - 2, n - 2]
        fundamental = np.linalg.inv(np.eye(n - 2) - q)
        return float((fundamental @ r)[0])

    base = p_conversion(None)
    channels = sorted({c for p in paths for c in p})
    return {c: 1.0 - p_conversion(c) / base for c in channels}


def reference_totals(paths, conv, nulls, order=1):
    """ChannelAttribution's `total_conversions`: total conversions x each channel's share of the effects."""
    effects = reference_removal_effects(paths, conv, nulls, order)
    total = sum(effects.values())
    return {c: sum(conv) * e / total for c, e in effects.items()}


# ---- hand-built -------------------------------------------------------------------------------------


def test_chain_states_by_hand():
    assert chain_states(["A", "A", "B"]) == [("A",), ("B",)]
    assert chain_states(["A", "B", "C"], 2) == [("A", "B"), ("B", "C")]
    assert chain_states(["A", "A", "B"], 2) == [("A", "A"), ("A", "B")]
    assert chain_states(["A", "A", "A", "B"], 2) == [("A", "A"), ("A", "B")]
    assert chain_states(["A", "B"], 3) == [("A", "B")]
    assert chain_states(["A", "B", "A", "B"], 2) == [("A", "B"), ("B", "A"), ("A", "B")]


def test_the_readme_example_both_allocations():
    # Search > Email (order worth 30) and Email (order worth 10) convert, Search does not.
    # Removal effects: Search 1/2, Email 1 (README); shares of the effects: 1/3, 2/3.
    rows = [
        visit("v1", "c1", ts(-2), "Search"),
        visit("v2", "c1", ts(-1), "Email"),
        order("o1", "c1", ts(0), 30),
        visit("v3", "c2", ts(-1), "Email"),
        order("o2", "c2", ts(0), 10),
        visit("v4", "c3", ts(-1), "Search"),
    ]
    con = attribute(rows, ALLOCATIONS)
    # per_conversion: o1 is split 1/3 : 2/3 over its touches, o2 is all Email's
    assert flat(summary(con, "M")) == pytest.approx(
        flat({"Search": (1 / 3, 10.0), "Email": (5 / 3, 30.0)}), abs=1e-9
    )
    # total: 2 conversions x (1/3, 2/3), worth 40 x (1/3, 2/3); each conversion split over the channels
    assert flat(summary(con, "MT")) == pytest.approx(
        flat({"Search": (2 / 3, 40 / 3), "Email": (4 / 3, 80 / 3)}), abs=1e-9
    )
    assert sorted(credits(con, "MT"), key=lambda r: (r[0], r[2])) == [
        ("o1", None, "Email", pytest.approx(2 / 3), pytest.approx(20.0)),
        ("o1", None, "Search", pytest.approx(1 / 3), pytest.approx(10.0)),
        ("o2", None, "Email", pytest.approx(2 / 3), pytest.approx(20 / 3)),
        ("o2", None, "Search", pytest.approx(1 / 3), pytest.approx(10 / 3)),
    ]
    # the README's worked example states these numbers
    readme = " ".join((ROOT / "README.md").read_text().split())
    (sn, sv), (en, ev) = summary(con, "M")["Search"], summary(con, "M")["Email"]
    assert (
        f"`per_conversion` credits Search {sn:.2f} conversions (value {sv:.2f}), Email {en:.2f} ({ev:.2f})"
        in readme
    )
    (sn, sv), (en, ev) = summary(con, "MT")["Search"], summary(con, "MT")["Email"]
    assert f"`total` credits Search {sn:.2f} ({sv:.2f}), Email {en:.2f} ({ev:.2f})" in readme
    channel_ids = con.execute(
        "SELECT DISTINCT channel, channel_id FROM attribution_credits WHERE model = 'MT'"
    )
    assert dict(channel_ids.fetchall()) == {"Search": 1, "Email": 2}


def test_second_order_by_hand():
    # A > B converts, C > B does not. First order: start -> A 1/2, C 1/2; A, C -> B; B -> conversion 1/2.
    # P = 1/2; without A (or C) 1/4: effects A 1/2, B 1, C 1/2. Second order: states (A,B) -> conversion,
    # (C,B) -> null: without A P = 0 (effect 1), without C P = 1/2 (effect 0), without B 0 (effect 1).
    paths, conv, nulls = [("A", "B"), ("C", "B")], [1, 0], [0, 1]
    assert markov_removal_effects(paths, conv, nulls, 1) == pytest.approx({"A": 0.5, "B": 1.0, "C": 0.5})
    assert markov_removal_effects(paths, conv, nulls, 2) == pytest.approx({"A": 1.0, "B": 1.0, "C": 0.0})
    for order_ in (1, 2, 3):
        assert markov_removal_effects(paths, conv, nulls, order_) == pytest.approx(
            reference_removal_effects(paths, conv, nulls, order_), abs=1e-12
        )
    rows = [
        visit("v1", "c1", ts(-2), "Search"),
        visit("v2", "c1", ts(-1), "Email"),
        order("o1", "c1", ts(0), 50),
        visit("v3", "c2", ts(-2), "Display"),
        visit("v4", "c2", ts(-1), "Email"),
    ]
    con = attribute(rows, ALLOCATIONS)
    assert flat(summary(con, "M")) == pytest.approx(
        flat({"Search": (1 / 3, 50 / 3), "Email": (2 / 3, 100 / 3)})
    )
    assert flat(summary(con, "M2")) == pytest.approx(flat({"Search": (0.5, 25.0), "Email": (0.5, 25.0)}))
    assert flat(summary(con, "MT")) == pytest.approx(
        flat({"Search": (0.25, 12.5), "Email": (0.5, 25.0), "Display": (0.25, 12.5)})
    )
    assert flat(summary(con, "M2T")) == pytest.approx(flat({"Search": (0.5, 25.0), "Email": (0.5, 25.0)}))


def test_higher_orders_by_hand_against_the_reference():
    paths = [("A", "B", "C", "A"), ("A", "A", "B"), ("B", "C"), ("C", "A", "B", "C", "B"), ("B",), ("A", "C")]
    conv, nulls = [2, 1, 0, 1, 1, 0], [1, 0, 3, 0, 2, 1]
    for order_ in (1, 2, 3, 4):
        assert markov_removal_effects(paths, conv, nulls, order_) == pytest.approx(
            reference_removal_effects(paths, conv, nulls, order_), abs=1e-12
        ), order_


@pytest.mark.parametrize(
    ("model", "path", "words"),
    [
        ({"modelType": "markov", "order": 5}, "attribution.models[0].order", "less than or equal to 4"),
        ({"modelType": "markov", "order": 0}, "attribution.models[0].order", "greater than or equal to 1"),
        ({"modelType": "markov", "allocation": "all"}, "attribution.models[0].allocation", "'total'"),
        ({"modelType": "shapley", "order": 2}, "attribution.models[0].order", "only for modelType markov"),
    ],
)
def test_a_refused_markov_key_is_named_by_its_key_path(tmp_path, model, path, words):
    problems = problems_of(with_model(**model), tmp_path)
    assert len(problems) == 1, problems
    assert problems[0][0] == path
    assert words in problems[0][1]


# ---- simulated --------------------------------------------------------------------------------------


def _simulated_paths(rng, n, channels="ABCDEF"):
    """n journeys of 1..6 touches; a journey converts more often when it holds B, and after A > C."""
    lengths = rng.integers(1, 7, size=n)
    picks = rng.integers(0, len(channels), size=lengths.sum())
    cuts = np.cumsum(lengths)[:-1]
    journeys = [tuple(channels[i] for i in p) for p in np.split(picks, cuts)]
    p_convert = np.array(
        [0.05 + 0.2 * ("B" in j) + 0.3 * (("A", "C") in itertools.pairwise(j)) for j in journeys]
    )
    return journeys, rng.random(n) < p_convert


def _aggregated(journeys, converted):
    paths = sorted(set(journeys))
    at = {p: i for i, p in enumerate(paths)}
    idx = np.array([at[j] for j in journeys])
    conv = np.bincount(idx, weights=converted, minlength=len(paths))
    nulls = np.bincount(idx, weights=~converted, minlength=len(paths))
    return paths, conv.tolist(), nulls.tolist()


@pytest.mark.parametrize("seed", [1])
def test_total_and_higher_orders_equal_the_reference_on_many_simulated_paths(seed):
    rng = np.random.default_rng(seed)
    paths, conv, nulls = _aggregated(*_simulated_paths(rng, 10_000))
    for order_ in (1, 2, 3):
        effects, reference = (
            f(paths, conv, nulls, order_) for f in (markov_removal_effects, reference_removal_effects)
        )
        assert effects == pytest.approx(reference, abs=1e-9)
        totals = {c: sum(conv) * e / sum(effects.values()) for c, e in effects.items()}
        assert totals == pytest.approx(
            {c: sum(conv) * e / sum(reference.values()) for c, e in reference.items()}, rel=1e-9
        )
    # the second order sees what the first cannot: A pays only when C follows it
    first, second = (markov_removal_effects(paths, conv, nulls, k) for k in (1, 2))
    assert second["A"] > first["A"]


def test_total_allocation_of_simulated_customers_equals_the_reference():
    rng = np.random.default_rng(7)
    journeys, converted = _simulated_paths(rng, 600, channels=("Search", "Email", "Display", "Direct"))
    rows = []
    for i, (journey, conv) in enumerate(zip(journeys, converted, strict=True)):
        rows += [visit(f"v{i}-{k}", f"c{i}", ts(-len(journey) + k, 8), ch) for k, ch in enumerate(journey)]
        if conv:
            rows.append(order(f"o{i}", f"c{i}", ts(0, 20), 10 + i % 7))
    con = attribute(rows, ALLOCATIONS)
    paths, conv, nulls = _aggregated(journeys, converted)
    for model, order_ in (("MT", 1), ("M2T", 2)):
        expected = reference_totals(paths, conv, nulls, order_)
        got = {c: n for c, (n, _) in summary(con, model).items()}
        assert got == pytest.approx({c: v for c, v in expected.items() if v > 0}, rel=1e-9), model
        value = sum(10 + i % 7 for i, c in enumerate(converted) if c)
        assert sum(v for _, v in summary(con, model).values()) == pytest.approx(value, rel=1e-12)
    # every conversion's shares sum to 1 and its credited value to its value, in every model
    bad, conversions, _ = con.execute(sql("attribution/check_sums"), {"a": DAY, "b": DAY}).fetchall()[0]
    assert (bad, conversions) == (0, int(converted.sum()))


# ---- ChannelAttribution -----------------------------------------------------------------------------


def test_total_allocation_is_channelattributions_markov_model_within_its_simulation_error(channelattribution):
    # ChannelAttribution simulates journeys through the chain: its totals scatter around the exact ones.
    # Runs with independent seeds (each run seeds its ten folds seed..seed + 9) give that scatter.
    rng = np.random.default_rng(5)
    channels = ("Search", "Email", "Display", "Direct")
    paths, conv, nulls = _aggregated(*_simulated_paths(rng, 2000, channels=channels))
    seeds, orders = [100 * k for k in range(5)], (1, 2)
    case = {"paths": [list(p) for p in paths], "conversions": conv, "nulls": nulls, "nsim": 1e5}
    runs = channelattribution([{**case, "order": k, "seed": s} for k in orders for s in seeds])
    for i, order_ in enumerate(orders):
        effects = markov_removal_effects(paths, conv, nulls, order_)
        exact = np.array([sum(conv) * effects[c] / sum(effects.values()) for c in channels])
        simulated = np.array([[r["total_conversions"][c] for c in channels] for r in runs[i * 5 : i * 5 + 5]])
        mean, sd = simulated.mean(axis=0), simulated.std(axis=0, ddof=1)
        assert (np.abs(exact - mean) <= 4 * sd / np.sqrt(len(seeds)) + 1e-9).all(), (order_, exact, mean, sd)
        assert (sd < 0.05 * mean).all()  # the simulation is precise enough to tell a wrong allocation


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_chain_steps_through_every_paths_chain_states(order):
    rng = np.random.default_rng(order)
    names = ["A", "AB", "B", "Display", "Email", "Search"]
    for _ in range(50):
        paths = tuple(
            tuple(names[k] for k in rng.integers(0, int(rng.integers(1, 7)), int(rng.integers(1, 9))))
            for _ in range(int(rng.integers(1, 40)))
        )
        walks = [chain_states(p, order) for p in paths]
        states = sorted({s for w in walks for s in w})
        ids = [[0] + [states.index(s) + 1 for s in w] for w in walks]
        chain = _chain(Paths.of(paths), order)
        steps = [(a, b, i) for i, w in enumerate(ids) for a, b in zip(w, w[1:], strict=False)]
        assert list(zip(chain.source, chain.target, chain.step_path, strict=True)) == steps
        assert chain.last.tolist() == [w[-1] for w in ids]
        channels = sorted({c for p in paths for c in p})
        assert chain.holding == {c: [i + 1 for i, s in enumerate(states) if c in s] for c in channels}
