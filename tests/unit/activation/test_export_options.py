"""Export options over a small hand-made warehouse: `where` rules (the project's rule language over the
exported table's columns), the `segments` table, results with `send_at`, and a `schedule` of its own."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest

from assets.activation import build_export_asset, build_export_schedule
from pipeline.activation.config import ExportSpec, WhereRule
from pipeline.activation.exports import ExportError, rule_schema, run_export, write_export
from pipeline.cli import main
from pipeline.core.partitions import daily_partitions
from pipeline.core.rules import condition, evaluate
from pipeline.core.settings import ConfigError
from pipeline.core.sql import sql
from pipeline.core.warehouse import WarehouseResource, connect
from pipeline.ops.jobs import build_nightly_job
from tests.conftest import example_dict, make_config

DAY = dt.date(2026, 1, 9)
VARIANTS = ["discount_10", "discount_20", "free_shipping", "control"]


@pytest.fixture
def warehouse(tmp_path: Path):
    """40 results rows of DAY (scores, variants, a send time for some) and 30 predictions: 25 scores of
    model `m` and 5 recommender rows."""
    config = make_config(tmp_path)
    rng = np.random.default_rng(3)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
        con.execute(sql("models/create"))
        con.execute(
            "INSERT INTO results "
            "(date, customer_id, experiment, variant, is_control, score, reason, send_at) "
            "SELECT $day, 'C' || lpad(i::VARCHAR, 2, '0'), 'offer', ($variants)[1 + i % 4], i % 4 = 3, "
            "round(i / 40, 3), 'r', CASE WHEN i % 2 = 0 THEN $day + INTERVAL 9 HOUR END FROM range(40) t(i)",
            {"day": DAY, "variants": VARIANTS},
        )
        con.register("_scores", {"score": rng.random(25)})
        con.execute(
            "INSERT INTO predictions SELECT $day, 'C' || lpad((row_number() OVER ())::VARCHAR, 2, '0'), "
            "'m', $day, score, NULL FROM _scores",
            {"day": DAY},
        )
        con.execute(
            "INSERT INTO predictions SELECT $day, 'R' || i, 'rec', $day, 0.5, ['P1'] FROM range(5) t(i)",
            {"day": DAY},
        )
    return config


def export(config, table: str, path: Path, fmt: str, columns=None, where=None) -> int:
    with connect(config.warehouse_path, read_only=True) as con:
        return write_export(con, config, table, DAY, path, fmt, columns, where)


def test_where_rules_keep_exactly_the_rows_every_rule_holds_for(warehouse, tmp_path):
    everything = tmp_path / "all.parquet"
    assert export(warehouse, "results", everything, "parquet") == 40
    rows = pq.read_table(everything).to_pylist()
    assert list(rows[0])[-8:] == [
        "code",
        "category",
        "message",
        "send_at",
        "drawn_variant",
        "held_out_variant",
        "assignment_probability",
        "eligible_variants",
    ]
    d20 = next(r for r in rows if r["variant"] == "discount_20")
    assert (d20["code"], d20["category"], d20["message"]) == ("D20", "offer", "20% off your next order")
    assert {r["send_at"] for r in rows} == {None, dt.datetime(2026, 1, 9, 9, tzinfo=dt.UTC)}  # UTC, marked so

    where = [
        WhereRule(field="score", formula={"gte": 0.3}),
        WhereRule(field="variant", formula={"in": ["discount_20", "free_shipping"]}),
        WhereRule(field="customer_id", formula={"startswith": "C1"}),
    ]
    kept = tmp_path / "kept.csv"
    n = export(warehouse, "results", kept, "csv", ["customer_id", "variant"], where)
    schema = {"score": "Float", "variant": "String", "customer_id": "String"}
    conds = [condition(r.field, r.op, r.value, schema) for r in where]  # the rules' reference semantics
    expected = sorted(r["customer_id"] for r in rows if all(evaluate(c, r[c.field]) for c in conds))
    assert 0 < n == len(expected) < 40
    assert kept.read_text().splitlines() == ["customer_id,variant"] + [
        f"{r['customer_id']},{r['variant']}"
        for r in sorted(rows, key=lambda r: r["customer_id"])
        if r["customer_id"] in expected
    ]


def test_results_and_conversions_exports_carry_what_the_report_compares(warehouse, tmp_path):
    """The arm drawn (a capped row's variant before the capacity cut it) and a control row's variant
    drawn and held out (the matched control of a learned policy): a downstream system given only the
    variant and is_control could not tell a capped variant's customers sent nothing from those never
    drawn to it, nor which control customers a learned policy's variant is compared with."""
    with connect(warehouse.warehouse_path) as con:
        con.execute(
            "UPDATE results SET drawn_variant = CASE WHEN customer_id = 'C01' THEN 'discount_10' "
            "ELSE variant END, held_out_variant = CASE WHEN is_control THEN 'discount_20' END, "
            "variant = CASE WHEN customer_id = 'C01' THEN 'no_treatment' ELSE variant END"
        )
        con.execute(sql("experiments/create_conversions"))
        con.execute(
            "INSERT INTO conversions (date, customer_id, experiment, variant, is_control, converted, "
            "conversions, value, window_start, window_end, window_complete, drawn_variant) "
            "SELECT date, customer_id, experiment, variant, is_control, false, 0, 0, date, date + 30, true, "
            "drawn_variant FROM results"
        )
    decided = tmp_path / "results.jsonl"
    assert export(warehouse, "results", decided, "jsonl") == 40
    rows = {r["customer_id"]: r for r in map(json.loads, decided.read_text().splitlines())}
    assert (rows["C01"]["variant"], rows["C01"]["drawn_variant"], rows["C01"]["held_out_variant"]) == (
        "no_treatment",
        "discount_10",
        None,
    )
    assert (rows["C03"]["variant"], rows["C03"]["drawn_variant"], rows["C03"]["held_out_variant"]) == (
        "control",
        "control",
        "discount_20",
    )
    converted = tmp_path / "conversions.csv"
    assert export(warehouse, "conversions", converted, "csv") == 40
    lines = converted.read_text().splitlines()
    assert lines[0].endswith(",window_complete,drawn_variant")
    assert (
        sum(
            line.startswith("2026-01-09,C01,offer,no_treatment,") and line.endswith(",discount_10")
            for line in lines
        )
        == 1
    )


def test_the_results_export_carries_what_an_off_policy_evaluation_needs(warehouse, tmp_path):
    """Each decision's probability and the arms its customer was eligible for (results'
    assignment_probability and eligible_variants, which pipeline/experiments/policy_evaluation.py reads),
    the export's last columns: a downstream off-policy evaluation had neither. A list is a JSON array
    in CSV and JSON lines, a list in Parquet; a row decided before the columns has them empty."""
    with connect(warehouse.warehouse_path) as con:
        con.execute(
            "UPDATE results SET assignment_probability = CASE WHEN is_control THEN 0.1 ELSE 0.3 END, "
            "eligible_variants = ['discount_10', 'discount_20'] WHERE customer_id <> 'C00'"
        )
    lines = {}
    for fmt in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"results.{fmt}"
        assert export(warehouse, "results", path, fmt) == 40
        lines[fmt] = path
    header, *rows = lines["csv"].read_text().splitlines()
    assert header.endswith(",drawn_variant,held_out_variant,assignment_probability,eligible_variants")
    by_id = {r.split(",")[0]: r for r in rows}
    assert by_id["C00"].endswith(",,")  # a decision from before the columns
    assert by_id["C01"].endswith(',0.3,"[""discount_10"",""discount_20""]"')
    assert by_id["C03"].endswith(',0.1,"[""discount_10"",""discount_20""]"')
    jsonl = {r["customer_id"]: r for r in map(json.loads, lines["jsonl"].read_text().splitlines())}
    parquet = {r["customer_id"]: r for r in pq.read_table(lines["parquet"]).to_pylist()}
    for rows_of in (jsonl, parquet):
        assert (rows_of["C01"]["assignment_probability"], rows_of["C01"]["eligible_variants"]) == (
            0.3,
            ["discount_10", "discount_20"],
        )
        assert (rows_of["C00"]["assignment_probability"], rows_of["C00"]["eligible_variants"]) == (None, None)


def test_where_errors_name_the_rule_and_its_key_path(warehouse, tmp_path):
    cases = [
        ({"field": "nope", "formula": {"eq": 1}}, "exports[0].where[0].field: unknown field 'nope'"),
        ({"field": "score", "formula": {"gt": "high"}}, "exports[0].where[0].formula: 'high' is not a Float"),
        ({"field": "score", "formula": {"contains": "1"}}, "'contains' works on String fields only"),
    ]
    with connect(warehouse.warehouse_path, read_only=True) as con:
        for rule, message in cases:
            spec = ExportSpec(
                name="x", table="results", destination=str(tmp_path / "x_{date}.csv"), where=[rule]
            )
            config = warehouse.model_copy(update={"exports": [spec]})
            with pytest.raises(ExportError) as e:
                run_export(con, config, spec, DAY)
            assert message in str(e.value), str(e.value)
    assert rule_schema({"items": "VARCHAR[]", "value": "DECIMAL(18,2)", "at": "TIMESTAMP"}) == {
        "value": "Decimal",
        "at": "Timestamp",
    }


def test_segments_are_the_quintiles_of_each_scoring_models_night(warehouse, tmp_path):
    path = tmp_path / "segments.parquet"
    assert export(warehouse, "segments", path, "parquet") == 25  # no recommender rows
    rows = pq.read_table(path).to_pylist()
    assert list(rows[0]) == ["date", "customer_id", "model", "version", "score", "segment"]
    scores = np.array([r["score"] for r in rows])
    ranks = scores.argsort().argsort()  # 0 = the lowest score
    assert [r["segment"] for r in rows] == list(1 + ranks * 5 // 25)
    assert {r["model"] for r in rows} == {"m"}


def test_export_options_are_checked_with_the_key_path(tmp_path):
    base = {"name": "x", "table": "segments", "destination": "out/segments_{date}.csv"}
    make_config(
        tmp_path,
        exports=[{**base, "schedule": "weekly", "where": [{"field": "segment", "formula": {"gte": 4}}]}],
    )
    bq = {"name": "bq", "kind": "bigquery", "project": "p"}
    make_config(
        tmp_path,
        sources=[*example_dict()["sources"], bq],
        exports=[{**base, "destination": "bigquery://bq/marketing.segments"}],
    )
    for change, key in [
        ({"schedule": "hourly"}, "exports[0].schedule"),
        ({"schedule": "0 4 * *"}, "exports[0].schedule"),
        ({"where": [{"field": "segment", "formula": {"gte": 4, "lt": 5}}]}, "exports[0].where[0].formula"),
        (
            {"where": [{"transaction": "pos", "field": "segment", "formula": {"gte": 4}}]},
            "exports[0].where[0]",
        ),
        ({"destination": "out/segments.csv"}, "exports[0].destination"),
        ({"destination": "bigquery://nope/a.b"}, "exports[0].destination: there is no bigquery source"),
        ({"destination": "s3://lake/x_{date}.csv"}, "exports[0].destination: unknown destination s3://"),
        ({"columns": ["score", "model", "score"]}, "exports[0].columns: score is given twice"),
    ]:
        with pytest.raises(ConfigError) as e:
            make_config(tmp_path, exports=[{**base, **change}])
        assert key in str(e.value), str(e.value)


def test_an_export_with_a_schedule_runs_on_it_and_not_in_the_nightly_job(warehouse, tmp_path):
    partitions = daily_partitions(warehouse.start_date)
    weekly = ExportSpec(
        name="weekly", table="results", destination=str(tmp_path / "w_{date}.csv"), schedule="weekly"
    )
    nightly = ExportSpec(name="nightly", table="results", destination=str(tmp_path / "n_{date}.csv"))
    cron = ExportSpec(
        name="cron", table="segments", destination=str(tmp_path / "c_{date}.csv"), schedule="30 5 * * *"
    )
    assets = [build_export_asset(warehouse, s, partitions) for s in (weekly, nightly, cron)]
    schedules = [build_export_schedule(s, warehouse.start_date, partitions) for s in (weekly, cron)]
    job = build_nightly_job(partitions)
    resources = {"warehouse": WarehouseResource(path=str(warehouse.warehouse_path))}
    defs = dg.Definitions(assets=assets, jobs=[job], schedules=schedules, resources=resources)
    selected = defs.resolve_job_def("nightly").asset_layer.executable_asset_keys
    assert {k.to_user_string() for k in selected} == {"export_nightly"}
    assert [s.cron_schedule for s in schedules] == ["0 4 * * 1", "30 5 * * *"]

    tick = dt.datetime(2026, 1, 12, 4, tzinfo=dt.UTC)  # a Monday
    repository = defs.get_repository_def()
    with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=repository) as context:
        (weekly_run,) = (
            repository.get_schedule_def("export_weekly_schedule").evaluate_tick(context).run_requests
        )
        (cron_run,) = repository.get_schedule_def("export_cron_schedule").evaluate_tick(context).run_requests
    assert weekly_run.tags["dagster/asset_partition_range_start"] == "2026-01-05"
    assert weekly_run.tags["dagster/asset_partition_range_end"] == "2026-01-11"
    assert cron_run.partition_key == "2026-01-11"
    assert repository.get_schedule_def("export_weekly_schedule").job_name == "export_weekly_job"
    # the tick's run: one run over the week's nights writes the decisions each made, presented the day
    # after it: the day with decisions and six without rows
    run = defs.resolve_job_def("export_weekly_job").execute_in_process(tags=weekly_run.tags)
    assert run.success
    week = [dt.date(2026, 1, 6) + dt.timedelta(days=i) for i in range(7)]
    assert sorted(p.name for p in tmp_path.glob("w_*.csv")) == [f"w_{d:%Y%m%d}.csv" for d in week]
    lines = {d: len((tmp_path / f"w_{d:%Y%m%d}.csv").read_text().splitlines()) for d in week}
    assert lines == {d: 41 if d == DAY else 1 for d in week}  # the header and the day's 40 decisions
    assert not list(tmp_path.glob("n_*.csv"))  # the nightly export is not in that job


def test_an_export_to_a_folder_is_refused_and_leaves_no_file_beside_it(warehouse, tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    args = ["export", "results", "--date", str(DAY), "--to", str(folder)]
    assert main([*args, "--config", str(warehouse.base_dir / "nightjar.yaml")]) == 1
    assert (
        capsys.readouterr().err
        == f"{folder} is a folder: give the file to write (e.g. {folder}/results.csv)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "nightjar.yaml", "out", "warehouse.duckdb"]
    assert list(folder.iterdir()) == []


def test_an_export_of_a_table_nothing_configured_writes_is_skipped_with_the_reason(tmp_path):
    from pipeline.definitions import build_definitions

    export = {"name": "d", "table": "results", "destination": "out/r_{date}.csv"}
    config = make_config(tmp_path, experiments=[], groups=[], conversions={}, exports=[export])
    with connect(config.warehouse_path):
        pass
    defs = build_definitions(config)
    built = [k for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) for k in a.keys]
    assert dg.AssetKey("export_d") in built and dg.AssetKey("results") not in built
    run = defs.resolve_job_def("nightly").execute_in_process(
        partition_key="2026-01-01", asset_selection=[dg.AssetKey("export_d")], raise_on_error=False
    )
    assert run.success
    (done,) = run.asset_materializations_for_node("export_d")
    assert done.metadata["skipped"].value == (
        "nothing configured writes results (its asset is not built): nothing exported"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_night_rerun_without_rows_replaces_the_file_an_earlier_run_wrote(warehouse, tmp_path, fmt):
    # a night re-run after its rows went (a `where` changed, a model renamed) left the earlier run's file
    # in place: its 30 scores, none of them in the warehouse any more
    destination = str(tmp_path / f"s_{{date}}.{fmt}")
    spec = ExportSpec(name="s", table="predictions", destination=destination, format=fmt)
    target = tmp_path / f"s_{DAY:%Y%m%d}.{fmt}"
    with connect(warehouse.warehouse_path, read_only=True) as con:
        assert run_export(con, warehouse, spec, DAY)[0] == 30
    with connect(warehouse.warehouse_path) as con:
        con.execute("DELETE FROM predictions WHERE date = $day", {"day": DAY})
    with connect(warehouse.warehouse_path, read_only=True) as con:
        assert run_export(con, warehouse, spec, DAY) == (0, str(target))
    if fmt == "csv":
        assert target.read_text() == "date,customer_id,model,version,score\n"  # the header only
    elif fmt == "jsonl":
        assert target.read_bytes() == b""
    else:
        table = pq.read_table(target)
        assert table.num_rows == 0
        assert table.column_names == ["date", "customer_id", "model", "version", "score"]
    assert sorted(p.name for p in tmp_path.glob("*s_*")) == [target.name]  # nothing staged is left


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_column_given_twice_is_refused(warehouse, tmp_path, fmt):
    # it was written twice: CSV and JSON lines named the second `customer_id_1`, a column no table has, and
    # Parquet held two `customer_id` columns, a file pyarrow then refused to read
    path = tmp_path / f"p.{fmt}"
    with pytest.raises(ExportError) as e:
        export(warehouse, "predictions", path, fmt, columns=["customer_id", "score", "customer_id"])
    assert str(e.value) == "predictions: customer_id is given twice in the columns"
    assert not list(tmp_path.glob("*p.*"))
