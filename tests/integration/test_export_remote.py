"""`nightjar export results` to a configured SFTP source (OpenSSH's sshd) and GCS source
(fake-gcs-server), read back through the real clients and compared byte for byte with the local export."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import threading
import time

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from pipeline.activation.exports import ExportError, export_to
from pipeline.cli import main
from pipeline.ingest.sources.sftp import SftpSettings, connect
from tests.assets.customers.test_customer_rules import DAY, build_world, rules_config
from tests.integration.test_gcs import BUCKET, emulator  # noqa: F401 - the fake-gcs-server fixture
from tests.integration.test_sftp import SSHD


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """OpenSSH's sshd on two ports: `port` serves SFTP read-write, `read_only_port` with internal-sftp -R."""
    assert os.path.exists(SSHD), "sshd is not installed: `make system-deps` installs openssh-server"
    d = tmp_path_factory.mktemp("sshd_export")
    for key in ("host_key", "client_key", "other_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    os.makedirs("/run/sshd", exist_ok=True)
    port, ro = _free_port(), _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nPort {ro}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"PidFile {d / 'sshd.pid'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nAllowUsers {getpass.getuser()}\n"
        f"Match LocalPort {ro}\n    ForceCommand internal-sftp -R\n"
    )
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 10
    for p in (port, ro):
        while True:
            try:
                socket.create_connection(("127.0.0.1", p), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    raise RuntimeError(
                        f"sshd did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
                    ) from None
                time.sleep(0.05)
    host = (d / "host_key.pub").read_text().split()
    (d / "known_hosts").write_text("".join(f"[127.0.0.1]:{p} {host[0]} {host[1]}\n" for p in (port, ro)))
    yield {"port": port, "read_only_port": ro, "dir": d, "user": getpass.getuser()}
    proc.terminate()
    proc.wait(5)


def sftp_source(sshd, remote, **changes) -> dict:
    return {
        "name": "partner",
        "kind": "sftp",
        "host": "127.0.0.1",
        "port": sshd["port"],
        "username": sshd["user"],
        "private_key_env": "PARTNER_SFTP_KEY",
        "known_hosts": str(sshd["dir"] / "known_hosts"),
        "folder": str(remote),
        "retries": 1,
        "timeout_seconds": 5,
        **changes,
    }


def gcs_source(url, **changes) -> dict:
    return {
        "name": "lake",
        "kind": "gcs",
        "bucket": BUCKET,
        "prefix": "outgoing/",
        "endpoint": url,
        **changes,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory, sshd, emulator):  # noqa: F811
    """A warehouse with a night of results; its config declares an SFTP and a GCS source to export to."""
    folder = tmp_path_factory.mktemp("export_world")
    remote = folder / "remote"
    (remote / "out").mkdir(parents=True)
    data = rules_config(folder)
    config = rules_config(
        folder,
        sources=[
            *[s.model_dump(mode="json") for s in data.sources],
            sftp_source(sshd, remote),
            gcs_source(emulator[1].url),
            gcs_source(emulator[1].url, name="nobucket", bucket="no-such-bucket"),
            gcs_source(f"http://127.0.0.1:{_free_port()}", name="closed"),
        ],
    )
    build_world(folder, config)
    from pipeline.core.warehouse import connect as wconnect
    from pipeline.experiments.decisions import decide

    with wconnect(config.warehouse_path) as con:
        assert decide(con, config, DAY) > 10
    local = folder / "local.csv"
    rows, _ = export_to(config, config.warehouse_path, DAY, str(local))
    return config, remote, local.read_bytes(), rows


@pytest.fixture
def key(sshd, monkeypatch):
    text = (sshd["dir"] / "client_key").read_text()
    monkeypatch.setenv("PARTNER_SFTP_KEY", text)
    return text


def read_back_sftp(sshd, path: str, port: int | None = None) -> bytes:
    s = SftpSettings(
        source="check",
        host="127.0.0.1",
        port=port or sshd["port"],
        username=sshd["user"],
        private_key_path=str(sshd["dir"] / "client_key"),
        known_hosts=str(sshd["dir"] / "known_hosts"),
    )
    with connect(s) as sftp, sftp.open(path, "rb") as f:
        return f.read()


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*partial*"))


# --- SFTP -------------------------------------------------------------------------------------------


def test_sftp_export_reads_back_byte_for_byte(world, sshd, key):
    config, remote, expected, rows = world
    n, where = export_to(config, config.warehouse_path, DAY, "sftp://partner/out/results_{date}.csv")
    assert n == rows and expected.count(b"\n") == rows + 1
    assert where == f"sftp://{sshd['user']}@127.0.0.1:{sshd['port']}/{remote}/out/results_20260103.csv"
    assert read_back_sftp(sshd, f"{remote}/out/results_20260103.csv") == expected
    assert leftovers(remote) == []


def test_sftp_export_replaces_an_existing_file_unless_no_clobber(world, sshd, key):
    config, remote, expected, _ = world
    target = remote / "again.csv"
    target.write_bytes(b"an older export\n")
    with pytest.raises(ExportError, match="again.csv exists already and was left as it was"):
        export_to(config, config.warehouse_path, DAY, "sftp://partner/again.csv", overwrite=False)
    assert target.read_bytes() == b"an older export\n" and leftovers(remote) == []
    export_to(config, config.warehouse_path, DAY, "sftp://partner/again.csv")
    assert read_back_sftp(sshd, str(target)) == expected and leftovers(remote) == []
    # no-clobber to a new name works
    export_to(config, config.warehouse_path, DAY, "sftp://partner/fresh.csv", overwrite=False)
    assert read_back_sftp(sshd, str(remote / "fresh.csv")) == expected


def test_sftp_errors_are_clear_and_the_key_is_never_shown(world, sshd, key, tmp_path, monkeypatch, capsys):
    config, remote, _, _ = world
    body = key.splitlines()[2]  # a line of the private key's base64
    cases = [
        ("sftp://nobody/x.csv", {}, "there is no source 'nobody' in the config (its sftp sources: partner)"),
        ("gcs://partner/x.csv", {}, "source 'partner' is a sftp source, not gcs"),
        ("sftp://partner/", {}, "give a file name after the source"),
        ("sftp://partner/../x.csv", {}, "may not hold empty, '.' or '..' parts"),
        ("sftp://partner/missing/x.csv", {}, f"the remote folder '{remote}/missing' does not exist"),
        ("sftp://partner/x.csv", {"port": _free_port()}, "cannot connect"),
        (
            "sftp://partner/x.csv",
            {"port": sshd["read_only_port"]},
            f"no permission to write in the remote folder '{remote}'",
        ),
    ]
    for to, changes, message in cases:
        cfg = rules_config(
            tmp_path,
            warehouse=str(config.warehouse_path),
            sources=[
                *[s.model_dump(mode="json") for s in config.sources if s.name != "partner"],
                sftp_source(sshd, remote, **changes),
            ],
        )
        with pytest.raises(ExportError) as e:
            export_to(cfg, config.warehouse_path, DAY, to)
        assert message in str(e.value), (to, str(e.value))
        assert body not in str(e.value)
    assert not (remote / "x.csv").exists() and leftovers(remote) == []

    monkeypatch.setenv(
        "PARTNER_SFTP_KEY", (sshd["dir"] / "other_key").read_text()
    )  # a key the server refuses
    args = [
        "export",
        "results",
        "--date",
        DAY.isoformat(),
        "--to",
        "sftp://partner/x.csv",
        "--config",
        str(config.base_dir / "nightjar.yaml"),
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "sftp source 'partner'" in err and "authentication failed (key refused)" in err
    assert (sshd["dir"] / "other_key").read_text().splitlines()[2] not in err and "Traceback" not in err
    monkeypatch.delenv("PARTNER_SFTP_KEY")
    assert main(args) == 1
    assert (
        "the environment variable PARTNER_SFTP_KEY (sources[1].private_key_env) is not set"
        in capsys.readouterr().err
    )
    assert not (remote / "x.csv").exists()


def test_cli_export_to_sftp(world, sshd, key, capsys):
    config, remote, expected, rows = world
    assert (
        main(
            [
                "export",
                "results",
                "--date",
                DAY.isoformat(),
                "--to",
                "sftp://partner/out/cli_{date}.csv",
                "--config",
                str(config.base_dir / "nightjar.yaml"),
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert out.out.strip() == (
        f"results {DAY}: {rows} decisions -> sftp://{sshd['user']}@127.0.0.1:{sshd['port']}"
        f"/{remote}/out/cli_20260103.csv"
    )
    assert key.splitlines()[2] not in out.out + out.err
    assert read_back_sftp(sshd, f"{remote}/out/cli_20260103.csv") == expected


# --- GCS --------------------------------------------------------------------------------------------


@pytest.fixture
def gcs(emulator):  # noqa: F811
    server, _ = emulator
    client = storage.Client(
        project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url}
    )
    if not client.bucket(BUCKET).exists():
        client.create_bucket(BUCKET)
    for blob in client.list_blobs(BUCKET):
        blob.delete()
    return client.bucket(BUCKET)


def test_gcs_export_reads_back_byte_for_byte(world, gcs):
    config, _, expected, rows = world
    n, where = export_to(config, config.warehouse_path, DAY, "gcs://lake/results_{date}.csv")
    assert (n, where) == (rows, f"gs://{BUCKET}/outgoing/results_20260103.csv")
    blob = gcs.get_blob("outgoing/results_20260103.csv")
    assert blob.download_as_bytes() == expected and blob.content_type == "text/csv"
    assert [b.name for b in gcs.client.list_blobs(BUCKET)] == ["outgoing/results_20260103.csv"]


def test_gcs_export_replaces_an_object_unless_no_clobber(world, gcs):
    config, _, expected, _ = world
    old = gcs.blob("outgoing/r.csv")
    old.upload_from_string(b"an older export\n")
    generation = gcs.get_blob("outgoing/r.csv").generation
    with pytest.raises(ExportError, match="the object outgoing/r.csv exists already and was left as it was"):
        export_to(config, config.warehouse_path, DAY, "gcs://lake/r.csv", overwrite=False)
    kept = gcs.get_blob("outgoing/r.csv")
    assert kept.generation == generation and kept.download_as_bytes() == b"an older export\n"
    export_to(config, config.warehouse_path, DAY, "gcs://lake/r.csv")
    new = gcs.get_blob("outgoing/r.csv")
    assert new.generation != generation and new.download_as_bytes() == expected


def test_gcs_export_never_replaces_a_generation_it_did_not_see(gcs, tmp_path):
    from google.api_core.exceptions import PreconditionFailed

    from pipeline.activation.destinations import put_gcs_object

    gcs.blob("outgoing/race.csv").upload_from_string(b"first\n")
    seen = gcs.get_blob("outgoing/race.csv").generation
    gcs.blob("outgoing/race.csv").upload_from_string(b"another writer\n")  # between our look and our put
    mine = tmp_path / "mine.csv"
    mine.write_bytes(b"mine\n")
    with pytest.raises(PreconditionFailed):
        put_gcs_object(gcs.blob("outgoing/race.csv"), mine, seen)
    assert gcs.get_blob("outgoing/race.csv").download_as_bytes() == b"another writer\n"
    put_gcs_object(gcs.blob("outgoing/race.csv"), mine, gcs.get_blob("outgoing/race.csv").generation)
    assert gcs.get_blob("outgoing/race.csv").download_as_bytes() == b"mine\n"


def test_gcs_errors_are_clear_and_the_key_is_never_shown(world, gcs, tmp_path, monkeypatch, capsys):
    config, _, _, _ = world
    for to, message in [
        ("gs://lake/x.csv", "name a configured gcs source, not a bucket: gcs://<source>/<path>"),
        ("s3://lake/x.csv", "unknown destination s3://"),
        (
            "gcs://nobucket/x.csv",
            "gcs source 'nobucket' (bucket 'no-such-bucket'): upload of outgoing/x.csv: not found",
        ),
        (
            "gcs://closed/x.csv",
            "gcs source 'closed' (bucket 'landing-bucket'): upload of outgoing/x.csv: ConnectionError",
        ),
    ]:
        with pytest.raises(ExportError) as e:
            export_to(config, config.warehouse_path, DAY, to)
        assert message in str(e.value), (to, str(e.value))
    secret = "-----BEGIN PRIVATE KEY-----\\nMIIEvQ-not-a-real-key-Qy72\\n-----END PRIVATE KEY-----\\n"
    keyfile = tmp_path / "sa.json"
    keyfile.write_text(json.dumps({"type": "service_account", "private_key": secret, "client_email": "x@y"}))
    monkeypatch.setenv("LAKE_KEY_FILE", str(keyfile))
    cfg = rules_config(
        tmp_path,
        warehouse=str(config.warehouse_path),
        sources=[
            *[s.model_dump(mode="json") for s in config.sources if s.name != "lake"],
            gcs_source(config.source("lake").endpoint, credentials_env="LAKE_KEY_FILE"),
        ],
    )
    with pytest.raises(ExportError) as e:
        export_to(cfg, config.warehouse_path, DAY, "gcs://lake/x.csv")
    assert "gcs source 'lake': cannot use the service-account key file named by credentials_env" in str(
        e.value
    )
    assert "MIIEvQ-not-a-real-key-Qy72" not in str(e.value)
    assert list(gcs.client.list_blobs(BUCKET)) == []


# --- whole or not at all, as a reader of the destination sees it --------------------------------------


def test_an_sftp_upload_is_never_seen_partial(sshd, key, tmp_path):
    """A reader polling the remote folder during an 8 MB upload sees the old file or the whole new one."""
    import threading

    from pipeline.activation.destinations import upload_sftp

    remote = tmp_path / "remote"
    remote.mkdir()
    big = tmp_path / "big.csv"
    big.write_bytes(os.urandom(8 << 20))
    (remote / "big.csv").write_bytes(b"old\n")
    seen, temps, done = set(), set(), threading.Event()

    def watch():
        while not done.is_set():
            for p in remote.iterdir():
                try:
                    (seen if p.name == "big.csv" else temps).add(
                        p.stat().st_size if p.name == "big.csv" else p.name
                    )
                except FileNotFoundError:
                    pass
            time.sleep(0.002)

    t = threading.Thread(target=watch)
    t.start()
    s = SftpSettings(
        source="partner",
        host="127.0.0.1",
        port=sshd["port"],
        username=sshd["user"],
        private_key=key,
        known_hosts=str(sshd["dir"] / "known_hosts"),
    )
    try:
        assert upload_sftp(s, str(remote), big, "big.csv") == f"{remote}/big.csv"
    finally:
        done.set()
        t.join()
    assert seen <= {4, 8 << 20} and (remote / "big.csv").stat().st_size == 8 << 20
    assert temps and all(
        n.startswith(".big.csv.partial-") for n in temps
    )  # the upload went through a temp name
    assert read_back_sftp(sshd, f"{remote}/big.csv") == big.read_bytes() and leftovers(remote) == []


def test_a_staged_file_a_dropped_connection_left_goes_with_a_later_upload(sshd, key, tmp_path):
    # the temporary file of an upload whose connection dropped stayed on the server for good
    from pipeline.activation.destinations import upload_sftp
    from pipeline.activation.staging import STALE_STAGED_SECONDS
    from tests.integration.proxy import CuttingProxy

    remote = tmp_path / "remote"
    remote.mkdir()
    big = tmp_path / "cut.csv"
    big.write_bytes(os.urandom(8 << 20))
    proxy = CuttingProxy(sshd["port"])
    s = SftpSettings(
        source="partner",
        host="127.0.0.1",
        port=proxy.port,
        username=sshd["user"],
        private_key=key,
        check_host_key=False,  # the proxy's port is not the one known_hosts names
        retries=2,
    )
    messages: list[str] = []
    try:
        proxy.cut_after = 20_000  # the server's answers: past the handshake, while the file is written
        assert upload_sftp(s, str(remote), big, "cut.csv", log=messages.append) == f"{remote}/cut.csv"
        assert proxy.cuts == 1
        (dropped,) = leftovers(remote)  # the dropped connection's, which could not be removed
        assert dropped.startswith(".cut.csv.partial-")
        others = [".cut.csv.partial", ".other.csv.partial-0123abcd"]  # not staged files of cut.csv
        for name in others:
            (remote / name).write_bytes(b"x")
        upload_sftp(s, str(remote), big, "cut.csv")
        assert leftovers(remote) == sorted([dropped, *others])  # fresh: it may be an upload at work
        hours_ago = time.time() - STALE_STAGED_SECONDS - 60
        for name in [dropped, *others]:
            os.utime(remote / name, (hours_ago, hours_ago))
        messages.clear()
        upload_sftp(s, str(remote), big, "cut.csv", log=messages.append)
    finally:
        proxy.stop()
    assert leftovers(remote) == sorted(others) and (remote / "cut.csv").read_bytes() == big.read_bytes()
    assert any(f"removed {dropped}, left by an upload of cut.csv" in m for m in messages)


def test_a_large_gcs_export_uses_one_resumable_upload_and_reads_back(gcs, tmp_path, emulator):  # noqa: F811
    from pipeline.activation.destinations import upload_gcs

    big = tmp_path / "big.csv"
    big.write_bytes(os.urandom(12 << 20))  # above the client's 8 MiB multipart limit
    client = storage.Client(
        project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": emulator[0].url}
    )
    assert (
        upload_gcs(client, "lake", BUCKET, "outgoing/", big, "big.csv") == f"gs://{BUCKET}/outgoing/big.csv"
    )
    assert gcs.get_blob("outgoing/big.csv").download_as_bytes() == big.read_bytes()


def test_a_local_export_fills_in_the_date_and_honours_no_clobber(world, tmp_path):
    config, _, expected, rows = world
    target = tmp_path / "out" / "results_20260103.csv"
    assert export_to(config, config.warehouse_path, DAY, str(tmp_path / "out" / "results_{date}.csv")) == (
        rows,
        str(target),
    )
    assert target.read_bytes() == expected
    target.write_bytes(b"kept\n")
    with pytest.raises(ExportError, match="exists already and was left as it was"):
        export_to(config, config.warehouse_path, DAY, str(target), overwrite=False)
    assert target.read_bytes() == b"kept\n" and sorted(p.name for p in target.parent.iterdir()) == [
        target.name
    ]


def test_concurrent_local_exports_to_one_file_each_stage_their_own(world, tmp_path):
    config, _, expected, _ = world
    target = tmp_path / "results.csv"
    other = tmp_path / f".{target.name}.partial"  # what another export was writing at the same time
    other.write_bytes(b"half of another export's fi")
    export_to(config, config.warehouse_path, DAY, str(target))
    assert target.read_bytes() == expected and other.read_bytes() == b"half of another export's fi"
    other.unlink()

    errors: list[BaseException] = []

    def export() -> None:
        for _ in range(20):
            try:
                export_to(config, config.warehouse_path, DAY, str(target))
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and target.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
