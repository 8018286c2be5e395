"""The demo's closed loop: responses to the pipeline's decisions drawn from each customer's true rates,
landing in the point-of-sale files of the days after the night, the truth only under truth/."""

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd

from pipeline.demo import generate_world
from pipeline.demo.experiments import simulate_responses

START = dt.date(2026, 1, 1)
ARMS = ["control", "discount_10", "discount_20", "free_shipping"]


def decide(warehouse, truth: pd.DataFrame, day: dt.date, experiment: str) -> None:
    """A night of results: every customer, the arms in turn."""
    decided = pd.DataFrame(
        {
            "date": day,
            "customer_id": truth.customuid,
            "experiment": experiment,
            "variant": np.take(ARMS, np.arange(len(truth)) % 4),
        }
    )
    with duckdb.connect(str(warehouse)) as con:
        con.register("decided", decided)
        con.execute("CREATE OR REPLACE TABLE results AS SELECT * FROM decided")


def pos_rows(folder) -> dict[str, int]:
    return {p.name: len(p.read_text().splitlines()) for p in sorted((folder / "files").glob("trans_pos_*"))}


def test_responses_follow_each_customers_true_rate_and_land_after_the_night(tmp_path):
    summary = generate_world(tmp_path, customers=1500, days=6, start=START, seed=3)
    truth = pd.read_csv(tmp_path / "truth" / "decision_rates.csv")
    night = START + dt.timedelta(days=1)
    warehouse = tmp_path / "w.duckdb"
    decide(warehouse, truth, night, "offer")
    before = pos_rows(tmp_path)
    got = simulate_responses(warehouse, tmp_path, night, summary.end, 4, seed=3)
    after = pos_rows(tmp_path)
    grew = {f: after[f] - before[f] for f in after if after[f] != before[f]}
    # the responses land on the 3 days after the night (window 4: the night and 3 more), never on it
    assert set(grew) == {f"trans_pos_{night + dt.timedelta(days=k):%Y%m%d}.csv" for k in (1, 2, 3)}
    assert sum(grew.values()) == got["responses_appended_to_pos"] > 0
    assert got["nights"] == [
        {"date": night.isoformat(), "decisions": len(truth), "responses_appended_to_pos": sum(grew.values())}
    ]
    offer = json.loads((tmp_path / "truth" / "experiments.json").read_text())["experiments"]["offer"]
    base = truth["offer__no_treatment"]
    for k, arm in enumerate(ARMS[1:], start=1):
        given = np.arange(len(truth)) % 4 == k
        # the lift the report measures: the arm's customers' true rate - everyone's no-treatment rate
        assert (
            abs(offer["true_abs_lift"][arm] - float(truth[f"offer__{arm}"][given].mean() - base.mean()))
            < 1e-5
        )
        gain = float((truth[f"offer__{arm}"] - base)[given].sum())
        assert abs(offer["true_incremental"][arm] - gain) < 1e-3
        sim = offer["simulated"][arm]
        rate = float(truth[f"offer__{arm}"][given].mean())
        se = np.sqrt(rate * (1 - rate) / sim["presented"])
        assert abs(sim["responded"] / sim["presented"] - rate) < 4 * se
    assert (
        offer["true_incremental"]["control"] == 0
        and offer["decisions"] == len(truth) - (np.arange(len(truth)) % 4 == 0).sum()
    )


def test_each_night_adds_its_decisions_to_the_truth_and_offer_uplift_has_the_offers_rates(tmp_path):
    summary = generate_world(tmp_path, customers=400, days=6, start=START, seed=4)
    truth = pd.read_csv(tmp_path / "truth" / "decision_rates.csv")
    warehouse = tmp_path / "w.duckdb"
    for k, experiment in ((1, "offer"), (2, "offer_uplift")):
        decide(warehouse, truth, START + dt.timedelta(days=k), experiment)
        got = simulate_responses(warehouse, tmp_path, START + dt.timedelta(days=k), summary.end, 6, seed=4)
    log = pd.read_csv(tmp_path / "truth" / "decisions.csv")
    assert len(log) == 2 * len(truth) and [n["decisions"] for n in got["nights"]] == [len(truth)] * 2
    second = log[log.experiment == "offer_uplift"].set_index("customer_id")
    given = second.variant.where(second.variant != "control", "no_treatment")
    expected = [truth.set_index("customuid").loc[c, f"offer__{v}"] for c, v in given.items()]
    rate = np.where(second.repeat, 0.95, expected)
    assert np.allclose(second.rate, rate, atol=1e-6)
    # a night's responses land before the world ends, on the days after the night
    landed = pd.to_datetime(log.response_on[log.responded]).dt.date
    assert (landed > pd.to_datetime(log.date[log.responded]).dt.date).all() and (landed <= summary.end).all()
    assert set(got["experiments"]) == {"offer", "offer_uplift"}
