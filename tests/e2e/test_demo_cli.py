"""End to end: `nightjar demo` as a user runs it, then the dagster CLI and `nightjar backfill` on it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.demo.experiments import PRODUCT
from pipeline.demo.population import RATES
from tests.conftest import ROOT
from tests.e2e.demo_checks import consistent_with_95, env_for, first_day, q, true_policy_values

DAYS = 17  # the demo runs on today's dates, as `make demo` does: the DAYS days before today
NIGHTS = 4  # of the closed loop (make demo: 5, days 9..13), days 9..12: a night less keeps the fixture short
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    nightjar = Path(sys.executable).parent / "nightjar"
    run = subprocess.run(
        [
            str(nightjar),
            "demo",
            "--customers",
            "2000",
            "--days",
            str(DAYS),
            "--nights",
            str(NIGHTS),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(home),
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out, home, run.stdout


def test_demo_prints_progress_and_a_summary(demo):
    out, _, stdout = demo
    assert f"[1/3] generating the demo world: 2000 customers, {DAYS} days" in stdout
    # an ETA from the start: the first run has no earlier one to go by and says so; the nights have
    plans = [ln for ln in stdout.splitlines() if ln.startswith("[progress] planning one run")]
    assert len(plans) == NIGHTS + 1  # up to the eve (deciding the first day), the nights after, the rest
    assert plans[0].endswith(", no earlier run of the job to estimate from, ETA after the first step")
    assert all(re.search(r", ETA [^,]+ \(estimate from earlier runs\)$", ln) for ln in plans[1:]), plans
    counts = [re.match(r"\[progress\] (\d+)/(\d+) assets", ln) for ln in stdout.splitlines()]
    unfinished = [m.string for m in counts if m and m[1] != m[2]]
    assert unfinished and all(", ETA " in ln for ln in unfinished)
    assert "[3/3] summary" in stdout
    assert re.search(r"\| tx_pos \| \d+ \|", stdout)
    assert "Rejected rows by reason" in stdout and "Failed loads: 0" in stdout
    assert f"Warehouse: {out / 'warehouse.duckdb'}" in stdout and "make dev" in stdout


def test_demo_warehouse_has_the_expected_tables_and_counts(demo):
    out, _, _ = demo
    tables = {r[0] for r in q(out, "SELECT table_name FROM information_schema.tables")}
    frames = {t for t in tables if t.startswith("policy_features__")}  # kept by policy_evaluation
    assert frames == {r[0] for r in q(out, "SELECT frame FROM policy_feature_frames")}
    assert tables - frames == {
        "customers",
        "tx_pos",
        "tx_web_sessions",
        "tx_campaign_events",
        "loads",
        "rejects",
        "customer_identities",
        "customer_identity_keys",
        "identity_event_changes",  # the days and customers whose events a rebuild changed, till attributed
        "events",
        "built_event_days",  # the days whose events were built (a key no longer excluded gets them back)
        "customer_tables",
        "kpi_customers",
        "kpi_reachability",
        "kpi_events",
        "kpi_purchases",
        "kpi_web",
        "kpi_customer_behaviour",
        "built_kpis",  # what each KPI table was last built from (its next update reads it)
        "built_kpi_plots",  # each KPI's last plot, drawn again when its rows change
        "attribution_credits",
        "attribution_summary",
        "attribution_days",  # the days attributed, with or without conversions
        "part_fingerprints",  # per day of attribution_credits: its rows and fingerprint (the snapshot's)
        "model_trainings",
        "model_feature_impact",
        "model_beeswarm",
        "model_dependence",
        "predictions",
        "clv",  # created with the model tables; empty: the demo declares no clv model
        "results",
        "conversions",
        "guardrail_conversions",
        "experiment_report",
        "built_experiment_plots",  # the report's last forest plot, drawn again when its rows change
        "policy_evaluation",
        "policy_feature_frames",  # which customer feature frames policy_evaluation keeps, and of what
    }
    truth = list(csv.DictReader((out / "truth" / "customers.csv").open()))
    assert q(out, "SELECT count(*), count(DISTINCT customuid) FROM customers") == [(len(truth), len(truth))]
    per_day = q(out, "SELECT dataset, count(DISTINCT partition_date) FROM loads GROUP BY 1 ORDER BY 1")
    assert per_day == [("campaign_events", DAYS), ("customers", DAYS), ("pos", DAYS), ("web_sessions", DAYS)]
    for table in ("tx_pos", "tx_web_sessions"):
        days = q(
            out,
            "SELECT min(_partition_date), max(_partition_date), count(DISTINCT _partition_date) FROM "
            f"{table}",
        )
        assert days == [(first_day(out), first_day(out) + dt.timedelta(days=DAYS - 1), DAYS)]
    # the first day's campaign file: only the header unless it is a send weekday (the demo's dates are
    # today's, so which it is depends on the day the test runs)
    first = q(
        out,
        "SELECT status, rows_read FROM loads WHERE dataset = 'campaign_events' AND partition_date = $d",
        {"d": first_day(out)},
    )
    if first_day(out).weekday() in RATES["campaign_weekdays"]:
        assert first[0][0] == "LOADED" and first[0][1] > 0, first
    else:
        assert first == [("PROCESSED", 0)]
    assert q(out, "SELECT count(*) FROM loads WHERE status = 'FAILED'") == [(0,)]


def test_every_load_adds_up(demo):
    out, _, _ = demo
    loads = q(out, "SELECT dataset, partition_date, rows_read, rows_loaded, rows_rejected FROM loads")
    assert loads and all(read == loaded + rejected for _, _, read, loaded, rejected in loads)
    for dataset, table, time_field in [
        ("pos", "tx_pos", "purchased_at"),
        ("web_sessions", "tx_web_sessions", "started_at"),
    ]:
        # each partition holds what its last load loaded (the tests below load some days again)
        loaded = q(
            out,
            f"""SELECT sum(rows_loaded) FROM loads WHERE dataset = '{dataset}' AND load_id IN (
                                SELECT max(load_id) FROM loads GROUP BY dataset, partition_date)""",
        )[0][0]
        assert q(out, f"SELECT count(*) FROM {table}") == [(loaded,)]
        outside = q(out, f"SELECT count(*) FROM {table} WHERE CAST({time_field} AS DATE) <> _partition_date")
        assert outside == [(0,)]


def test_every_deliberately_bad_row_is_rejected_with_a_reason_naming_the_field(demo):
    out, _, _ = demo
    bad = list(csv.DictReader((out / "truth" / "bad_rows.csv").open()))
    assert len(bad) > 10
    rejects = {
        (f, n): (field, reason)
        for f, n, field, reason in q(out, "SELECT file, row_number, field, reason FROM rejects")
    }
    for row in bad:
        key = (row["file"], int(row["row_number"]))
        assert key in rejects, row
        field, reason = rejects[key]
        assert field == row["field"] and reason.startswith(row["field"] + ":"), (row, reason)
    assert len(rejects) == len(bad)  # and nothing else was rejected


def test_the_demo_trains_and_scores_its_models(demo):
    out, _, _ = demo
    last = first_day(out) + dt.timedelta(days=DAYS - 1)
    ask = "SELECT model, status, coalesce(reason, error) FROM model_trainings WHERE version = $d ORDER BY 1"
    trainings = q(out, ask, {"d": last})
    assert [m for m, _, _ in trainings] == ["churn_60d", "ltv", "product_recommender", "purchase_30d"]
    # a new version that scores worse than the current one is REJECTED with its reason (champion kept);
    # ltv (clv, no champion) stores the BG/NBD fit of the 17 days up to the day, which has a finite fit
    assert all(s == "FINISHED" or (s == "REJECTED" and r and m != "ltv") for m, s, r in trainings), trainings
    customers = q(out, "SELECT count(*) FROM customers WHERE NOT starts_with(customuid, 'TEST')")[0][0]
    buyers = q(out, "SELECT count(DISTINCT customer_id) FROM events WHERE type = 'completedOrder'")[0][0]
    champions = q(
        out,
        "SELECT model, max(version) FROM model_trainings WHERE status = 'FINISHED' GROUP BY 1 ORDER BY 1",
    )
    assert dict(champions)["ltv"] == last
    assert q(
        out,
        "SELECT model, count(*), min(version) FROM predictions WHERE date = $d GROUP BY 1 ORDER BY 1",
        {"d": last},
    ) == [(m, buyers if m == "ltv" else customers, v) for m, v in champions]  # ltv: customers with a purchase
    assert (out / "models" / "purchase_30d" / last.isoformat() / "model.txt").is_file()


def test_the_truth_stays_out_of_the_warehouse(demo):
    out, _, _ = demo
    columns = {r[0] for r in q(out, "SELECT column_name FROM information_schema.columns")}
    assert not columns & {"propensity", "churn_risk", "churned_on", "email"}
    hashes = q(out, "SELECT emailsha256 FROM customers WHERE emailsha256 IS NOT NULL")
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}(,[0-9a-f]{64})*", h) for (h,) in hashes)
    assert q(out, "SELECT count(*) FROM rejects WHERE raw_row LIKE '%@%'") == [(0,)]


def test_the_demo_run_is_kept_for_the_ui(demo):
    out, home, _ = demo
    start = first_day(out)
    instance = dg.DagsterInstance.from_config(str(home))
    runs = instance.get_runs()
    # one run up to the eve of the first day (it decides that day), one nightly run per night after, the rest
    assert len(runs) == NIGHTS + 1 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    spans = sorted(
        (
            dt.date.fromisoformat(r.tags["dagster/asset_partition_range_start"]),
            dt.date.fromisoformat(r.tags["dagster/asset_partition_range_end"]),
        )
        for r in runs
    )
    first_night = start + dt.timedelta(days=8)
    assert spans[0] == (start, first_night - dt.timedelta(days=1))
    assert spans[1:-1] == [(first_night + dt.timedelta(days=k),) * 2 for k in range(NIGHTS - 1)]
    assert spans[-1] == (first_night + dt.timedelta(days=NIGHTS - 1), start + dt.timedelta(days=DAYS - 1))


def test_dagster_cli_materializes_one_partition(demo):
    out, home, _ = demo
    day = first_day(out) + dt.timedelta(days=4)
    before = q(
        out, "SELECT * EXCLUDE (_load_id) FROM tx_pos WHERE _partition_date = $d ORDER BY ALL", {"d": day}
    )
    dagster = Path(sys.executable).parent / "dagster"
    run = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "pipeline.definitions",
            "--select",
            "tx_pos",
            "--partition",
            day.isoformat(),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(home, out / "nightjar.yaml"),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    after = q(
        out, "SELECT * EXCLUDE (_load_id) FROM tx_pos WHERE _partition_date = $d ORDER BY ALL", {"d": day}
    )
    assert after == before and len(after) > 0
    assert q(out, "SELECT count(*) FROM loads WHERE dataset = 'pos' AND partition_date = $d", {"d": day}) == [
        (2,)
    ]


def test_nightjar_backfill_of_a_range(demo):
    out, home, _ = demo
    first, last = first_day(out) + dt.timedelta(days=1), first_day(out) + dt.timedelta(days=2)
    before = q(out, "SELECT count(*) FROM tx_web_sessions")
    nightjar = Path(sys.executable).parent / "nightjar"
    run = subprocess.run(
        [
            str(nightjar),
            "backfill",
            "--from",
            first.isoformat(),
            "--to",
            last.isoformat(),
            "--config",
            str(out / "nightjar.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(home),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # the demo's runs are on the instance: the time left is known before the first step
    lines = run.stdout.splitlines()
    planning = next(ln for ln in lines if ln.startswith("[progress] planning one run of 2 day(s)"))
    first_step = next(ln for ln in lines if re.match(r"\[progress\] 0/\d+ assets, 2 days, running ", ln))
    for line in (planning, first_step):
        assert line.endswith(" (estimate from earlier runs)"), line
    assert q(out, "SELECT count(*) FROM tx_web_sessions") == before
    assert q(
        out,
        "SELECT count(*) FROM loads WHERE dataset = 'web_sessions' AND partition_date BETWEEN $a AND $b",
        {"a": first, "b": last},
    ) == [(4,)]


# Tables that hold no personal data. Every other table must be registered in customer_tables (or
# have a customer_id / customuid column) so that `nightjar forget` reaches it: a new output table
# fails this test until it registers itself or is added here on purpose.
IMPERSONAL = {
    "loads",
    "customer_tables",
    "forget_log",
    "forget_pending",  # the forgets the published snapshot may still hold: an id and a time
    "kpi_customers",
    "kpi_reachability",
    "kpi_events",
    "kpi_purchases",
    "kpi_web",
    "built_kpis",  # per day: counts and fingerprints of what the KPIs were built from
    "built_event_days",  # the days whose events were built
    "built_kpi_plots",  # each KPI's last plot and the digest of its rows
    "attribution_summary",
    "attribution_days",  # the days attributed
    "part_fingerprints",  # per table and day: rows and a fingerprint of them
    "model_trainings",
    "model_feature_impact",
    "experiment_report",
    "built_experiment_plots",  # the report's last forest plot and the digest of its rows
    "policy_evaluation",
    "policy_feature_frames",  # a model, a cut-off and a fingerprint per kept frame
}
SPECIAL = {"rejects"}  # raw rows: forget matches the customer's identifiers in their text


def test_every_table_of_the_warehouse_is_reached_by_forget_or_holds_no_personal_data(demo):
    out, _, _ = demo
    tables = {r[0] for r in q(out, "SELECT table_name FROM information_schema.tables")}
    registered = {r[0] for r in q(out, "SELECT DISTINCT table_name FROM customer_tables")}
    keyed = {
        r[0]
        for r in q(
            out,
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE column_name IN ('customer_id', 'customuid')",
        )
    }
    assert tables - registered - keyed - IMPERSONAL - SPECIAL == set()
    assert {
        "customers",
        "customer_identities",
        "events",
        "tx_pos",
        "tx_web_sessions",
        "tx_campaign_events",
        "kpi_customer_behaviour",
    } <= registered


def test_experiment_report_measures_the_true_effects_of_the_demo_world(demo):
    """The closed loop of pipeline/demo/experiments.py on today's dates: the report's lifts against
    truth/experiments.json. Who gets which variant depends on the dates, so the check is statistical:
    the intervals cover the true lifts as often as 95 % intervals should; CUPED narrows every one."""
    out, _, stdout = demo
    truth = json.loads((out / "truth" / "experiments.json").read_text())
    assert "the world responded with" in stdout
    rows = q(
        out,
        """SELECT experiment, variant, presented, converted, abs_lift_low, abs_lift_high, value_lift_low,
                  value_lift_high, cuped_abs_lift_low, cuped_abs_lift_high, srm_mismatch, windows
           FROM experiment_report WHERE scope = 'total' AND NOT is_control AND metric = 'primary'
           ORDER BY experiment, variant""",
    )
    # every variant each experiment gave (the uplift policy's no_treatment included) over the nights
    given = {(e, v) for e, t in truth["experiments"].items() for v in t["true_abs_lift"]}
    assert {(r[0], r[1]) for r in rows} == given
    assert {e for e, _ in given} == {"offer", "offer_uplift", "channel"}
    # the uniform experiments against the whole control group; the uplift policy's variants against the
    # control customers drawn them, and its truth the effect on the customers given each variant
    compared = q(out, "SELECT DISTINCT experiment, comparison FROM experiment_report WHERE NOT is_control")
    assert dict(compared) == {
        "offer": "whole control",
        "channel": "whole control",
        "offer_uplift": "matched control",
    }
    policies = {e: t["policy"] for e, t in truth["experiments"].items()}
    assert policies == {"offer": "uniform", "channel": "uniform", "offer_uplift": "uplift"}
    covered: dict[str, list[bool]] = {"abs": [], "value": [], "cuped": []}
    for exp, variant, presented, converted, low, high, vlow, vhigh, clow, chigh, srm, windows in rows:
        t = truth["experiments"][exp]
        # the pipeline counted exactly the responses the world simulated (ingestion, identity, windows)
        assert (presented, converted) == (
            t["simulated"][variant]["presented"],
            t["simulated"][variant]["responded"],
        )
        lift = t["true_abs_lift"][variant]
        covered["abs"].append(low <= lift <= high)
        covered["value"].append(vlow <= t["true_value_lift"][variant] <= vhigh)
        covered["cuped"].append(clow <= lift <= chigh)
        assert chigh - clow <= 0.85 * (high - low), (exp, variant, (chigh - clow) / (high - low))
        assert not srm and windows == "complete windows only"
    assert all(consistent_with_95(c) for c in covered.values()), covered


def test_nightjar_export_results_writes_the_nights_decisions(demo, tmp_path, capsys, monkeypatch):
    out, home, _ = demo
    day = q(out, "SELECT min(date) FROM results")[0][0]
    target = tmp_path / "results.csv"
    from pipeline.cli import main  # in-process, as the `nightjar` script calls it (a second process costs
    # seconds of imports; the demo, the backfill and the dagster CLI above run as subprocesses)

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    code = main(
        [
            "export",
            "results",
            "--date",
            day.isoformat(),
            "--to",
            str(target),
            "--config",
            str(out / "nightjar.yaml"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    lines = list(csv.DictReader(target.open()))
    assert list(lines[0]) == [
        *("customer_id", "experiment", "group", "date", "variant", "score", "reason", "code", "category"),
        *("message", "send_at", "drawn_variant", "held_out_variant"),
        *("assignment_probability", "eligible_variants"),
    ]
    assert len(lines) == q(out, "SELECT count(*) FROM results WHERE date = $d", {"d": day})[0][0]
    # offer and channel are decided as the group spring_push; offer_uplift on its own
    assert {r["group"] for r in lines} == {"spring_push", ""} and {r["date"] for r in lines} == {
        day.isoformat()
    }
    capsys.readouterr()  # the export's own lines
    assert (
        main(
            [
                "export",
                "results",
                "--date",
                "2020-01-01",
                "--to",
                str(tmp_path / "x.csv"),
                "--config",
                str(out / "nightjar.yaml"),
            ]
        )
        == 1
    )
    assert "no results for 2020-01-01" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_the_demo_decides_with_the_models_scores_of_the_night_before(demo):
    """The models are trained and score the eve of the first night, and score every night after: each
    night's decisions of the uniform experiments carry their customer's purchase_30d score of that
    night's eve x the draw's expected propensity (0.5 before any window closed), not the 0.5 of a
    decision without scores."""
    out, _, _ = demo
    nights = [d for (d,) in q(out, "SELECT DISTINCT date FROM results ORDER BY 1")]
    assert nights == [first_day(out) + dt.timedelta(days=8 + k) for k in range(NIGHTS)]
    window = json.loads((out / "truth" / "experiments.json").read_text())["window_days"]
    for day in [d for d in nights if d < nights[0] + dt.timedelta(days=window)]:  # no window closed yet
        rows = q(
            out,
            "SELECT r.score, p.score FROM results r JOIN predictions p ON p.customer_id = r.customer_id "
            "AND p.model = 'purchase_30d' AND p.date = $eve "
            "WHERE r.date = $d AND r.experiment IN ('offer', 'channel')",
            {"d": day, "eve": day - dt.timedelta(days=1)},
        )
        decided = q(
            out,
            "SELECT count(*), count(DISTINCT score) FROM results "
            "WHERE date = $d AND experiment IN ('offer', 'channel')",
            {"d": day},
        )[0]
        assert len(rows) >= 0.9 * decided[0] and decided[1] > 20, day
        assert all(abs(score - 0.5 * model_score) < 1e-9 for score, model_score in rows), day


def test_the_off_policy_estimates_cover_the_truth_of_the_demo(demo):
    """policy_evaluation from the logged decisions of the demo against the truth, for every policy it
    evaluates (sending nothing, uniform, propensity, uplift, thompson) and every experiment of the loop:
    each policy's probabilities per logged decision times the customers' true rates of the arms."""
    out, _, stdout = demo
    assert "Incremental conversions per 1,000 decisions (off-policy, doubly robust, 95% CI):" in stdout
    assert re.search(r"offer_uplift +uplift +-?[0-9.]+ \[", stdout)
    covered = {}
    for exp in ("offer", "offer_uplift", "channel"):
        truth = true_policy_values(out, exp)
        got = {
            p: (lo, hi, ilo, ihi)
            for p, lo, hi, ilo, ihi in q(
                out,
                "SELECT policy, dr_low, dr_high, ips_low, ips_high FROM policy_evaluation "
                "WHERE experiment = $e",
                {"e": exp},
            )
        }
        assert set(got) == set(truth) == {"nothing", "uniform", "propensity", "uplift", "thompson"}, exp
        for policy, value in truth.items():
            lo, hi, ilo, ihi = got[policy]
            covered[(exp, policy)] = lo <= value <= hi and ilo <= value <= ihi
    # one draw of the world, on today's dates: 95% intervals may miss now and then, so the test asks
    # for no more misses than such intervals plausibly give; their coverage itself is checked over
    # many worlds in tests/unit/experiments/test_policy_evaluation.py
    assert consistent_with_95(list(covered.values())), covered


def test_every_night_of_the_loop_decides_and_the_worlds_responses_land_in_the_feeds(demo):
    """Each night of the closed loop decided all three experiments (a fifth of their customers, by
    the cadence); truth/decisions.csv holds exactly those decisions; each response landed as a
    purchase in the point-of-sale file of a day of its window (not loaded when decided), and was loaded."""
    import pandas as pd

    out, _, stdout = demo
    log = pd.read_csv(out / "truth" / "decisions.csv", keep_default_na=False)
    results = q(out, "SELECT date, customer_id, experiment, variant FROM results ORDER BY ALL")
    assert (
        sorted(
            zip(pd.to_datetime(log.date).dt.date, log.customer_id, log.experiment, log.variant, strict=True)
        )
        == results
    )
    per_night = q(
        out, "SELECT date, experiment, count(*) FROM results GROUP BY ALL HAVING count(*) > 20 ORDER BY ALL"
    )
    assert len(per_night) == 3 * NIGHTS
    # the cadence (one night in 5): nobody decided twice in one experiment
    assert q(out, "SELECT count(*) FROM (SELECT DISTINCT customer_id, experiment FROM results)") == [
        (len(results),)
    ]
    responded = log[log.responded.astype(bool)]
    landed = q(
        out,
        "SELECT customer_id, _partition_date, product FROM tx_pos "
        "WHERE starts_with(order_id, 'R') ORDER BY ALL",
    )
    product = {"offer": PRODUCT["offer"], "offer_uplift": PRODUCT["offer"], "channel": PRODUCT["channel"]}
    assert landed == sorted(
        zip(
            responded.customer_id,
            pd.to_datetime(responded.response_on).dt.date,
            responded.experiment.map(product),
            strict=True,
        )
    )
    assert (pd.to_datetime(responded.response_on) >= pd.to_datetime(responded.date)).all()
    assert (pd.to_datetime(responded.response_on) == pd.to_datetime(responded.date)).any()
    truth = json.loads((out / "truth" / "experiments.json").read_text())
    assert [n["responses_appended_to_pos"] for n in truth["nights"]] == list(
        responded.groupby("date").size().reindex(sorted(set(log.date)), fill_value=0)
    )
    assert stdout.count("the world responded with") == NIGHTS


def test_the_truth_of_the_loop_lives_only_under_truth(demo):
    """The true rates and responses are written under truth/ only: the landing files carry the
    purchases (the point-of-sale columns), never a rate, and nothing else holds them."""
    out, _, _ = demo
    truth_files = {p.name for p in (out / "truth").iterdir()}
    assert {"decisions.csv", "experiments.json", "decision_rates.csv"} <= truth_files
    outside = [p for p in out.rglob("*") if p.is_file() and "truth" not in p.relative_to(out).parts]
    assert not [p for p in outside if p.name in truth_files]
    for path in (out / "files").glob("trans_pos_*.csv"):
        assert (
            path.read_text().splitlines()[0]
            == "order_id,customer_id,purchased_at,store,product,quantity,amount"
        )
    columns = {r[0] for r in q(out, "SELECT column_name FROM information_schema.columns")}
    assert not columns & {"rate", "no_treatment_rate", "responded", "response_on", "price_sensitivity"}


def test_the_summary_shows_each_policys_true_incremental_conversions_beside_the_measured(demo):
    """The summary's closed-loop lines: per experiment its policy, the true incremental conversions per
    1,000 decisions from truth/decisions.csv (each decision's true rate of its arm minus its no-treatment
    rate, control left out), and the pipeline's measurement against control, in an interval holding it."""
    import pandas as pd

    out, _, stdout = demo
    log = pd.read_csv(out / "truth" / "decisions.csv", keep_default_na=False)
    treated = log[log.variant != "control"]
    true = 1000 * (treated.rate - treated.no_treatment_rate).groupby(treated.experiment).mean()
    lines = dict(
        (m.group(1), m.groups()[1:])
        for m in re.finditer(
            r"^  (\w+) +(\w+) +true +(-?[0-9.]+) \| measured +(-?[0-9.]+) \[(-?[0-9.]+), (-?[0-9.]+)\] "
            r"over (\d+) decisions$",
            stdout,
            flags=re.M,
        )
    )
    assert set(lines) == {"offer", "offer_uplift", "channel"}
    assert [lines[e][0] for e in ("offer", "offer_uplift", "channel")] == ["uniform", "uplift", "uniform"]
    for exp, (_, shown, measured, low, high, n) in lines.items():
        assert abs(float(shown) - true[exp]) < 0.051 and int(n) == (treated.experiment == exp).sum()
        assert float(low) <= float(measured) <= float(high)
