"""A learned policy's nightly decisions (pipeline/experiments/learned.py through decide()) over a small
warehouse in memory: customers of three segments and closed windows of earlier presentations."""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.decisions import decide
from tests.conftest import example_dict

DAY = dt.date(2026, 3, 1)
CUSTOMERS = 3000
GOLD_ONLY = [{"transaction": "customers", "field": "txt_segment", "formula": {"in": ["gold"]}}]
NOBODY = [{"transaction": "customers", "field": "txt_segment", "formula": {"in": ["platinum"]}}]


def learned_config(policy: str, rules: dict[str, list] | None = None, **experiment):
    """One experiment `offer` of the three discount variants under ``policy``, learning from the
    features of the example's purchase model; ``rules``: variant eligibility rules by variant."""
    data = copy.deepcopy(example_dict())
    model = next(m for m in data["models"] if m["name"] == "purchase_30d")
    data["models"] = [model]
    for variant in data["variants"]:
        variant.pop("reach", None)
        variant["rules"] = (rules or {}).get(variant["name"], [])
    settings = {"policy": policy, "model": "purchase_30d", "control_share": 0.1, "exploration": 0.1}
    data["experiments"] = [
        {
            "name": "offer",
            "type": "NBO",
            "variants": ["discount_10", "discount_20", "free_shipping"],
            **settings,
            **experiment,
        }
    ]
    data["groups"] = []
    definitions = data["conversions"]["definitions"]
    data["conversions"]["definitions"] = [d for d in definitions if d["experiment"] == "offer"]
    return parse_config(data, "nightjar.yaml", Path("."))


def warehouse(history: dict[str, tuple[int, int]], customers: int = CUSTOMERS) -> duckdb.DuckDBPyConnection:
    """The ``customers`` (gold, silver, bronze in turn) and, per arm of ``offer``, (converted,
    presented) presentations whose window closed before DAY (arm `control`: held out)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at, "
        "['gold', 'silver', 'bronze'][i % 3 + 1] AS txt_segment FROM range($n) t(i)",
        {"n": customers},
    )
    con.execute(sql("experiments/create_conversions"))
    for variant, (converted, presented) in history.items():
        con.execute(
            """INSERT INTO conversions
               SELECT DATE '2026-02-01', 'h' || $v || i, 'offer', $v, $v = 'control', i < $c, (i < $c)::INT,
                      0, NULL, TIMESTAMP '2026-02-01', TIMESTAMP '2026-02-06', TRUE, FALSE, $v
               FROM range($n) r(i)""",
            {"v": variant, "c": converted, "n": presented},
        )
    return con


def shares(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each variant's share of the night's treated rows."""
    rows = con.execute(
        "SELECT variant, count(*) / sum(count(*)) OVER () FROM results WHERE NOT is_control GROUP BY 1"
    ).fetchall()
    return dict(rows)


def test_a_variant_nobody_can_get_does_not_keep_a_learned_policy_uniform():
    """free_shipping's rules match no customer, so it never gets presentations to learn from: the
    policy learns anyway from the variants the customers can get (discount_10 converts 30 % of 1,000,
    discount_20 10 %) and gives discount_10 to nearly everyone. It stayed uniform between them for
    ever, waiting for 50 presentations of a variant nobody is eligible for."""
    config = learned_config("propensity", {"free_shipping": NOBODY})
    con = warehouse({"discount_10": (300, 1000), "discount_20": (100, 1000), "control": (50, 1000)})
    assert decide(con, config, DAY) == CUSTOMERS
    assert set(shares(con)) == {"discount_10", "discount_20"}
    assert shares(con)["discount_10"] > 0.9
    reasons = con.execute(
        "SELECT DISTINCT reason LIKE '%among 2 eligible%' FROM results WHERE NOT is_control"
    )
    assert reasons.fetchall() == [(True,)]


def test_a_variant_with_too_few_presentations_keeps_only_the_customers_who_can_get_it_uniform():
    """free_shipping (gold only) is new: 20 presentations, fewer than the 50 a learned policy waits
    for, so the gold customers stay uniform among their three variants; silver and bronze, who cannot
    get it, are decided by what was learned of the other two (discount_10 converts 30 %, discount_20
    10 %). Before, everyone stayed uniform until free_shipping had 50 presentations (silver and bronze
    logged 0.45 for each discount)."""
    config = learned_config("propensity", {"free_shipping": GOLD_ONLY})
    history = {"discount_10": (300, 1000), "discount_20": (100, 1000), "free_shipping": (2, 20)}
    con = warehouse(history)
    decide(con, config, DAY)
    logged = con.execute(
        """SELECT len(eligible_variants), variant, min(assignment_probability), max(assignment_probability)
           FROM results WHERE NOT is_control GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    gold = [(v, lo, hi) for n, v, lo, hi in logged if n == 3]
    assert [v for v, _, _ in gold] == ["discount_10", "discount_20", "free_shipping"]
    assert all(abs(lo - 0.9 / 3) < 1e-12 and abs(hi - 0.9 / 3) < 1e-12 for _, lo, hi in gold)
    others = {v: (lo, hi) for n, v, lo, hi in logged if n == 2}
    assert others["discount_10"][0] > 0.85 and others["discount_20"][1] < 0.05  # 0.9 x (1 - floor / 2)
    reasons = con.execute(
        """SELECT len(eligible_variants), list(DISTINCT regexp_replace(reason, 'probability [0-9.]+', 'p'))
           FROM results WHERE NOT is_control GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    # the uniform draw has no expected value: its reason said "expected value 0.0000 ... among 3
    # eligible arm(s)"; it now says it is warming up, on which arm and how far
    assert reasons[0][0] == 2 and all(r.startswith("propensity: expected value ") for r in reasons[0][1])
    assert reasons[1] == (
        3,
        [
            "propensity: warming up, uniform until each eligible arm has 50 presentations to learn from "
            "(free_shipping 20 of 50) (p) among 3 eligible arm(s)"
        ],
    )


def test_a_partly_learned_night_draws_each_variant_as_often_as_its_logged_probability():
    """The same night over 9,000 customers: within the gold customers (uniform) and within the others
    (learned), each variant's share of the treated equals its logged probability given treatment
    (within 5 standard errors; the draws are hashes, so fixed)."""
    config = learned_config("propensity", {"free_shipping": GOLD_ONLY})
    history = {"discount_10": (300, 1000), "discount_20": (100, 1000), "free_shipping": (2, 20)}
    con = warehouse(history, customers=9000)
    decide(con, config, DAY)
    rows = con.execute(
        """SELECT arms, variant, n, sum(n) OVER (PARTITION BY arms) AS treated, lo, hi
           FROM (SELECT len(eligible_variants) AS arms, variant, count(*) AS n,
                        min(assignment_probability) / 0.9 AS lo, max(assignment_probability) / 0.9 AS hi
                 FROM results WHERE NOT is_control GROUP BY ALL)
           ORDER BY ALL"""
    ).fetchall()
    assert [(a, v) for a, v, *_ in rows] == [
        (2, "discount_10"),
        (2, "discount_20"),
        (3, "discount_10"),
        (3, "discount_20"),
        (3, "free_shipping"),
    ]
    for _, _, n, treated, lo, hi in rows:
        assert hi - lo < 1e-12  # one probability per group of customers (the features tell them apart not)
        assert abs(n / treated - lo) < 5 * math.sqrt(lo * (1 - lo) / treated), (n, treated, lo)


def test_customers_a_capacity_cut_are_not_learned_as_the_no_treatment_arm():
    """40 presentations a `capacity` cut to no_treatment from discount_10 (sent nothing, but drawn
    discount_10 and the lowest expected values of its draw) are learned by no arm; the no-treatment arm
    learns from control (30) and the no_treatment uplift drew (5). They were learned as no_treatment
    (75 presentations), the lowest-scored customers biasing its rate: in the capacity world of
    tests/unit/experiments/test_report_capacity.py its examples converted 0.259 against control's 0.299."""
    config = learned_config("uplift")
    history = {"discount_10": (10, 40), "discount_20": (4, 40), "free_shipping": (4, 40), "control": (3, 30)}
    con = warehouse(history)
    con.execute(
        """INSERT INTO conversions
           SELECT DATE '2026-02-01', 'x' || drawn || i, 'offer', 'no_treatment', FALSE, i < 2, (i < 2)::INT,
                  0, NULL, TIMESTAMP '2026-02-01', TIMESTAMP '2026-02-06', TRUE, FALSE, drawn
           FROM (VALUES ('discount_10', 40), ('no_treatment', 5)) t(drawn, n), range(n) r(i)"""
    )
    decide(con, config, DAY)
    waiting = "regexp_extract(reason, '\\((no_treatment [^)]*)\\)', 1)"
    reasons = con.execute(f"SELECT DISTINCT {waiting} FROM results WHERE NOT is_control")
    assert reasons.fetchall() == [
        ("no_treatment 35 of 50, discount_10 40 of 50, discount_20 40 of 50, free_shipping 40 of 50",)
    ]
