"""Which experiments policy_evaluation evaluates (pipeline/experiments/policy_evaluation.py), over a
small warehouse in memory: logged decisions of `offer` (control 0.2, discount_10 and discount_20 0.4
each) with complete windows; free_shipping's rules may be met by nobody."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.sql import sql
from pipeline.experiments.policy_evaluation import run_policy_evaluation
from tests.unit.experiments.test_learned_decisions import learned_config

DAY = dt.date(2026, 2, 1)
N = 1000
RATES = {"control": 0.1, "discount_10": 0.3, "discount_20": 0.2}


def logged(free_shipping_eligible: int = 0, free_shipping_drawn: int = 0) -> duckdb.DuckDBPyConnection:
    """N logged decisions of DAY: every 5th customer control, the others discount_10 and discount_20 in
    turn (probabilities 0.2, 0.4, 0.4), converting at RATES (exactly, by customer number). The first
    ``free_shipping_eligible`` treated customers were also eligible for free_shipping, and the first
    ``free_shipping_drawn`` of them got it."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/create_conversions"))
    con.execute(
        """CREATE TEMP TABLE logged AS
           WITH d AS (
               SELECT i, 'c' || i AS customer_id,
                      CASE WHEN i % 5 = 0 THEN 'control' WHEN i % 2 = 1 THEN 'discount_10'
                           ELSE 'discount_20' END AS drawn,
                      i % 5 <> 0 AND i < $eligible * 5 / 4 AS with_fs,
                      i % 5 <> 0 AND i < $drawn * 5 / 4 AS got_fs
               FROM range($n) t(i))
           SELECT i, customer_id, CASE WHEN got_fs THEN 'free_shipping' ELSE drawn END AS variant,
                  CASE WHEN drawn = 'control' THEN 0.2 ELSE 0.4 END AS p,
                  CASE WHEN with_fs THEN ['discount_10', 'discount_20', 'free_shipping']
                       ELSE ['discount_10', 'discount_20'] END AS eligible_variants
           FROM d""",
        {"n": N, "eligible": free_shipping_eligible, "drawn": free_shipping_drawn},
    )
    con.execute(
        """INSERT INTO results (date, customer_id, experiment, variant, is_control, score, reason,
                                assignment_probability, eligible_variants)
           SELECT $day, customer_id, 'offer', variant, variant = 'control', 0, 'logged', p, eligible_variants
           FROM logged""",
        {"day": DAY},
    )
    con.execute(
        """INSERT INTO conversions BY NAME
           SELECT $day AS date, customer_id, 'offer' AS experiment, variant,
                  variant = 'control' AS is_control,
                  (i // 5) % 10 < 10 * CASE variant WHEN 'control' THEN $c WHEN 'discount_10' THEN $d10
                                                    ELSE $d20 END AS converted,
                  converted::INT AS conversions, 0 AS value, $day::TIMESTAMP AS window_start,
                  $day::TIMESTAMP + INTERVAL 5 DAY AS window_end, TRUE AS window_complete
           FROM logged""",
        {"day": DAY, "c": RATES["control"], "d10": RATES["discount_10"], "d20": RATES["discount_20"]},
    )
    return con


def evaluated(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple], dict]:
    """The policy_evaluation rows by policy, and the run's metadata."""
    metadata = run_policy_evaluation(con, learned_config("uniform", model=None))
    rows = con.execute("SELECT * FROM policy_evaluation WHERE experiment = 'offer'").fetchall()
    return {r[1]: r for r in rows}, metadata


def test_a_variant_no_logged_decision_could_get_does_not_keep_the_experiment_out():
    """free_shipping's rules matched nobody: no logged decision was eligible for it, so none was or
    could be drawn. The evaluation waited for 10 decisions of it, and left `offer` out for ever; it
    now evaluates `offer` over the arms its decisions could get, and says free_shipping was none's."""
    con = logged()
    rows, metadata = evaluated(con)
    assert set(rows) == {"nothing", "uniform", "propensity", "uplift", "thompson"}
    assert {r[2] for r in rows.values()} == {N}
    # the doubly robust intervals cover the true rates: nothing sent 0.1, uniform among the two 0.25
    for policy, truth in (("nothing", 0.1), ("uniform", 0.25)):
        assert rows[policy][7] <= truth <= rows[policy][8], rows[policy]
    assert rows["propensity"][6] > rows["uniform"][6]  # discount_10 for (nearly) everyone
    assert "| offer | 1000 | yes | free_shipping |  |" in metadata["experiments"].value


def test_a_variant_some_decisions_could_get_still_needs_10_of_them():
    """free_shipping was eligible for 40 customers and given to 5: too few to learn its rate, so
    `offer` stays out of the evaluation, and the run says why."""
    con = logged(free_shipping_eligible=40, free_shipping_drawn=5)
    rows, metadata = evaluated(con)
    assert rows == {}
    why = "| offer | 1000 | no |  | too few of free_shipping: 5 (10 needed) |"
    assert why in metadata["experiments"].value
