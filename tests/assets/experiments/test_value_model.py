"""A clv model as the value of a conversion in decisions: the group keeps, per customer, the
experiment with the best score × clv × propensity (``value_model``), and the config refuses a value
model that is not a clv model."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from pipeline.core.warehouse import connect
from pipeline.experiments.decisions import decide
from tests.assets.experiments.world import START, N
from tests.conftest import example_dict


def test_a_clv_model_values_the_customers_in_the_groups_choice(world):
    """offer scores 0.9 and channel 0.1 (as in test_model_scores_from_predictions_decide_the_group,
    where offer wins everywhere); channel's value model gives every second customer a clv of 20 and
    the others 2: 0.1 × 20 × 0.5 = 1.0 beats 0.9 × 0.5 = 0.45 for the first, 0.1 × 2 × 0.5 does not."""
    _, config = world
    scored = config.model_copy(
        update={
            "experiments": [
                e.model_copy(
                    update={
                        "model": {"offer": "m_offer", "channel": "m_channel"}.get(e.name),
                        "value_model": "ltv" if e.name == "channel" else None,
                    }
                )
                for e in config.experiments
            ]
        }
    )
    day = START + dt.timedelta(days=2)
    with connect(config.warehouse_path) as con:
        con.execute("""CREATE TABLE predictions AS
                       SELECT DATE '2026-01-02' AS date, customuid AS customer_id, m AS model, 1 AS version,
                              CASE m WHEN 'm_offer' THEN 0.9 ELSE 0.1 END AS score
                       FROM customers, (VALUES ('m_offer'), ('m_channel')) t(m)""")
        con.execute("""CREATE TABLE clv AS
                       SELECT DATE '2026-01-02' AS date, customuid AS customer_id, 'ltv' AS model,
                              CASE WHEN row_number() OVER (ORDER BY customuid) % 2 = 1 THEN 20.0 ELSE 2.0 END
                              AS clv
                       FROM customers""")
        try:
            decide(con, scored, day)
            got = con.execute(
                "SELECT experiment, min(score), max(score), count(*) FROM results WHERE date = $d "
                "AND experiment_group = 'g' GROUP BY ALL ORDER BY ALL",
                {"d": day},
            ).fetchall()
        finally:
            con.execute("DROP TABLE predictions")
            con.execute("DROP TABLE clv")
            decide(con, config, day)
    assert got == [("channel", 1.0, 1.0, (N + 1) // 2), ("offer", 0.45, 0.45, N // 2)]


def test_a_value_model_must_be_a_clv_model():
    data = copy.deepcopy(example_dict())
    data["experiments"][0]["value_model"] = "purchase_30d"
    with pytest.raises(ConfigError) as e:
        parse_config(data, "nightjar.yaml", Path("."))
    assert e.value.problems[0][0] == "experiments[0].value_model"
    assert "'purchase_30d' is not a clv model (declared clv models: ['ltv'])" in e.value.problems[0][1]
    data["experiments"][0]["value_model"] = "ltv"
    assert parse_config(data, "nightjar.yaml", Path(".")).experiments[0].value_model == "ltv"


def test_a_value_model_is_refused_with_a_learned_policy():
    """A learned policy's score is the expected value of its draw (rate x the mean conversion value -
    cost), which never read the clv: with `policy: thompson`, `value_model: ltv` and an e-mail capacity
    of 200 of 4,000 customers (clv 20 for half of them, 2 for the others) the capacity kept customers of
    mean clv 10.8, where the uniform policy keeps those of clv 20. Now the config says so."""
    data = copy.deepcopy(example_dict())
    uplift = next(i for i, e in enumerate(data["experiments"]) if e.get("policy") == "uplift")
    data["experiments"][uplift]["value_model"] = "ltv"
    with pytest.raises(ConfigError) as e:
        parse_config(data, "nightjar.yaml", Path("."))
    assert e.value.problems[0][0] == f"experiments[{uplift}].value_model"
    assert "policy uplift values a conversion by the experiment's past conversions" in e.value.problems[0][1]
