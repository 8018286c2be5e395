"""Experiments on a hand-built world: nightly decisions, conversion windows to the second, the report.

The warehouse is prepared through the real ingestion path (customer and transaction files,
identity matching, events); decisions, conversions and the report are the pipeline's functions,
and the last tests run the assets in Dagster (the nightly refresh of the open windows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events
from pipeline.experiments.conversions import loaded_days, measure, missing_days
from pipeline.experiments.decisions import decide
from pipeline.experiments.report import build_report
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.write import record_missing_file
from tests.assets.experiments.world import (
    START,
    D,
    N,
    days,
    experiments_config,
    rows,
    upload,
)
from tests.conftest import run_nightly, write_pos


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
    # the decisions held 50% out for `ab`, each recorded with the share it was drawn with: a report told
    # 20% now (a share changed after them) tests them against 0.5, no mismatch; decisions recorded as
    # drawn with 20% that held out 50% (a broken hold-out) are the sample-ratio mismatch
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
    mismatch = (
        "SELECT DISTINCT srm_mismatch FROM experiment_report WHERE experiment = 'ab' AND scope = 'total'"
    )
    assert rows(config, mismatch) == [(False,)]
    assert rows(config, "SELECT DISTINCT control_share FROM results WHERE experiment = 'ab'") == [(0.5,)]
    with connect(config.warehouse_path) as con:
        con.execute("UPDATE results SET control_share = 0.2 WHERE experiment = 'ab'")
        build_report(con, broken)
        con.execute("UPDATE results SET control_share = 0.5 WHERE experiment = 'ab'")  # the world as it was
    assert rows(config, mismatch) == [(True,)]
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
                              TIMESTAMP '2026-01-02', TIMESTAMP '2026-02-01', true, false, v
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
    # every refreshed day with results has its presentations again: 01-02, 01-03 and 01-10; the night
    # decided the next day, 01-14, whose presentations the night of 01-14 measures first
    assert rows(config, "SELECT count(DISTINCT date) FROM conversions") == [(3,)]
    assert rows(config, "SELECT max(date) FROM results") == [(night + dt.timedelta(days=1),)]
    # the night's partition of `results` says, in the UI, the day its decisions are presented on
    (decided,) = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("results")
    ]
    assert decided.partition == night.isoformat()
    assert decided.metadata["presented_on"].value == (night + dt.timedelta(days=1)).isoformat()
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


def test_a_cadence_decides_each_customer_on_one_night_in_every_n(world, tmp_path):
    """cadence_days 7: over 7 consecutive nights every customer of the experiment is decided exactly
    once, on the same night of the week again a week later, about a seventh of them each night."""
    import shutil

    _, config = world
    copy = tmp_path / "w.duckdb"
    shutil.copy(config.warehouse_path, copy)
    weekly = config.model_copy(
        update={
            "experiments": [
                e.model_copy(update={"cadence_days": 7 if e.name == "ab" else None})
                for e in config.experiments
            ]
        }
    )
    nights = [START + dt.timedelta(days=k) for k in range(1, 9)]
    with connect(copy) as con:
        for night in nights:
            decide(con, weekly, night)
        got = con.execute(
            "SELECT customer_id, list(date ORDER BY date) FROM results WHERE experiment = 'ab' "
            "AND date BETWEEN $a AND $b GROUP BY 1",
            {"a": nights[0], "b": nights[-1]},
        ).fetchall()
        per_night = [
            n
            for (n,) in con.execute(
                "SELECT count(*) FROM results WHERE experiment = 'ab' "
                "AND date BETWEEN $a AND $b GROUP BY date",
                {"a": nights[0], "b": nights[-2]},
            ).fetchall()
        ]
        audience = con.execute(
            "SELECT count(*) FROM results WHERE experiment = 'ab' AND date = $d", {"d": D}
        ).fetchall()[0][0]  # decided every night without a cadence
    assert len(got) == audience > 100
    # the first night's customers come back on the eighth, everyone else exactly once
    assert all(
        dates[1:] == [dates[0] + dt.timedelta(days=7)] if dates[0] == nights[0] else len(dates) == 1
        for _, dates in got
    )
    assert len(per_night) == 7 and all(audience / 7 * 0.5 < n < audience / 7 * 1.5 for n in per_night)
