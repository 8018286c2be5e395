"""The demo's closed loop: responses to the pipeline's decisions drawn from each customer's true rates."""

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd

from pipeline.demo import generate_world
from pipeline.demo.experiments import simulate_responses

START = dt.date(2026, 1, 1)


def test_responses_follow_each_customers_true_rate_and_the_truth_adds_up(tmp_path):
    summary = generate_world(tmp_path, customers=1500, days=4, start=START, seed=3)
    truth = pd.read_csv(tmp_path / "truth" / "decision_rates.csv")
    arms = ["control", "discount_10", "discount_20", "free_shipping"]
    decided = pd.DataFrame(
        {
            "date": START + dt.timedelta(days=1),
            "customer_id": truth.customuid,
            "experiment": "offer",
            "variant": np.take(arms, np.arange(len(truth)) % 4),
        }
    )
    pos_before = sum(len(p.read_text().splitlines()) for p in (tmp_path / "files").glob("trans_pos_*"))
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.register("decided", decided)
        con.execute("CREATE TABLE results AS SELECT * FROM decided")
    got = simulate_responses(warehouse, tmp_path, START + dt.timedelta(days=1), summary.end, 7, seed=3)
    pos_after = sum(len(p.read_text().splitlines()) for p in (tmp_path / "files").glob("trans_pos_*"))
    assert pos_after - pos_before == got["responses_appended_to_pos"] > 0
    offer = json.loads((tmp_path / "truth" / "experiments.json").read_text())["experiments"]["offer"]
    base = truth["offer__no_treatment"]
    for k, arm in enumerate(arms[1:], start=1):
        lift = float((truth[f"offer__{arm}"] - base).mean())
        assert abs(offer["true_abs_lift"][arm] - lift) < 1e-9
        given = np.arange(len(truth)) % 4 == k
        assert (
            abs(offer["true_incremental"][arm] - float((truth[f"offer__{arm}"] - base)[given].sum())) < 1e-4
        )
        sim = offer["simulated"][arm]
        rate = float(truth[f"offer__{arm}"][given].mean())
        se = np.sqrt(rate * (1 - rate) / sim["presented"])
        assert abs(sim["responded"] / sim["presented"] - rate) < 4 * se
    assert offer["true_incremental"]["control"] == 0
