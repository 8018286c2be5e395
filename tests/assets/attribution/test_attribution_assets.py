"""Attribution assets on the demo world: materialized through Dagster, checked against the world's
truth, and a changed custom model replaces its outputs exactly."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import yaml

from pipeline.attribution.config import BUILTIN_NAMES, UNATTRIBUTED
from pipeline.attribution.credits import CREDITS, SUMMARY
from pipeline.cli import write_demo_config
from pipeline.config import load_config
from pipeline.core.warehouse import connect
from pipeline.demo import generate_world
from tests.conftest import run_nightly

START, DAYS, CUSTOMERS = dt.date(2026, 1, 1), 10, 300
UPSTREAM = ["customers", "customer_identities", "tx_pos", "tx_web_sessions", "tx_campaign_events", "events"]
ATTRIBUTION = [CREDITS, SUMMARY]


def q(config, query, params=None):
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(query, params or {}).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("attribution_demo")
    world = generate_world(out, customers=CUSTOMERS, days=DAYS, start=START)
    config = load_config(write_demo_config(out, START))
    result = run_nightly(config, START, world.end, assets=UPSTREAM + ATTRIBUTION)
    assert result.success
    return config, result, out, world.end


def test_every_conversion_of_every_day_is_credited_in_full_by_every_model(demo):
    config, result, _, end = demo
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "credits_sum_to_one"]
    assert checks and all(c.passed for c in checks)
    models = [*BUILTIN_NAMES, *(m.name for m in config.attribution.models)]
    # the conversions: every order (store) and every web session with revenue, as in the raw events
    want = q(
        config,
        """SELECT _partition_date, count(*), sum(value)::DOUBLE FROM events
                        WHERE type = 'completedOrder' OR (type = 'web_sessions' AND value > 0)
                        GROUP BY 1 ORDER BY 1""",
    )
    assert len(want) == DAYS and sum(n for _, n, _ in want) > 100
    for model in models:
        got = q(
            config,
            f"""SELECT date, round(sum(conversions), 9), sum(value) FROM {SUMMARY} WHERE model = $m
                            GROUP BY 1 ORDER BY 1""",
            {"m": model},
        )
        assert [(d, n) for d, n, _ in got] == [(d, n) for d, n, _ in want], model
        assert all(abs(a[2] - b[2]) < 1e-6 for a, b in zip(got, want, strict=True)), model
    shares = q(
        config,
        f"""SELECT min(s), max(s) FROM (SELECT sum(credit_share) s FROM {CREDITS}
                           GROUP BY conversion, conversion_id, model)""",
    )[0]
    assert abs(shares[0] - 1) < 1e-9 and abs(shares[1] - 1) < 1e-9


def test_last_click_credits_the_session_that_bought_as_the_world_generated_it(demo):
    config, *_ = demo
    # In the world a web order IS a session that purchased: its last touch is that session itself.
    rows = q(
        config,
        f"""SELECT count(*), count(*) FILTER (WHERE touch_id = conversion_id) FROM {CREDITS}
                         WHERE model = 'Last Click' AND conversion = 'web_order'""",
    )[0]
    assert rows[0] > 50 and rows[0] == rows[1]
    # Store orders of customers who never had a web session are unattributed; those with one are not.
    unattributed = q(
        config,
        f"""SELECT count(*) FILTER (WHERE channel = $u),
                                        count(*) FILTER (WHERE channel = $u AND EXISTS (
                                            SELECT 1 FROM events e WHERE e.customer_id = c.customer_id
                                            AND e.type = 'web_sessions' AND e.occurred_at <= c.converted_at))
                                 FROM {CREDITS} c WHERE model = 'Last Click (Infinite)'""",
        {"u": UNATTRIBUTED},
    )[0]
    assert unattributed[0] > 0 and unattributed[1] == 0


def test_last_click_conversions_per_session_follow_the_true_lift(demo):
    config, _, out, _ = demo
    lift = json.loads((out / "truth" / "world.json").read_text())["channel_lift"]
    # web orders: the credited conversions per session of a channel follow the channel's true lift
    rows = q(
        config,
        f"""WITH s AS (SELECT channel, count(*) n FROM events WHERE type = 'web_sessions' GROUP BY 1)
                         SELECT a.channel, sum(a.conversions) / any_value(s.n)
                         FROM {SUMMARY} a JOIN s USING (channel)
                         WHERE model = 'Last Click' AND conversion = 'web_order' GROUP BY 1""",
    )
    rate = dict(rows)
    assert set(rate) == set(lift)
    best = max(lift, key=lift.get)  # Email: lift 1.2
    worst_half = sorted(lift, key=lift.get)[:4]
    assert rate[best] > max(rate[c] for c in worst_half)


def _changed_copy(config, out, data: dict, tmp_path):
    """The config ``data`` over a copy of the module's warehouse and files in ``tmp_path``: a test that
    changes the config and re-runs attribution leaves the module's world as the other tests read it."""
    shutil.copytree(out / "files", tmp_path / "files")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(config.warehouse_path, warehouse)
    changed = tmp_path / "nightjar.yaml"
    changed.write_text(yaml.safe_dump({**data, "warehouse": str(warehouse)}, sort_keys=False))
    return load_config(changed)


def test_changing_a_custom_model_and_rematerializing_replaces_its_outputs_exactly(demo, tmp_path):
    config, _, out, end = demo
    data = yaml.safe_load((out / "nightjar.yaml").read_text())
    models = data["attribution"]["models"]
    before_first = q(config, f"SELECT count(*) FROM {CREDITS} WHERE model = 'Newsletter First'")[0][0]
    assert before_first > 0 and any(m["name"] == "Markov" for m in models)
    models[:] = [m for m in models if m["name"] != "Markov"]  # a model dropped
    for m in models:
        if m["name"] == "Newsletter First":  # a model changed
            m.update(modelType="last", lookbackDays=3)
    new = _changed_copy(config, out, data, tmp_path)
    assert run_nightly(new, START, end, assets=ATTRIBUTION).success
    after = q(new, f"SELECT * FROM {CREDITS} ORDER BY ALL")
    summary = q(new, f"SELECT * FROM {SUMMARY} ORDER BY ALL")
    assert not q(
        new,
        f"SELECT 1 FROM {CREDITS} WHERE model = 'Markov' UNION ALL "
        f"SELECT 1 FROM {SUMMARY} WHERE model = 'Markov'",
    )
    assert q(new, f"SELECT DISTINCT model_type FROM {CREDITS} WHERE model = 'Newsletter First'") == [
        ("last",)
    ]
    # exactly what a fresh warehouse holding only the new config's outputs has
    with connect(new.warehouse_path) as con:
        con.execute(f"DROP TABLE {CREDITS}")
        con.execute(f"DROP TABLE {SUMMARY}")
    assert run_nightly(new, START, end, assets=ATTRIBUTION).success
    assert q(new, f"SELECT * FROM {CREDITS} ORDER BY ALL") == after
    assert q(new, f"SELECT * FROM {SUMMARY} ORDER BY ALL") == summary
    # the module's world, which the other tests read, still has the model this test dropped
    assert q(config, f"SELECT count(*) FROM {CREDITS} WHERE model = 'Markov'")[0][0] > 0


def test_the_summary_command_prints_the_credited_totals(demo, capsys):
    from pipeline.cli import main

    config, _, out, _ = demo
    assert main(["attribution", "summary", "--config", str(out / "nightjar.yaml"), "--model", "Shapley"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| model | channel | conversions | value |"
    total = q(config, f"SELECT sum(value) FROM {SUMMARY} WHERE model = 'Shapley'")[0][0]
    assert abs(sum(float(ln.split("|")[4]) for ln in lines[2:]) - total) < 0.01 * len(lines)
    assert {ln.split("|")[1].strip() for ln in lines[2:]} == {"Shapley"}


def test_bootstrap_intervals_are_written_and_shown_in_the_summary_metadata(demo, tmp_path):
    config, _, out, end = demo
    data = yaml.safe_load((out / "nightjar.yaml").read_text())
    data["attribution"]["bootstrap"] = 40
    new = _changed_copy(config, out, data, tmp_path)
    result = run_nightly(new, end, end, assets=ATTRIBUTION)
    assert result.success
    [summary] = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.path == [SUMMARY]
    ]
    assert summary["intervals"].value.startswith(f"95% bootstrap intervals of {end} (40 replicates)")
    rows = q(
        new,
        f"""SELECT model, conversions, conversions_lower, conversions_upper, value, value_lower, value_upper
            FROM {SUMMARY} WHERE date = $d""",
        {"d": end},
    )
    assert {r[0] for r in rows} >= set(BUILTIN_NAMES) | {"Markov", "Shapley"}
    assert all(None not in r for r in rows)
    assert all(lo <= hi and vlo <= vhi for _, _, lo, hi, _, vlo, vhi in rows)
    # Last Click's credits of a conversion never change: its point estimate lies inside its interval
    assert all(lo <= n <= hi for m, n, lo, hi, *_ in rows if m == "Last Click")
    earlier = f"SELECT count(*) FROM {SUMMARY} WHERE date < $d AND conversions_lower IS NOT NULL"
    assert q(new, earlier, {"d": end}) == [(0,)]
