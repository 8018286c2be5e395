"""Helpers for tests that run Dagster for real: a Dagster home, a small demo world, `dagster dev`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pipeline.ops.postgres_server import free_port
from tests.conftest import ROOT

BIN = Path(sys.executable).parent


POSTGRES_STORAGE = ROOT / "pipeline" / "ops" / "dagster_postgres.yaml"


def dagster_home(folder: Path, postgres: bool = False) -> Path:
    """A Dagster home holding a copy of the root dagster.yaml (the local SQLite storage), or with
    ``postgres`` the instance file `make dev-pg` writes: dagster.yaml + the `storage: postgres:` block."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", folder / "dagster.yaml")
    if postgres:
        with open(folder / "dagster.yaml", "a") as f:
            f.write(POSTGRES_STORAGE.read_text())
    return folder


def dagster_env(home: Path, config: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PG_")}
    env.update({"DAGSTER_HOME": str(home), "NIGHTJAR_CONFIG": str(config)}, **(extra or {}))
    return env


def world_dir(prefix: str) -> Path:
    """A temp folder other users can traverse (the PostgreSQL server runs as `postgres`)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


class DagsterDev:
    """`dagster dev` (webserver + daemon) on a free loopback port, in its own session."""

    def __init__(self, env: dict, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / "dagster_dev.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                str(BIN / "dagster"),
                "dev",
                "-w",
                str(ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        req = urllib.request.Request(
            self.url + "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            body = json.loads(r.read())
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_loaded(self, timeout: float = 120) -> dict:
        """Wait until the webserver answers and the code location is loaded; return its status."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"dagster dev exited: {self.tail()}"
            try:
                data = self.graphql(
                    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                    "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
                )
                entries = data["workspaceOrError"]["locationEntries"]
                last = entries
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    return entries[0]
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"dagster dev did not load in {timeout}s: {last} {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
