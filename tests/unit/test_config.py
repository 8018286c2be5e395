"""The project config: the example is valid, and every error names the file and the key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config, parse_config
from pipeline.core.formats import FormatError, to_strptime
from pipeline.core.settings import ConfigError
from tests.conftest import EXAMPLE, ROOT, example_dict


def problems_of(data: dict, tmp_path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as e:
        parse_config(data, tmp_path / "bad.yaml", tmp_path)
    assert str(tmp_path / "bad.yaml") in str(e.value)
    return e.value.problems


def test_example_config_is_valid():
    config = load_config(EXAMPLE)
    assert [t.table for t in config.transactions] == ["tx_pos", "tx_web_sessions", "tx_campaign_events"]
    assert config.customers.mode == "update"
    assert config.warehouse_path == ROOT / "warehouse.duckdb"
    assert config.transaction("pos").field("purchased_at").format == "mm/dd/yyyy"


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (
            lambda d: d["transactions"][2]["fields"][0].update(format="dd-xx"),
            "transactions[2].fields[0].format",
            "format",
        ),
        (
            lambda d: d["transactions"][0]["fields"][1].update(type="Text"),
            "transactions[0].fields[1].type",
            "String",
        ),
        (lambda d: d["transactions"][1].update(time_field="nope"), "transactions[1].time_field", "nope"),
        (
            lambda d: d["transactions"][1].update(customer_field="who"),
            "transactions[1].customer_field",
            "who",
        ),
        (
            lambda d: d["transactions"][0].update(time_field="store"),
            "transactions[0].time_field",
            "Date or Timestamp",
        ),
        (lambda d: d["transactions"][0].update(source="ftp"), "transactions[0].source", "unknown source"),
        (lambda d: d["transactions"][2].update(name="pos"), "transactions[2].name", "used twice"),
        (
            lambda d: d["transactions"][0]["fields"].append({"name": "amount", "type": "Int"}),
            "transactions[0].fields",
            "amount",
        ),
        (
            lambda d: d["transactions"][0]["fields"][5].update(format="yyyy-mm-dd"),
            "transactions[0].fields[5].format",
            "only for Date",
        ),
        (
            lambda d: d["transactions"][0]["fields"][2].update(format="yyyy"),
            "transactions[0].fields[2].format",
            "year, a month and a day",
        ),
        (
            lambda d: d["transactions"][0]["fields"][0].update(name="_load_id"),
            "transactions[0].fields[0].name",
            "reserved",
        ),
        (
            lambda d: d["transactions"][0]["fields"][0].update(name="order id"),
            "transactions[0].fields[0].name",
            "letters",
        ),
        (lambda d: d["customers"].update(mode="append"), "customers.mode", "update"),
        (lambda d: d["customers"].update(source="nowhere"), "customers.source", "unknown source"),
        (lambda d: d["sources"][0].update(kind="dropbox"), "sources[0].kind", "local_files"),
        (lambda d: d["checks"].update(max_reject_rate=2), "checks.max_reject_rate", "less than or equal"),
        # a number YAML reads as infinite or not a number (.inf, .nan): refused where it is read
        (
            lambda d: d["analysis"].update(sequential_tuning=float("inf")),
            "analysis.sequential_tuning",
            "finite number",
        ),
        (
            lambda d: d["checks"].update(max_reject_rate=float("nan")),
            "checks.max_reject_rate",
            "finite number",
        ),
        (
            lambda d: d["models"][0].update(promote_if={"min_gain_over_baseline": float("inf")}),
            "models[0].promote_if.min_gain_over_baseline",
            "finite number",
        ),
        (
            lambda d: d["models"][1].update(promote_if={"min_gain_over_baseline": float("nan")}),
            "models[1].promote_if.min_gain_over_baseline",
            "finite number",
        ),
        (
            lambda d: d["models"][0].update(promote_if={"min_gain_over_baseline": 2}),
            "models[0].promote_if.min_gain_over_baseline",
            "less than or equal to 1",
        ),
        (lambda d: d.update(start_date="yesterday"), "start_date", "date"),
        (lambda d: d.pop("warehouse"), "warehouse", "missing"),
        (lambda d: d.update(warehosue="x.duckdb"), "warehosue", "unknown key"),
        # values that validated but failed at run time or planned the impossible
        (lambda d: d["retention"].update(campaignSent=10**9), "retention.campaignSent", "1200 months"),
        (lambda d: d["retention"].update(campaignSent=0), "retention.campaignSent", "between 1 and"),
        (lambda d: d["sources"].append(dict(d["sources"][0])), "sources[1].name", "used twice"),
        (lambda d: d.update(start_date="2099-01-01"), "start_date", "in the future"),
        (lambda d: d.update(start_date="0001-01-01"), "start_date", "allow_old_start_date"),
        (
            lambda d: d["conversions"]["definitions"][1]["rules"].append(
                {"transaction": "pos", "field": "quantity", "formula": {"gt": 10**40}}
            ),
            "conversions.definitions[1].rules[2].formula",
            "outside the Int range",
        ),
        (
            lambda d: d["conversions"]["definitions"][1]["rules"].append(
                {"transaction": "pos", "field": "amount", "formula": {"lt": "1e400"}}
            ),
            "conversions.definitions[1].rules[2].formula",
            "outside the Decimal range",
        ),
    ],
)
def test_error_names_the_key_path(tmp_path, mutate, path, words):
    data = example_dict()
    mutate(data)
    problems = problems_of(data, tmp_path)
    paths = [p for p, _ in problems]
    assert path in paths, problems
    message = dict(problems)[path]
    assert words.lower() in message.lower(), message


def test_a_models_gain_over_its_baseline_is_not_asked_by_default(tmp_path):
    data = example_dict()
    data["models"][1]["promote_if"] = {"min_gain_over_baseline": 0.0}
    config = parse_config(data, tmp_path / "ok.yaml", tmp_path)
    assert config.models[0].promote_if.min_gain_over_baseline is None  # the default: not asked
    assert config.models[1].promote_if.min_gain_over_baseline == 0.0


def test_several_errors_are_reported_together(tmp_path):
    data = example_dict()
    data["transactions"][0]["fields"][2]["format"] = "zz"
    data["transactions"][1]["fields"][0]["typo"] = 1
    paths = [p for p, _ in problems_of(data, tmp_path)]
    assert {"transactions[0].fields[2].format", "transactions[1].fields[0].typo"} <= set(paths)


def test_yaml_syntax_error_names_the_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("start_date: 2026-01-01\nsources: [\n  - name: x\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert "broken.yaml" in str(e.value) and "line" in str(e.value)


def test_an_old_start_date_is_allowed_when_declared(tmp_path):
    data = {**example_dict(), "start_date": "1985-03-01", "allow_old_start_date": True}
    assert parse_config(data, tmp_path / "ok.yaml", tmp_path).start_date.year == 1985


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(EXAMPLE.read_bytes().replace(b"warehouse: ", b"warehouse: caf\xe9", 1))
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    line = 1 + EXAMPLE.read_bytes().split(b"warehouse: ")[0].count(b"\n")
    assert "not UTF-8: byte 0xe9" in str(e.value) and f"(line {line}, column 15)" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "none.yaml")


def test_a_config_path_that_is_a_folder_is_a_config_error_not_a_traceback(tmp_path):
    with pytest.raises(ConfigError, match="cannot read: Is a directory"):
        load_config(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert run.stderr == f"{tmp_path}: cannot read: Is a directory\n1 problem(s) in {tmp_path}\n"


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text(yaml.safe_dump({**example_dict(), "start_date": "2026-01-01"}))
    config = load_config(path)
    assert config.warehouse_path == tmp_path / "sub" / "warehouse.duckdb"
    assert config.resolve(config.sources[0].folder) == tmp_path / "sub" / "files"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mm/dd/yyyy", "%m/%d/%Y"),
        ("yyyy/mm/dd", "%Y/%m/%d"),
        ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S"),
        ("dd.mm.yy", "%d.%m.%y"),
        ("%Y%m%dT%H%M", "%Y%m%dT%H%M"),
        ("hh:mm dd/mm/yyyy", "%H:%M %d/%m/%Y"),
        ("yyyy-mm-dd'T'hh:mm:ss", "%Y-%m-%dT%H:%M:%S"),
    ],
)
def test_formats(fmt, expected):
    assert to_strptime(fmt) == expected


@pytest.mark.parametrize("fmt", ["tomorrow", "dd-xx", "yyyy", "mm/yyyy"])
def test_unknown_format(fmt):
    with pytest.raises(FormatError, match="unknown date/time format"):
        to_strptime(fmt)


def test_a_bad_date_in_yaml_is_a_config_error(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text(EXAMPLE.read_text().replace("start_date: 2026-01-01", "start_date: 2026-13-01"))
    with pytest.raises(ConfigError, match="c.yaml: .*not a date"):
        load_config(bad)


def test_a_bad_date_in_yaml_names_its_key_path(tmp_path):
    bad = tmp_path / "c.yaml"
    text = EXAMPLE.read_text()
    bad.write_text(text.replace("start: 2026-01-09 ", "start: 2026-02-30 ", 1))
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    line = text.splitlines().index(next(x for x in text.splitlines() if "start: 2026-01-09 " in x)) + 1
    assert str(e.value) == (
        f"{bad}: experiments[0].start: 2026-02-30 (line {line}) is not a date: day is out of range for month"
    )


@pytest.mark.parametrize(
    "before, after, path",
    [
        ("warehouse: w.duckdb\n", "warehouse: w.duckdb\nwarehouse: other.duckdb\n", "warehouse"),
        (
            "  max_reject_rate: 0.02",
            "  max_reject_rate: 0.5\n  max_reject_rate: 0.02",
            "checks.max_reject_rate",
        ),
        (
            "    file_name: trans_pos ",
            "    file_name: pos\n    file_name: trans_pos ",
            "transactions[0].file_name",
        ),
    ],
)
def test_a_key_given_twice_is_refused_with_its_key_path(tmp_path, before, after, path):
    # YAML itself would keep the last value and drop the first without a word (e.g. a second
    # `transactions:` block replacing the first)
    text = EXAMPLE.read_text().replace("warehouse: warehouse.duckdb", "warehouse: w.duckdb")
    assert before in text
    bad = tmp_path / "c.yaml"
    bad.write_text(text.replace(before, after, 1))
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert len(e.value.problems) == 1
    where, msg = e.value.problems[0]
    assert where == path and msg.startswith("given twice (lines "), (where, msg)
    assert str(e.value).count("\n") == 0


def test_a_date_written_otherwise_says_how_to_write_it(tmp_path):
    data = {**example_dict(), "start_date": 20260101}
    with pytest.raises(ConfigError) as e:
        parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert e.value.problems == [
        ("start_date", "20260101 is not a date: write it as YYYY-MM-DD (e.g. 2026-01-31)")
    ]
    data["start_date"] = "01/02/2026"
    with pytest.raises(ConfigError) as e:
        parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert e.value.problems == [
        ("start_date", "'01/02/2026' is not a date: write it as YYYY-MM-DD (e.g. 2026-01-31)")
    ]


def test_validate_command(tmp_path):
    data = example_dict()
    data["transactions"][2]["fields"][0]["format"] = "nonsense"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 1
    assert f"{bad}: transactions[2].fields[0].format: unknown date/time format 'nonsense'" in run.stderr
    good = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert good.returncode == 0 and "OK (1 source(s), 3 transaction(s)" in good.stdout
