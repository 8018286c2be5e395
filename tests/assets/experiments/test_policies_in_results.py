"""Decision policies in `results` on the experiments tests' hand-built world: every decision logs its
assignment probability, the uplift policy learns whom to treat, channels honour reach and capacity."""

from __future__ import annotations

import datetime as dt

from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from pipeline.experiments import policies
from pipeline.experiments.decisions import decide
from pipeline.experiments.policy_evaluation import policy_log
from pipeline.models.config import ModelSpec
from tests.assets.experiments.world import (
    START,
    rows,
)
from tests.conftest import example_dict


def test_every_decision_logs_its_assignment_probability(world):
    _, config = world
    got = rows(
        config,
        "SELECT experiment, variant, round(assignment_probability, 6), count(*) FROM results "
        "WHERE date = $d AND experiment IN ('ab', 'offer') GROUP BY ALL ORDER BY ALL",
        {"d": START + dt.timedelta(days=1)},
    )
    probability = {(e, v): p for e, v, p, _ in got}
    assert probability[("ab", "control")] == 0.5 and probability[("ab", "a")] == 0.25  # 0.5 x 1/2
    # offer without observed rates: 0.8 x (0.1 / 3 + 0.9 x 0.5 / 1.5)
    assert {probability[("offer", v)] for v in ("discount_10", "discount_20", "free_shipping")} == {
        round(0.8 / 3, 6)
    }


def test_the_uplift_policy_learns_who_to_treat_and_logs_its_probabilities(world):
    """Past presentations: buyers (every 3rd customer, in the features) convert 50% on discount_20
    against 10% without; every variant hurts the others (30% without, 10% with). In a group with an
    experiment that has nothing to learn from yet, only the buyers get the offer."""
    _, config = world
    model = ModelSpec.model_validate(example_dict()["models"][0])  # purchase_30d: its features
    uplift = config.model_copy(
        update={
            "groups": [],
            "models": [model],
            "experiments": [
                e.model_copy(update={"policy": "uplift", "model": "purchase_30d"})
                for e in config.experiments
                if e.name == "offer"
            ],
        }
    )
    grouped = uplift.model_copy(
        update={
            "groups": config.groups,
            "experiments": [
                e.model_copy(update={"policy": "uplift", "model": "purchase_30d", "audience": []})
                for e in config.experiments
                if e.name in ("offer", "channel")
            ],
        }
    )
    later = dt.date(2026, 2, 20)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_conversions"))
        con.execute("DELETE FROM conversions")
        con.execute("""INSERT INTO conversions
                       WITH p AS (SELECT i, printf('C%04d', i) AS c, i % 3 = 0 AS buyer FROM range(600) r(i))
                       SELECT DATE '2026-01-02', c, 'offer', v, v = 'control',
                              hash(c || v) % 100 < CASE
                                  WHEN buyer THEN (CASE v WHEN 'discount_20' THEN 50 ELSE 10 END)
                                  ELSE (CASE v WHEN 'control' THEN 30 ELSE 10 END) END,
                              0, 0, NULL, TIMESTAMP '2026-01-02', TIMESTAMP '2026-02-01', true, false, v
                     FROM p, (VALUES ('control'), ('discount_10'), ('discount_20'), ('free_shipping')) t(v)
                    """)
        con.execute("UPDATE conversions SET conversions = converted::INT")
        try:
            decide(con, uplift, later)
            first = con.execute("SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": later}).fetchall()
            decide(con, uplift, later)
            again = con.execute("SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": later}).fetchall()
            got = con.execute(
                """SELECT substr(customer_id, 2)::INT % 3 = 0 AS buyer, variant,
                          round(assignment_probability, 6), count(*)
                   FROM results WHERE date = $d GROUP BY ALL""",
                {"d": later},
            ).fetchall()
            # a group of uplift experiments: `channel` has nothing to learn from (expected value 0)
            decide(con, grouped, later)
            chosen = con.execute(
                """SELECT substr(customer_id, 2)::INT % 3 = 0 AS buyer, experiment, count(*)
                   FROM results WHERE date = $d GROUP BY ALL""",
                {"d": later},
            ).fetchall()
        finally:
            con.execute("DELETE FROM results WHERE date = $d", {"d": later})
            con.execute("DELETE FROM conversions")
    assert first == again
    count = {(b, v): n for b, v, _, n in got}
    probability = {(b, v): p for b, v, p, _ in got}
    assert count[(True, "discount_20")] > 0.8 * sum(n for (b, v), n in count.items() if b and v != "control")
    assert count[(False, "no_treatment")] > 0.8 * sum(
        n for (b, v), n in count.items() if not b and v != "control"
    )
    # exploration 0.1 among 4 arms, decayed for the 2,400 presentations learned from (600 x 4 arms);
    # control share 0.2; control and no_treatment are the same action
    floor = policies.decayed(0.1, 2400)
    assert 0.09 < floor < 0.1
    greedy = 1 - floor + floor / 4
    assert probability[(True, "discount_20")] == round(0.8 * greedy, 6)
    assert (
        probability[(False, "no_treatment")]
        == probability[(False, "control")]
        == round(0.2 + 0.8 * greedy, 6)
    )
    # the group decides by expected incremental value: buyers gain from the offer, the others lose
    assert {(b, e): n for b, e, n in chosen} == {(True, "offer"): 200, (False, "channel"): 400}


def test_channels_honour_reachability_and_capacity_exactly_and_send_at_lies_in_a_slot(world):
    """C0000-C0299 have an e-mail, C0200-C0399 a mobile id; e-mail takes 50 a day; slots 09:00, 18:00."""
    _, config = world
    variants = [
        v.model_copy(update={"reach": {"email": "email", "sms": "mobile"}.get(v.name)})
        for v in config.variants
    ]
    channel = config.experiment("channel").model_copy(
        update={"capacity": {"email": 50}, "slots": ["18:00", "09:00"], "control_share": 0.1}
    )
    nbc = config.model_copy(update={"groups": [], "variants": variants, "experiments": [channel]})
    day = START + dt.timedelta(days=2)
    with connect(config.warehouse_path) as con:
        con.execute("""INSERT INTO customer_identities
                       SELECT printf('C%04d', i), kind, 'x' || i, 'customers', false, false
                       FROM range(400) r(i), (VALUES ('emailsha256'), ('idfa')) t(kind)
                       WHERE (kind = 'emailsha256' AND i < 300) OR (kind = 'idfa' AND i >= 200)""")
        try:
            decide(con, nbc, day)
            got = con.execute(
                """SELECT variant, substr(customer_id, 2)::INT AS i, send_at, reason FROM results
                   WHERE date = $d AND experiment = 'channel'""",
                {"d": day},
            ).fetchall()
            # a day on which the capacity bound is left out of the off-policy evaluation whole
            con.execute(sql("experiments/create_conversions"))
            con.execute(
                """INSERT INTO conversions BY NAME
                   SELECT date, customer_id, experiment, variant, variant = 'control' AS is_control,
                          false AS converted, 0 AS conversions, 0 AS value, date::TIMESTAMP AS window_start,
                          date::TIMESTAMP AS window_end, true AS window_complete
                   FROM results WHERE date = $d AND experiment = 'channel'""",
                {"d": day},
            )
            logged = policy_log(con, channel)
            con.execute(
                "UPDATE results SET reason = 'drawn' WHERE date = $d AND experiment = 'channel'", {"d": day}
            )
            unbound = policy_log(con, channel)
        finally:
            con.execute("DELETE FROM conversions")
            con.execute("DELETE FROM customer_identities WHERE value LIKE 'x%'")
            decide(con, config, day)
    given = {v: [i for v2, i, _, _ in got if v2 == v] for v in ("email", "sms", "no_treatment", "control")}
    assert len(given["email"]) == 50  # capacity: exactly, the overflow gets nothing
    assert all(i < 300 for i in given["email"]) and all(200 <= i < 400 for i in given["sms"])
    assert all(i < 400 for _, i, _, _ in got)  # C0400.. reach no channel: no decision
    assert given["no_treatment"] and all(i < 300 for i in given["no_treatment"])
    assert all("capacity: email takes 50 a day" in r for v, _, _, r in got if v == "no_treatment")
    sent = [(v, s) for v, _, s, _ in got]
    slots = {dt.datetime.combine(day, dt.time(9)), dt.datetime.combine(day, dt.time(18))}
    assert all(s in slots for v, s in sent if v in ("email", "sms"))
    assert all(s is None for v, s in sent if v in ("control", "no_treatment"))
    assert logged.empty and len(unbound) == len(got)
