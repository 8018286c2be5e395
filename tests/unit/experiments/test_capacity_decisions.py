"""A variant's daily capacity (sql/experiments/capacity.sql) over a small warehouse in memory."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.experiments.decisions import decide
from tests.conftest import example_dict

DAY = dt.date(2026, 3, 1)
CUSTOMERS = 4000
CAPACITY = 200


def capacity_config():
    """An A/B test of e-mail against SMS (no reach, no model: every customer's expected value is the
    same), e-mail taking CAPACITY a day."""
    data = copy.deepcopy(example_dict())
    data.pop("models", None)
    for variant in data["variants"]:
        variant.pop("reach", None)
    data["experiments"] = [
        {
            "name": "channel",
            "type": "AB",
            "variants": ["email", "sms"],
            "control_share": 0.0,
            "capacity": {"email": CAPACITY},
        }
    ]
    data["groups"] = []
    data["conversions"]["definitions"] = []
    return parse_config(data, "nightjar.yaml", Path("."))


def test_ties_at_a_capacity_are_broken_anew_each_night():
    """Every customer's expected value ties, so the hash alone chooses who of those drawn e-mail gets
    it. It was a hash of (customer, experiment): each night the same customers (of the lowest hashes)
    got the e-mail and the others lost it every night they drew it. Now the night is in the hash: of
    the customers given the e-mail on the first night who draw it on the second, about the capacity's
    share of the draws (a tenth) get it again, not nearly all."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at "
        "FROM range($n) t(i)",
        {"n": CUSTOMERS},
    )
    config = capacity_config()
    for k in range(2):
        decide(con, config, DAY + dt.timedelta(days=k))
    drawn, again = con.execute(
        """WITH nights AS (
               SELECT customer_id,
                      bool_or(date = $d1 AND variant = 'email') AS first_given,
                      bool_or(date = $d2 AND (variant = 'email' OR reason LIKE 'capacity: email%')) AS drawn,
                      bool_or(date = $d2 AND variant = 'email') AS given
               FROM results GROUP BY customer_id)
           SELECT count(*) FILTER (WHERE first_given AND drawn),
                  count(*) FILTER (WHERE first_given AND given)
           FROM nights""",
        {"d1": DAY, "d2": DAY + dt.timedelta(days=1)},
    ).fetchone()
    assert con.execute("SELECT count(*) FROM results WHERE variant = 'email' GROUP BY date").fetchall() == [
        (CAPACITY,),
        (CAPACITY,),
    ]
    assert drawn > 50  # about half of the first night's CAPACITY draw e-mail again
    assert again / drawn < 0.3  # about a tenth (CAPACITY of about 2,000 draws), was nearly 1
