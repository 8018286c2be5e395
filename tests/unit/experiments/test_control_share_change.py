"""A `control_share` changed in a running experiment (sql/experiments/decide.sql): a customer the
experiment already decided keeps the side of their first decision and the share it was drawn with
(results.control_share), only the customers new to it are split by the new share; the report's
sample-ratio check expects each customer in control with the share of their side
(sql/experiments/srm_customers.sql), so the change is no mismatch and a real imbalance still is."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments import stats
from pipeline.experiments.config import ExperimentsConfig
from pipeline.experiments.decisions import decide
from pipeline.experiments.report import MATCHED, build_report
from tests.conftest import example_dict
from tests.unit.experiments.test_group_decisions import group_config

D1 = dt.date(2026, 3, 1)
NIGHTS = 6
CUSTOMERS = 10_000
BEFORE, AFTER = 0.1, 0.3  # the share of the first three nights, then of the last three


def offer(share: float, cadence_days: int | None = None) -> ExperimentsConfig:
    """`offer` alone (uniform, two variants) with control share ``share``."""
    config = group_config()
    exp = config.experiment("offer").model_copy(update={"control_share": share, "cadence_days": cadence_days})
    return config.model_copy(update={"experiments": [exp], "groups": []})


def grouped(offer_share: float) -> ExperimentsConfig:
    """`offer` (control ``offer_share``) and `channel` (control 0.2) in one group, every 2 nights."""
    config = group_config()
    shares = {"offer": offer_share, "channel": 0.2}
    exps = [
        e.model_copy(update={"control_share": shares[e.name], "cadence_days": 2}) for e in config.experiments
    ]
    return config.model_copy(update={"experiments": exps})


def customers() -> duckdb.DuckDBPyConnection:
    """A sixth of the customers first seen the day before each night, so every night has new ones."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, "
        "$d::TIMESTAMP + INTERVAL (i % $nights - 1) DAY AS _first_seen_at FROM range($n) t(i)",
        {"d": D1, "nights": NIGHTS, "n": CUSTOMERS},
    )
    return con


def decided(config_of, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """The ``NIGHTS`` nights from D1 decided, the config of night k ``config_of(k)``."""
    con = con or customers()
    for k in range(NIGHTS):
        decide(con, config_of(k), D1 + dt.timedelta(k))
    return con


def switched(con: duckdb.DuckDBPyConnection) -> int:
    """The customers of an experiment both held out and treated on some nights."""
    return con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM results GROUP BY customer_id, experiment "
        "HAVING count(DISTINCT is_control) > 1)"
    ).fetchone()[0]


def raised() -> duckdb.DuckDBPyConnection:
    return decided(lambda k: offer(BEFORE if k < 3 else AFTER))


@pytest.fixture(scope="module")
def raised_file(tmp_path_factory) -> str:
    """``raised()`` decided once for the module's tests, written to a file."""
    path = str(tmp_path_factory.mktemp("raised") / "raised.duckdb")
    con = raised()
    try:
        con.execute("ATTACH $path AS f", {"path": path})
        con.execute("COPY FROM DATABASE memory TO f")
    finally:
        con.close()
    return path


def raised_copy(path: str) -> duckdb.DuckDBPyConnection:
    """A warehouse in memory of its own holding ``raised_file``'s tables: a test may change it."""
    con = duckdb.connect()
    con.execute("ATTACH $path AS src (READ_ONLY)", {"path": path})
    con.execute("COPY FROM DATABASE src TO memory")
    con.execute("DETACH src")
    return con


def test_a_customer_keeps_the_side_and_share_of_their_first_decision(raised_file):
    """Before, the share raised from 0.1 to 0.3 after the third night moved the customers whose hash
    lies between the two from treated to control (1,251 of the 10,000); now none moves, those first
    decided on the first three nights keep 0.1 and the new ones are split by 0.3."""
    con = raised_copy(raised_file)
    assert switched(con) == 0
    firsts = con.execute(
        """SELECT first_date < $d4, count(*), sum(is_control::INT), min(shares), max(shares)
           FROM (SELECT customer_id, min(date) AS first_date, arg_min(is_control, date) AS is_control,
                        list_distinct(list(control_share)) AS shares
                 FROM results GROUP BY customer_id)
           GROUP BY ALL ORDER BY 1 DESC""",
        {"d4": D1 + dt.timedelta(3)},
    ).fetchall()
    (early, n_early, c_early, lo_early, hi_early), (_, n_late, c_late, lo_late, hi_late) = firsts
    assert (early, n_early, n_late) == (True, 5001, 4999)  # first seen before nights 1-3, 4-6
    assert lo_early == hi_early == [BEFORE] and lo_late == hi_late == [AFTER]
    for held_out, n, share in ((c_early, n_early, BEFORE), (c_late, n_late, AFTER)):
        assert abs(held_out - n * share) < 4 * (n * share * (1 - share)) ** 0.5
    # the probability each row's arm had is that of its side's draw: control_share for control,
    # (1 - control_share) x 1/2 for each of the two variants (exploration 0.5 over equal propensities)
    wrong = con.execute(
        """SELECT count(*) FROM results
           WHERE abs(assignment_probability - CASE WHEN is_control THEN control_share
                                                   ELSE (1 - control_share) / 2 END) > 1e-12"""
    ).fetchone()[0]
    assert wrong == 0


def test_a_row_decided_before_the_column_keeps_its_side():
    """Rows decided before results.control_share (NULL) keep their side; the next rows carry the
    experiment's share as the one it was drawn with."""
    con = customers()
    con.execute(sql("experiments/create_results"))
    con.execute(
        """INSERT INTO results BY NAME
           SELECT $d - 1 AS date, 'k' || i AS customer_id, 'offer' AS experiment, 'control' AS variant,
                  TRUE AS is_control, 1.0 AS score, 'control: held out' AS reason
           FROM range(200) t(i)""",
        {"d": D1},
    )
    decide(con, offer(BEFORE), D1)
    kept = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_control AND control_share = $s) FROM results "
        "WHERE date = $d AND customer_id IN (SELECT 'k' || i FROM range(200) t(i))",
        {"d": D1, "s": BEFORE},
    ).fetchone()
    assert kept == (200 // NIGHTS + 1, 200 // NIGHTS + 1)  # those seen before D1: every sixth


def test_a_group_on_a_cadence_keeps_each_experiment_s_sides():
    """In a group on a 2-night cadence a customer decided by `offer` on one night may be decided by
    `channel` on another: each experiment has its own control, and raising `offer`'s share moves none
    of either's customers."""
    con = decided(lambda k: grouped(BEFORE if k < 3 else AFTER))
    assert switched(con) == 0
    shares = dict(
        con.execute(
            "SELECT experiment, list_sort(list(DISTINCT control_share)) FROM results GROUP BY ALL"
        ).fetchall()
    )
    assert shares == {"offer": [BEFORE, AFTER], "channel": [0.2]}


def with_conversions(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`conversions` of every decision, windows complete, nothing converted."""
    con.execute(sql("experiments/create_conversions"))
    con.execute(
        """INSERT INTO conversions BY NAME
           SELECT date, customer_id, experiment, variant, drawn_variant, is_control, FALSE AS converted,
                  0 AS conversions, 0 AS value, date::TIMESTAMP AS window_start,
                  date::TIMESTAMP AS window_end, TRUE AS window_complete
           FROM results"""
    )
    return con


def srm(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "SELECT DISTINCT srm_chi2, srm_mismatch FROM experiment_report WHERE scope = 'total'"
    ).fetchone()


def split(con: duckdb.DuckDBPyConnection) -> tuple[int, float, float]:
    """The customers held out, and the sums over all customers of their side's share s and s (1 - s)."""
    return con.execute(
        """SELECT count(*) FILTER (WHERE c), sum(s), sum(s * (1 - s))
           FROM (SELECT arg_min(is_control, date) AS c, arg_min(control_share, date) AS s
                 FROM results GROUP BY customer_id)"""
    ).fetchone()


def test_the_sample_ratio_check_expects_each_customer_s_share(raised_file):
    """Tested against the new share 0.3 alone, the customers split by 0.1 and then 0.3 were a mismatch
    (before the fix: 2,707 held out of 10,000, chi-square 43.6); now each is expected in control with
    the share of their side: 2,034 held out where 2,000 were expected, no mismatch."""
    con = with_conversions(raised_copy(raised_file))
    build_report(con, offer(AFTER))
    control, expected, variance = split(con)
    assert expected == pytest.approx(5001 * BEFORE + 4999 * AFTER)
    want = stats.srm_drawn(control, expected, variance)
    assert srm(con) == (pytest.approx(want.chi2, abs=1e-9), False)
    # with one share the check is Pearson's chi-square of the split, as before
    same = with_conversions(decided(lambda _: offer(AFTER)))
    build_report(same, offer(AFTER))
    control = same.execute(
        "SELECT count(DISTINCT customer_id) FILTER (WHERE is_control) FROM results"
    ).fetchone()
    assert srm(same) == (pytest.approx(stats.srm(control[0], CUSTOMERS - control[0], AFTER).chi2), False)


def test_a_real_imbalance_after_a_change_is_still_a_mismatch(raised_file):
    """300 treated customers new on the last nights counted held out (a broken hold-out): a mismatch."""
    con = with_conversions(raised_copy(raised_file))
    control, expected, variance = split(con)
    con.execute(
        """UPDATE conversions SET is_control = TRUE, variant = 'control', drawn_variant = 'control'
           WHERE customer_id IN (SELECT customer_id FROM results GROUP BY ALL
                                 HAVING min(date) >= $d4 AND NOT bool_or(is_control)
                                 ORDER BY customer_id LIMIT 300)""",
        {"d4": D1 + dt.timedelta(3)},
    )
    build_report(con, offer(AFTER))
    want = stats.srm_drawn(control + 300, expected, variance)
    assert srm(con) == (pytest.approx(want.chi2, abs=1e-9), True)
    assert want.chi2 > 30


def thompson(share: float) -> ExperimentsConfig:
    """`offer` of the thompson policy (three variants), control share ``share``."""
    data = copy.deepcopy(example_dict())
    variants = ["discount_10", "discount_20", "free_shipping"]
    exp = {
        "name": "offer",
        "type": "NBO",
        "policy": "thompson",
        "model": "purchase_30d",
        "variants": variants,
    }
    data["experiments"], data["groups"] = [{**exp, "control_share": share}], []
    definitions = data["conversions"]["definitions"]
    data["conversions"]["definitions"] = [d for d in definitions if d["experiment"] == "offer"]
    return parse_config(data, "nightjar.yaml", Path("."))


def test_a_learned_policy_s_matched_splits_expect_each_customer_s_share():
    """A learned policy's treated rows check their matched split (the customers drawn the variant, held
    out or not): against 0.3 alone each was a mismatch after the change (chi-square 498-569), now none
    (0.2-2.7), and the experiment's split is the uniform one's (1,949 held out, chi-square 1.7)."""
    con = with_conversions(decided(lambda k: thompson(BEFORE if k < 3 else AFTER)))
    assert switched(con) == 0
    build_report(con, thompson(AFTER))
    rows = con.execute(
        "SELECT variant, comparison, srm_chi2, srm_mismatch FROM experiment_report WHERE scope = 'total'"
    ).fetchall()
    assert [r[1] for r in rows] == [None, MATCHED, MATCHED, MATCHED]
    assert max(r[2] for r in rows) < 5 and not any(r[3] for r in rows)
