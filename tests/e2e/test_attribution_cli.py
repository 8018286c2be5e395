"""`nightjar attribution models | summary` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.attribution.config import BUILTIN_NAMES
from pipeline.cli import main
from tests.conftest import EXAMPLE, ROOT

NIGHTJAR = Path(sys.executable).parent / "nightjar"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NIGHTJAR), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_attribution_models_lists_built_ins_and_custom_models(tmp_path, capsys):
    out = run("attribution", "models", "--config", str(EXAMPLE))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [ln.split("  ")[0].strip() for ln in lines[:10]] == list(BUILTIN_NAMES)
    assert any(
        ln.startswith("Equally Weighted (PPC Only)")
        and "lookback 30 d" in ln
        and "paid (PPC) channels only" in ln
        for ln in lines
    )
    assert any(ln.startswith("Shapley") and "custom" in ln for ln in lines)
    # a config shadowing a built-in is refused with the key path, before anything runs
    data = yaml.safe_load(EXAMPLE.read_text())
    data["attribution"]["models"].append({"name": "First Click", "modelType": "first"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert main(["attribution", "models", "--config", str(bad)]) == 1
    assert f"{bad}: attribution.models[6].name: 'First Click' is a built-in model" in capsys.readouterr().err
    assert (
        main(
            ["attribution", "summary", "--config", str(EXAMPLE), "--warehouse", str(tmp_path / "none.duckdb")]
        )
        == 1
    )
    assert "does not exist yet" in capsys.readouterr().err


def test_attribution_summary_refuses_an_unknown_model_and_a_backwards_range(tmp_path, capsys):
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect

    warehouse = str(tmp_path / "warehouse.duckdb")
    with connect(warehouse) as con:
        con.execute(sql("attribution/create_tables"))
        con.execute(
            "INSERT INTO attribution_summary (date, model, conversion, channel, conversions, value) "
            "VALUES ('2026-01-02', 'Last Click', 'purchase', 'Email', 1, 10)"
        )
    summary = ["attribution", "summary", "--config", str(EXAMPLE), "--warehouse", warehouse]
    assert main([*summary, "--model", "Last Click"]) == 0
    assert "| Last Click | Email | 1.00 | 10.00 |" in capsys.readouterr().out
    assert main([*summary, "--model", "last click"]) == 1  # names are matched exactly
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("no attribution model named 'last click' (models: 'Last Click (Infinite)', ")
    assert "'Shapley'" in err and "Traceback" not in err
    assert main([*summary, "--from", "2026-01-03", "--to", "2026-01-02"]) == 2  # as `nightjar backfill`
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "nothing to summarize: the range ends (2026-01-02) before it starts (2026-01-03)\n"
