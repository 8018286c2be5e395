"""End to end: the wheel built from this checkout, installed into a fresh venv, runs `nightjar demo`.

The venv, the working directory and the demo's output are all outside the checkout, and
DAGSTER_HOME is unset (no dagster.yaml): what a user gets from `pip install`. The install takes
the versions of uv.lock (as constraints), so uv links them from its cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def uv_command() -> list[str]:
    """uv as `make install` runs it (`python3 -m uv`), else the `uv` on PATH."""
    for cmd in ([sys.executable, "-m", "uv"], ["python3", "-m", "uv"]):
        try:
            if subprocess.run([*cmd, "--version"], capture_output=True).returncode == 0:
                return cmd
        except FileNotFoundError:
            continue
    found = shutil.which("uv")
    assert found, "uv is missing: `make install` installs it (python3 -m pip install uv)"
    return [found]


def run(cmd: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """A fresh venv (outside the checkout) with the wheel of this checkout installed; and its env."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert ROOT not in tmp.parents
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "NIGHTJAR_CONFIG", "PYTHONPATH")}
    env.pop("VIRTUAL_ENV", None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    uv = uv_command()
    run([*uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp / "dist"), str(ROOT)], tmp, env)
    (wheel,) = (tmp / "dist").glob("nightjar-*.whl")
    constraints = tmp / "constraints.txt"
    export = [*uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet"]
    run([*export, "--project", str(ROOT), "-o", str(constraints)], tmp, env)
    venv = tmp / "venv"
    run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp, env)
    install = [*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    run([*install, "-c", str(constraints), str(wheel)], tmp, env)
    return venv, env


def test_the_installed_package_finds_its_own_sql_and_example(installed):
    venv, env = installed
    code = (
        "import pipeline.core.resources as r; print(r.sql_dir()); print(r.example_config()); "
        "print(r.sql_dir().joinpath('core/schema.sql').is_file())"
    )
    sql_dir, example, schema = run([str(venv / "bin" / "python"), "-c", code], venv, env).stdout.split()
    site = venv.resolve() / "lib"
    assert Path(sql_dir).is_relative_to(site) and Path(sql_dir).name == "_sql"
    assert Path(example).is_relative_to(site) and Path(example).name == "nightjar.example.yaml"
    assert schema == "True"


def test_the_installed_demo_runs_outside_the_checkout(installed, tmp_path):
    venv, env = installed
    out = tmp_path / "out"
    # a small world: the test checks that the installed package runs the demo, not the world's figures
    done = run(
        [str(venv / "bin" / "nightjar"), "demo", "--customers", "60", "--days", "2", "--out", str(out)],
        tmp_path,
        env,
        timeout=900,
    )
    assert "[1/3] generating the demo world: 60 customers, 2 days" in done.stdout
    assert "[3/3] summary" in done.stdout and "Failed loads: 0" in done.stdout
    assert f"Warehouse: {out / 'warehouse.duckdb'}" in done.stdout
    assert (out / "nightjar.yaml").is_file()
    with connect(out / "warehouse.duckdb", read_only=True) as con:
        (rows,) = con.execute("SELECT count(*) FROM tx_pos").fetchone()
    assert rows > 0
