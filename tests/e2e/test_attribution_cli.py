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
