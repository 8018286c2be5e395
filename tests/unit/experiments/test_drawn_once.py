"""Rows written before `drawn_variant` existed get it once a run (conversions.record_drawn_variants),
not once per presentation day measured: a run of `conversions` measures ``window_days`` days."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.runs import run_conversions
from tests.conftest import example_dict

D = dt.date(2026, 3, 10)
CUT = "capacity: a takes 1 a day, given to higher expected values; A/B: uniform among 2 eligible variant(s)"


class Counting:
    """A connection recording every statement it is asked to run."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []

    def execute(self, query: str, *args, **kwargs):
        self.statements.append(query)
        return self.con.execute(query, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.con, name)


def config():
    data = copy.deepcopy(example_dict())
    data["conversions"] = {"window_days": 5, "definitions": []}
    return parse_config(data, "nightjar.yaml", Path("."))


def old_warehouse() -> duckdb.DuckDBPyConnection:
    """`results` of the five days up to D and `conversions` of one day before them, written before the
    arm drawn was a column (it is added empty): on each day k1 given `a`, k2 cut to no_treatment from
    `a` by a capacity, k3 held out."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/create_conversions"))
    con.execute(
        """INSERT INTO results BY NAME
           SELECT $day::DATE - ago::INT AS date, customer_id, 'e' AS experiment, variant,
                  variant = 'control' AS is_control, 0.5 AS score, reason
           FROM (VALUES ('k1', 'a', 'A/B: uniform among 2 eligible variant(s)'), ('k2', 'no_treatment', $cut),
                        ('k3', 'control', 'control: held out')) t(customer_id, variant, reason),
                range(6) d(ago)""",
        {"day": D, "cut": CUT},
    )
    con.execute(
        """INSERT INTO conversions BY NAME
           SELECT date, customer_id, experiment, variant, is_control, FALSE AS converted, 0 AS conversions,
                  0 AS value, date::TIMESTAMP AS window_start, date::TIMESTAMP AS window_end,
                  TRUE AS window_complete
           FROM results WHERE date = $day::DATE - 5""",
        {"day": D},
    )
    return con


def test_a_run_of_several_days_gives_the_old_rows_their_arm_drawn_once():
    """A run of `conversions` for D measures D and the 4 days before: the `results` rows from before
    the column got their arm drawn (an UPDATE of the whole table) twice per day measured (10 times) and
    each conversion table's rows were counted each day (10 counts); now once and 2 counts. The rows
    get the same arms: k2 counts in `a`, in `results`, in the days measured and in the older day."""
    con = Counting(old_warehouse())
    run_conversions(con, config(), [D], lambda _: None)
    fills = [q for q in con.statements if "UPDATE results SET drawn_variant" in q]
    counts = [q for q in con.statements if "count(*)" in q and "WHERE drawn_variant IS NULL" in q]
    assert (len(fills), len(counts)) == (1, 2)
    arms = "SELECT list_sort(list(DISTINCT customer_id || ':' || drawn_variant)), count(*) FROM {}"
    assert con.execute(arms.format("results")).fetchone() == (["k1:a", "k2:a", "k3:control"], 18)
    assert con.execute(arms.format("conversions")).fetchone() == (["k1:a", "k2:a", "k3:control"], 18)
