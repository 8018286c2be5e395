"""Experiments on a hand-built world: nightly decisions, conversion windows to the second, the report.

The warehouse is prepared through the real ingestion path (customer and transaction files,
identity matching, events); decisions, conversions and the report are the pipeline's functions,
and the last tests run the assets in Dagster (the nightly refresh of the open windows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events
from pipeline.customers.identity import build_identities
from pipeline.experiments.conversions import loaded_days, measure, missing_days
from pipeline.experiments.decisions import decide
from pipeline.experiments.report import build_report
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.write import record_missing_file
from pipeline.models.config import ModelSpec
from tests.conftest import example_dict, make_config, run_nightly, write_pos

START = dt.date(2026, 1, 1)
D = dt.date(2026, 1, 10)  # the presentation day of the window tests
N = 600
UPLOADS = {
    "name": "uploaded_conversions",
    "source": "landing",
    "file_name": "conversions_upload",
    "customer_field": "customer_id",
    "time_field": "conversion_datetime",
    "fields": [
        {"name": "customer_id", "type": "String"},
        {"name": "experiment", "type": "String"},
        {"name": "conversion_datetime", "type": "Timestamp", "format": "yyyy-mm-dd hh:mm:ss"},
        {"name": "conversion_value", "type": "Decimal"},
    ],
}


def experiments_config(folder: Path, **changes):
    data = example_dict()
    pos = data["transactions"][0]
    # no channel reach: the hand-built customers have no e-mail or mobile identifiers
    variants = [{k: x for k, x in v.items() if k != "reach"} for v in data["variants"]]
    variants += [{"name": "a", "message": "A"}, {"name": "b", "message": "B"}]
    experiments = [
        {
            "name": "offer",
            "type": "NBO",
            "variants": ["discount_10", "discount_20", "free_shipping"],
            "control_share": 0.2,
            "exploration": 0.1,
        },
        {"name": "channel", "type": "NBC", "variants": ["email", "sms"], "control_share": 0.2},
        {
            "name": "ab",
            "type": "AB",
            "variants": ["a", "b"],
            "control_share": 0.5,
            "audience": [{"transaction": "pos", "field": "amount", "formula": {"gt": 10}}],
        },
        {"name": "off", "type": "AB", "variants": ["a"], "enabled": False},
        {
            "name": "window",
            "type": "AB",
            "variants": ["a"],
            "control_share": 0,
            "start": D.isoformat(),
            "end": D.isoformat(),
        },
    ]
    data = dict(
        transactions=[pos, UPLOADS],
        variants=variants,
        experiments=experiments,
        groups=[{"name": "g", "experiments": ["offer", "channel"]}],
        conversions={
            "uploaded": "uploaded_conversions",
            "definitions": [
                {
                    "name": "bought",
                    "experiment": "offer",
                    "value_field": "amount",
                    "rules": [{"transaction": "pos", "field": "product", "formula": {"eq": "PROMO"}}],
                }
            ],
        },
        retention={},
    )
    data.update(changes)
    return make_config(folder, START, **data)


def upload(con, config, folder: Path, day: dt.date, rows: list[str]) -> None:
    path = folder / f"conversions_upload_{day:%Y%m%d}.csv"
    path.write_text(
        "customer_id,experiment,conversion_datetime,conversion_value\n" + "".join(r + "\n" for r in rows)
    )
    result = ingest_transaction(
        con, config.transaction("uploaded_conversions"), "upload", landed_file(path, day), day
    )
    assert result.status != "FAILED", result.error


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """600 customers (C0000..C0599) known from START; every 3rd bought for 5 + i % 20 on START."""
    folder = tmp_path_factory.mktemp("experiments")
    config = experiments_config(folder)
    files = folder / "files"
    (files / "customers_20260101.csv").write_text("customuid\n" + "".join(f"C{i:04d}\n" for i in range(N)))
    write_pos(files, START, [f"O{i},C{i:04d},ST01,SKU1,1,{5 + i % 20}.00" for i in range(0, N, 3)])
    with connect(config.warehouse_path) as con:
        ingest_customers(
            con, config.customers, "upload", landed_file(files / "customers_20260101.csv", START), "create"
        )
        ingest_transaction(
            con,
            config.transaction("pos"),
            "upload",
            landed_file(files / "trans_pos_20260101.csv", START),
            START,
        )
        # the window's uploads: 1 s before the presentation, at it, at 29 d 23:59:59 and at exactly 30 days;
        # C0004 converts twice in the window (one conversion per presentation: the first counts)
        upload(con, config, files, D - dt.timedelta(days=1), ["C0000,window,2026-01-09 23:59:59,10"])
        upload(
            con,
            config,
            files,
            D,
            ["C0001,window,2026-01-10 00:00:00,11", "C0004,window,2026-01-10 08:00:00,7"],
        )
        upload(con, config, files, D + dt.timedelta(days=3), ["C0004,window,2026-01-13 09:00:00,50"])
        upload(con, config, files, D + dt.timedelta(days=29), ["C0002,window,2026-02-08 23:59:59,12"])
        build_identities(con, config)
        for day in (START, D - dt.timedelta(days=1), D, D + dt.timedelta(days=3), D + dt.timedelta(days=29)):
            build_events(con, config, day)
        for day in (START + dt.timedelta(days=1), START + dt.timedelta(days=2), D):
            decide(con, config, day)
    return folder, config


def days(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """Every day from ``first`` through ``last``: what loaded_days returns when all of them loaded."""
    return frozenset(first + dt.timedelta(days=i) for i in range((last - first).days + 1))


def rows(config, query: str, params: dict | None = None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(query, params or {}).fetchall()


def test_rerunning_a_night_gives_identical_decisions(world):
    _, config = world
    day = START + dt.timedelta(days=1)
    before = rows(config, "SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": day})
    with connect(config.warehouse_path) as con:
        assert decide(con, config, day) == len(before)
    assert rows(config, "SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": day}) == before
    assert len(before) > N  # the group (offer|channel) and ab decided


def test_control_membership_never_changes_between_nights_and_follows_the_share(world):
    _, config = world
    nights = rows(
        config,
        """SELECT experiment, customer_id, list(is_control ORDER BY date), list(variant ORDER BY date)
                             FROM results WHERE date IN ($a, $b) AND experiment IN ('ab', 'offer', 'channel')
                             GROUP BY ALL HAVING count(*) = 2""",
        {"a": START + dt.timedelta(days=1), "b": START + dt.timedelta(days=2)},
    )
    assert len(nights) > 300
    assert all(flags[0] == flags[1] for _, _, flags, _ in nights)
    # the variant is drawn again each night (seeded by the date), so some non-control customers change
    assert any(v[0] != v[1] for _, _, f, v in nights if not f[0])
    share = rows(config, "SELECT avg(is_control::INT) FROM results WHERE experiment = 'ab'")[0][0]
    assert 0.4 < share < 0.6  # control_share 0.5


def test_disabled_experiment_decides_nothing_and_a_dated_one_only_on_its_dates(world):
    _, config = world
    counts = dict(rows(config, "SELECT experiment, count(*) FROM results GROUP BY ALL"))
    assert "off" not in counts
    assert rows(config, "SELECT DISTINCT date FROM results WHERE experiment = 'window'") == [(D,)]


def test_a_group_gives_each_customer_one_experiment_and_the_audience_rule_holds(world):
    _, config = world
    assert rows(
        config,
        """SELECT count(*) FROM (SELECT date, customer_id FROM results WHERE experiment_group = 'g'
                           GROUP BY ALL HAVING count(*) > 1)""",
    ) == [(0,)]
    day1 = rows(
        config,
        "SELECT experiment, count(*) FROM results WHERE date = $d AND experiment_group = 'g' "
        "GROUP BY ALL ORDER BY 1",
        {"d": START + dt.timedelta(days=1)},
    )
    assert [e for e, _ in day1] == ["channel", "offer"] and sum(n for _, n in day1) == N
    # ab: customers who bought for more than 10 before the day (i % 3 == 0 and 5 + i % 20 > 10)
    expected = {f"C{i:04d}" for i in range(0, N, 3) if 5 + i % 20 > 10}
    got = {
        r[0]
        for r in rows(
            config,
            "SELECT customer_id FROM results WHERE experiment = 'ab' AND date = $d",
            {"d": START + dt.timedelta(days=1)},
        )
    }
    assert got == expected


def test_exploration_share_and_reasons(world):
    _, config = world
    reasons = rows(
        config,
        """SELECT count(*) FILTER (WHERE reason LIKE 'exploration%'),
                                     count(*) FILTER (WHERE reason LIKE 'drawn by propensity%'),
                                     count(*) FILTER (WHERE reason LIKE 'control%')
                              FROM results WHERE experiment = 'offer'""",
    )[0]
    explore, drawn, control = reasons
    assert 0.04 < explore / (explore + drawn) < 0.18  # exploration 0.1
    assert rows(config, "SELECT DISTINCT reason FROM results WHERE experiment = 'ab' AND NOT is_control") == [
        ("A/B: uniform among 2 eligible variant(s)",)
    ]


def test_conversion_window_boundaries_to_the_second(world):
    _, config = world
    with connect(config.warehouse_path) as con:
        n, complete = measure(con, config, D, loaded_days(con, config))
    assert n == rows(config, "SELECT count(*) FROM results WHERE date = $d", {"d": D})[0][0]
    assert not complete  # pos (read by the definition `bought`) is loaded only through START
    got = dict(
        (r[0], r[1:])
        for r in rows(
            config,
            """SELECT customer_id, converted, conversions, value::DOUBLE, first_conversion_at
                   FROM conversions WHERE date = $d AND experiment = 'window'
                   AND customer_id IN ('C0000', 'C0001', 'C0002', 'C0003', 'C0004')""",
            {"d": D},
        )
    )
    assert got["C0000"][0] is False  # 1 second before the presentation
    assert got["C0001"] == (True, 1, 11.0, dt.datetime(2026, 1, 10, 0, 0, 0))  # at the presentation
    assert got["C0002"] == (True, 1, 12.0, dt.datetime(2026, 2, 8, 23, 59, 59))  # at 29 d 23:59:59
    assert got["C0003"][0] is False  # no upload
    assert got["C0004"] == (True, 1, 7.0, dt.datetime(2026, 1, 10, 8, 0, 0))  # the first of two
    # exactly 30 days after: not counted
    with connect(config.warehouse_path) as con:
        upload(
            con,
            config,
            config.resolve(Path("files")),
            D + dt.timedelta(days=30),
            ["C0003,window,2026-02-09 00:00:00,13"],
        )
        build_events(con, config, D + dt.timedelta(days=30))
        measure(con, config, D, loaded_days(con, config))
    assert rows(
        config,
        "SELECT converted FROM conversions WHERE date = $d AND customer_id = 'C0003' "
        "AND experiment = 'window'",
        {"d": D},
    ) == [(False,)]


def test_window_is_incomplete_until_each_of_its_days_is_loaded(world):
    _, config = world
    with connect(config.warehouse_path) as con:
        _, complete = measure(con, config, D, days(START, D + dt.timedelta(days=28)))
        assert not complete  # the window's last day, D + 29, is not loaded yet
        assert con.execute(
            "SELECT DISTINCT window_complete FROM conversions WHERE date = $d", {"d": D}
        ).fetchall() == [(False,)]
        _, complete = measure(con, config, D, days(START, D + dt.timedelta(days=29)))
        assert complete
        # a day missing inside the window keeps it open, though later days are loaded
        _, complete = measure(
            con, config, D, days(START, D + dt.timedelta(days=40)) - {D + dt.timedelta(days=5)}
        )
        assert not complete
        # a missing day before the window does not
        _, complete = measure(
            con, config, D, days(START, D + dt.timedelta(days=40)) - {D - dt.timedelta(days=1)}
        )
        assert complete


def test_loaded_days_are_the_days_every_conversion_dataset_loaded(tmp_path):
    config = experiments_config(tmp_path)
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    with connect(config.warehouse_path) as con:
        assert loaded_days(con, config) == frozenset()
        for i in range(5):
            day = START + dt.timedelta(days=i)
            if i == 2:  # pos's file never came: a FAILED load
                record_missing_file(con, "landing", "pos", day, "no file trans_pos_20260103.*")
            else:
                path = write_pos(files, day, [f"O{i},C0001,ST01,SKU1,1,5.00"])
                assert (
                    ingest_transaction(
                        con, config.transaction("pos"), "landing", landed_file(path, day), day
                    ).status
                    == "LOADED"
                )
            if i != 4:  # the uploads of the last day have not come yet
                upload(
                    con, config, files, day, [] if i % 2 else [f"C0001,offer,{day} 10:00:00,3"]
                )  # empty: PROCESSED
        loaded = loaded_days(con, config)
    assert loaded == {START, START + dt.timedelta(days=1), START + dt.timedelta(days=3)}
    assert missing_days(loaded) == [START + dt.timedelta(days=2)]


def test_report_counts_complete_windows_only_unless_asked_and_flags_a_broken_control_share(world):
    folder, config = world
    with connect(config.warehouse_path) as con:
        day = START + dt.timedelta(days=1)
        measure(
            con, config, day, days(START, D + dt.timedelta(days=29))
        )  # the window of day 2 ends on 01-31: complete
        measure(con, config, D, days(START, D + dt.timedelta(days=28)))  # in progress
        build_report(con, config)
    report = rows(
        config,
        "SELECT experiment, variant, presented, srm_mismatch, windows FROM experiment_report "
        "WHERE scope = 'total' ORDER BY 1, 2",
    )
    assert "window" not in {r[0] for r in report}  # its only window is in progress
    assert {r[4] for r in report} == {"complete windows only"}
    assert not any(r[3] for r in report)
    presented = {(e, v): n for e, v, n, _, _ in report}
    assert sum(n for (e, _), n in presented.items() if e == "ab") == len(
        rows(config, "SELECT 1 FROM results WHERE experiment = 'ab' AND date = $d", {"d": day})
    )
    with connect(config.warehouse_path) as con:
        build_report(con, config, include_incomplete=True)
    assert rows(
        config,
        "SELECT DISTINCT windows, in_progress > 0 FROM experiment_report WHERE experiment = 'window' "
        "AND scope = 'total'",
    ) == [("including in-progress windows", True)]
    # the decisions held 50% out for `ab`; a report told 20% flags the sample-ratio mismatch
    data = experiments_config(folder)
    broken = data.model_copy(
        update={
            "experiments": [
                e.model_copy(update={"control_share": 0.2}) if e.name == "ab" else e for e in data.experiments
            ]
        }
    )
    with connect(config.warehouse_path) as con:
        build_report(con, broken)
    assert rows(
        config,
        "SELECT DISTINCT srm_mismatch FROM experiment_report WHERE experiment = 'ab' AND scope = 'total'",
    ) == [(True,)]
    assert rows(
        config,
        "SELECT DISTINCT srm_mismatch FROM experiment_report WHERE experiment = 'offer' AND scope = 'total'",
    ) == [(False,)]


def test_model_scores_from_predictions_decide_the_group(world, tmp_path):
    _, config = world
    scored = config.model_copy(
        update={
            "experiments": [
                e.model_copy(update={"model": {"offer": "m_offer", "channel": "m_channel"}.get(e.name)})
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
        try:
            decide(con, scored, day)
            got = con.execute(
                "SELECT experiment, min(score), max(score), count(*) FROM results WHERE date = $d "
                "AND experiment_group = 'g' GROUP BY ALL",
                {"d": day},
            ).fetchall()
        finally:
            con.execute("DROP TABLE predictions")
            decide(con, config, day)
    assert got == [("offer", 0.45, 0.45, N)]  # 0.9 x the uniform prior 0.5 beats 0.1 x 0.5


def test_variants_are_drawn_by_their_observed_propensities(world):
    _, config = world
    later = dt.date(2026, 2, 20)  # the windows of 01-02 (closed on 02-01) feed the propensities
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_conversions"))
        con.execute("DELETE FROM conversions")
        # 100 past presentations per offer variant: discount_20 converted 90, the others 10
        con.execute("""INSERT INTO conversions
                       SELECT DATE '2026-01-02', 'X' || i, 'offer', v, false, i < n, (i < n)::INT, 0, NULL,
                              TIMESTAMP '2026-01-02', TIMESTAMP '2026-02-01', true, false
                       FROM (VALUES ('discount_20', 90), ('discount_10', 10), ('free_shipping', 10)) t(v, n),
                            range(100) r(i)""")
        decide(con, config, later)
        drawn = con.execute(
            """SELECT variant, count(*), any_value(reason) FROM results
                               WHERE date = $d AND experiment = 'offer' AND reason LIKE 'drawn by propensity%'
                               GROUP BY ALL""",
            {"d": later},
        ).fetchall()
        con.execute("DELETE FROM results WHERE date = $d", {"d": later})
    counts = {v: n for v, n, _ in drawn}
    # P(discount_20) = (91/102) / (91/102 + 2 * 11/102) = 0.805
    assert 0.72 < counts["discount_20"] / sum(counts.values()) < 0.88
    assert next(r for v, _, r in drawn if v == "discount_20").startswith(
        "drawn by propensity 0.8922 (probability 0.805)"
    )


def test_nightly_run_refreshes_the_open_windows(world):
    _, config = world
    with connect(config.warehouse_path) as con:
        con.execute("DROP TABLE IF EXISTS conversions")
    instance = dg.DagsterInstance.ephemeral()
    night = D + dt.timedelta(days=3)
    result = run_nightly(
        config, night, assets=["results", "conversions", "experiment_report"], instance=instance
    )
    assert result.success
    partitions = {
        e.event_specific_data.materialization.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("conversions")
    }
    # window_days 30: the night's partition and the 29 before it (back to the first partition, START)
    assert partitions == {(START + dt.timedelta(days=i)).isoformat() for i in range((night - START).days + 1)}
    # every refreshed day with results has its presentations again: 01-02, 01-03, 01-10 and the night, 01-13
    assert rows(config, "SELECT count(DISTINCT date) FROM conversions") == [(4,)]
    # the report's plots (their drawing: tests/unit/experiments/test_report_plots.py); no window is
    # complete yet, so they say so
    (report,) = [
        e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("experiment_report")
    ]
    assert report["forest_plot"].value == "_forest plot: no complete conversion windows yet_"
    assert report["guardrails_failed"].value == 0
    assert report["cumulative_lift"].value.startswith(
        "_cumulative lift: shown once"
    )  # complete windows: none


def test_pre_period_covariate_and_guardrail_conversions(world):
    """pre_converted: a match in the cuped_days before the presentation (1 s before it counts there, not
    in the window); a guardrail definition is counted per presentation into guardrail_conversions."""
    folder, config = world
    with connect(config.warehouse_path) as con:
        measure(con, config, D, loaded_days(con, config))
    pre = dict(
        rows(
            config,
            "SELECT customer_id, pre_converted FROM conversions WHERE date = $d AND experiment = 'window' "
            "AND customer_id IN ('C0000', 'C0001')",
            {"d": D},
        )
    )
    assert pre == {"C0000": True, "C0001": False}  # 1 s before the presentation / at it
    definitions = [
        *config.conversions.model_dump()["definitions"],
        {
            "name": "big_spend",
            "experiment": "offer",
            "role": "guardrail",
            "worse": "decrease",
            "rules": [{"transaction": "pos", "field": "amount", "formula": {"gt": 15}}],
        },
    ]
    guarded = experiments_config(
        folder, conversions={"uploaded": "uploaded_conversions", "definitions": definitions}
    )
    day = START + dt.timedelta(days=1)
    with connect(guarded.warehouse_path) as con:
        measure(con, guarded, day, loaded_days(con, guarded))
        build_report(con, guarded, include_incomplete=True)
    got = rows(
        guarded,
        "SELECT metric, experiment, count(*), count(*) FILTER (WHERE converted), "
        "list(customer_id ORDER BY customer_id) FILTER (WHERE pre_converted) "
        "FROM guardrail_conversions WHERE date = $d GROUP BY ALL",
        {"d": day},
    )
    offer = {
        c
        for (c,) in rows(
            guarded, "SELECT customer_id FROM results WHERE date = $d AND experiment = 'offer'", {"d": day}
        )
    }
    assert len(got) == 1 and got[0][:4] == ("big_spend", "offer", len(offer), 0)
    # the purchases of START above 15 (every 3rd customer, 5 + i % 20): the pre-period of START + 1
    bought = {f"C{i:04d}" for i in range(0, N, 3) if 5 + i % 20 > 15}
    assert got[0][4] and set(got[0][4]) == bought & offer
    metrics = rows(
        guarded, "SELECT DISTINCT metric FROM experiment_report WHERE experiment = 'offer' ORDER BY 1"
    )
    assert metrics == [("big_spend",), ("primary",)]
    # the offer's own conversion (PROMO) was never bought before: no covariate, until a covariate
    # definition names the purchases above 15 as its pre-period metric
    primary_pre = (
        "SELECT list(customer_id ORDER BY customer_id) FILTER (WHERE pre_converted) "
        "FROM conversions WHERE date = $d AND experiment = 'offer'"
    )
    assert rows(guarded, primary_pre, {"d": day}) == [(None,)]
    covariate = {**definitions[-1], "name": "spent_before", "role": "covariate", "worse": "increase"}
    covaried = experiments_config(
        folder,
        conversions={"uploaded": "uploaded_conversions", "definitions": [*definitions[:-1], covariate]},
    )
    with connect(covaried.warehouse_path) as con:
        measure(con, covaried, day, loaded_days(con, covaried))
    assert set(rows(covaried, primary_pre, {"d": day})[0][0]) == bought & offer
    assert rows(covaried, "SELECT count(*) FROM guardrail_conversions WHERE date = $d", {"d": day}) == [(0,)]


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
                              0, 0, NULL, TIMESTAMP '2026-01-02', TIMESTAMP '2026-02-01', true
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
    # exploration 0.1 among 4 arms; control share 0.2; control and no_treatment are the same action
    assert probability[(True, "discount_20")] == round(0.8 * (0.9 + 0.1 / 4), 6)
    assert (
        probability[(False, "no_treatment")] == probability[(False, "control")] == round(0.2 + 0.8 * 0.925, 6)
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
        finally:
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
