"""SFTP source against a real SFTP server: paramiko's server classes in-process (most tests) and
OpenSSH's sshd (one end-to-end test)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time

import dagster as dg
import paramiko
import pytest

from pipeline.definitions import build_definitions
from pipeline.demo.sftp_server import SftpTestServer
from pipeline.ingest.sources.sftp import fingerprint
from tests.conftest import example_dict, make_config, run_nightly
from tests.integration.helpers import (
    D1,
    D2,
    D3,
    RANGE_FILE,
    RESTATED,
    assert_range_loaded,
    everything_said,
    failure_text,
    loads,
    pos_csv,
    range_pos_csv,
    remote_config,
    tx_rows,
)

PASSWORD = "s3cret-pw-Zq81"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("sftp_root")
    (root / "drop").mkdir()
    srv = SftpTestServer(root, password=PASSWORD)
    yield srv
    srv.stop()


@pytest.fixture
def drop(server):
    """The server's remote folder, emptied, with the fault injection reset."""
    folder = server.root / "drop"
    for p in folder.iterdir():
        p.unlink()
    server.reset()
    yield folder
    server.reset()


def sftp_source(server, **changes) -> dict:
    return {
        "name": "partner",
        "kind": "sftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": "nightjar",
        "password_env": "PARTNER_SFTP_PASSWORD",
        "host_key_fingerprint": fingerprint(server.host_key),
        "folder": "drop",
        "retries": 2,
        "timeout_seconds": 5,
        **changes,
    }


@pytest.fixture
def config(tmp_path, server, monkeypatch):
    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", PASSWORD)
    return remote_config(tmp_path, sftp_source(server))


DAY1 = ["O1,C1,S1,P1,1,10.50", "O2,C2,S1,P2,2,3", "O3,C3,S2,P2,x,4"]


def test_a_day_is_ingested_end_to_end_and_a_rerun_changes_nothing(config, drop):
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    (drop / "notes.txt").write_text("not a data file")
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    expected = [("O1", "C1", D1, "S1", "P1", 1, "10.5000"), ("O2", "C2", D1, "S1", "P2", 2, "3.0000")]
    assert tx_rows(config) == expected
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert tx_rows(config) == expected
    size = (drop / "trans_pos_20260105.csv").stat().st_size
    got = [(r[1], r[2], r[3], r[4]) for r in loads(config)]
    assert got == [("trans_pos_20260105.csv", "LOADED", 3, 2)] * 2
    from pipeline.core.warehouse import connect

    with connect(config.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT DISTINCT source, file_size FROM loads").fetchall() == [("partner", size)]
        assert con.execute("SELECT row_number, field FROM rejects").fetchall() == [(3, "quantity")]


def test_range_files_land_each_row_on_its_day_and_a_later_file_replaces_its_days(
    tmp_path, server, drop, monkeypatch
):
    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", PASSWORD)
    config = remote_config(tmp_path, sftp_source(server), files="range")
    (drop / "trans_pos.csv").write_text(range_pos_csv(RANGE_FILE))
    (drop / "trans_pos_restated.csv").write_text(range_pos_csv(RESTATED))
    (drop / "trans_posx.csv").write_text(range_pos_csv(RESTATED))  # another dataset's name
    now = time.time()
    os.utime(drop / "trans_pos.csv", (now - 60, now - 60))  # the older file is loaded first
    assert run_nightly(config, D1, D3, assets=["tx_pos"]).success
    assert_range_loaded(config)
    assert run_nightly(config, D1, D3, assets=["tx_pos"]).success  # loading them again changes nothing
    assert_range_loaded(config)


def test_a_dropped_connection_mid_download_is_retried_and_the_day_completes(config, drop, server):
    rows = [f"O{i},C{i},S1,P1,1,{i}.25" for i in range(3000)]  # ~110 kB: several reads
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, rows))
    srv = server
    srv.drop_after = 40_000
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert result.success, failure_text(result)
    assert srv.drops == 1
    assert len(tx_rows(config)) == 3000
    assert loads(config)[0][2:5] == ("LOADED", 3000, 3000)


def test_a_file_that_vanishes_is_reported_and_the_other_days_load(config, drop, server):
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    (drop / "trans_pos_20260106.csv").write_text(pos_csv(D2, ["O9,C9,S1,P1,1,9"]))
    srv = server

    def vanish(path):
        if path.endswith("20260105.csv"):
            (drop / "trans_pos_20260105.csv").unlink(missing_ok=True)

    srv.on_open = vanish
    result = run_nightly(config, D1, D2, assets=["tx_pos"])
    assert not result.success
    assert "trans_pos_20260105.csv was listed but is gone" in failure_text(result)
    assert [r[0] for r in tx_rows(config)] == ["O9"]
    assert [(r[0], r[2]) for r in loads(config)] == [(D1, "FAILED"), (D2, "LOADED")]


def test_wrong_password_is_one_clear_error_and_no_secret_is_ever_shown(tmp_path, server, drop, monkeypatch):
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    wrong = "wr0ng-pw-Kx99"
    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", wrong)
    config = remote_config(tmp_path, sftp_source(server))
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert not result.success
    text = failure_text(result)
    assert (
        "sftp source 'partner' (nightjar@127.0.0.1" in text
        and "authentication failed (password refused)" in text
    )
    assert loads(config)[0][2] == "FAILED"
    assert loads(config)[0][5].startswith("sftp source 'partner'") and "Traceback" not in loads(config)[0][5]
    said = everything_said(result, instance, config)
    assert wrong not in said

    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", PASSWORD)  # the right one: a good run says it nowhere either
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert result.success
    said = everything_said(result, instance, config)
    assert PASSWORD not in said and "O1" in said


def test_a_host_key_that_is_not_the_pinned_one_is_refused(tmp_path, server, drop, monkeypatch):
    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", PASSWORD)
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    other = fingerprint(paramiko.ECDSAKey.generate())
    config = remote_config(tmp_path, sftp_source(server, host_key_fingerprint=other))
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert not result.success
    assert f"is not the pinned {other}" in failure_text(result)


def test_private_key_from_an_env_var_and_known_hosts(tmp_path, server, drop, monkeypatch):
    key = paramiko.ECDSAKey.generate()
    server.client_key = key
    import io

    buf = io.StringIO()
    key.write_private_key(buf)
    monkeypatch.setenv("PARTNER_SFTP_KEY", buf.getvalue())
    known = tmp_path / "known_hosts"
    known.write_text(
        f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
    )
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    src = sftp_source(server, password_env=None, private_key_env="PARTNER_SFTP_KEY", known_hosts=str(known))
    del src["host_key_fingerprint"]
    config = remote_config(tmp_path, src)
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert result.success, failure_text(result)
    assert [r[0] for r in tx_rows(config)] == ["O1", "O2"]
    key_body = buf.getvalue().splitlines()[1]  # a line of the private key's base64
    assert key_body not in everything_said(result, instance, config)


def test_the_sensor_requests_new_and_changed_files_only(config, drop):
    defs = build_definitions(config)
    sensor = defs.get_sensor_def("partner_files_sensor")
    resources = {"source_partner": defs.resources["source_partner"]}
    f = drop / "trans_pos_20260105.csv"
    f.write_text(pos_csv(D1, DAY1))
    with dg.build_sensor_context(resources=resources, definitions=defs) as ctx:
        first = sensor.evaluate_tick(ctx)
    assert [(r.partition_key, r.asset_selection) for r in first.run_requests] == [
        ("2026-01-05", [dg.AssetKey("tx_pos")])
    ]
    assert first.run_requests[0].run_key.startswith("tx_pos:trans_pos_20260105.csv:")
    with dg.build_sensor_context(resources=resources, cursor=first.cursor, definitions=defs) as ctx:
        assert sensor.evaluate_tick(ctx).run_requests == []  # unchanged: nothing
    f.write_text(pos_csv(D1, DAY1 + ["O4,C4,S1,P1,1,1"]))
    os.utime(f, (time.time() + 5, time.time() + 5))
    (drop / "trans_pos_20260106.csv").write_text(pos_csv(D2, ["O9,C9,S1,P1,1,9"]))
    with dg.build_sensor_context(resources=resources, cursor=first.cursor, definitions=defs) as ctx:
        second = sensor.evaluate_tick(ctx)
    assert sorted(r.partition_key for r in second.run_requests) == ["2026-01-05", "2026-01-06"]
    assert first.run_requests[0].run_key not in {r.run_key for r in second.run_requests}
    assert not config.warehouse_path.exists()  # sensors list the server, never open the warehouse


def test_a_dataset_with_two_files_of_a_day_does_not_stop_the_sensor_for_the_others(
    tmp_path, server, drop, monkeypatch
):
    # two pos files of one day made the listing raise, and the whole tick was skipped: web sessions on
    # the same server were not requested either
    monkeypatch.setenv("PARTNER_SFTP_PASSWORD", PASSWORD)
    data = example_dict()
    transactions = [
        {**t, "source": "partner"} if t["name"] in ("pos", "web_sessions") else t
        for t in data["transactions"]
    ]
    config = make_config(tmp_path, sources=data["sources"] + [sftp_source(server)], transactions=transactions)
    defs = build_definitions(config)
    sensor = defs.get_sensor_def("partner_files_sensor")
    (drop / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    (drop / "trans_pos_20260105.csv.gz").write_bytes(gzip.compress(pos_csv(D1, DAY1).encode()))
    (drop / "web_sessions_20260105.jsonl").write_text("")
    resources = {"source_partner": defs.resources["source_partner"]}
    with dg.build_sensor_context(resources=resources, definitions=defs) as ctx:
        tick = sensor.evaluate_tick(ctx)
    assert [(r.partition_key, r.asset_selection) for r in tick.run_requests] == [
        ("2026-01-05", [dg.AssetKey("tx_web_sessions")])
    ]
    assert "trans_pos_20260105.csv" not in json.loads(tick.cursor)  # requested once resolved


# ---- OpenSSH -------------------------------------------------------------------------------------

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@pytest.fixture(scope="module")
def openssh(tmp_path_factory):
    """OpenSSH's sshd with its own config, host key and a free port; key login only."""
    assert os.path.exists(SSHD), "sshd is not installed: `make system-deps` installs openssh-server"
    d = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    os.makedirs("/run/sshd", exist_ok=True)
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    import getpass

    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication "
        "no\nKbdInteractiveAuthentication no\n"
        f"UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nAllowUsers {getpass.getuser()}\n"
    )
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd did not start: {proc.stderr.read()}") from None
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("sshd did not listen within 10 s")
    host_pub = (d / "host_key.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    yield {"port": port, "dir": d, "user": getpass.getuser()}
    proc.terminate()
    proc.wait(5)


def test_openssh_end_to_end_with_a_key_file_and_known_hosts(tmp_path, openssh):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "trans_pos_20260105.csv").write_text(pos_csv(D1, DAY1))
    d = openssh["dir"]
    src = {
        "name": "partner",
        "kind": "sftp",
        "host": "127.0.0.1",
        "port": openssh["port"],
        "username": openssh["user"],
        "private_key_path": str(d / "client_key"),
        "known_hosts": str(d / "known_hosts"),
        "folder": str(remote),
    }
    config = remote_config(tmp_path, src)
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert result.success, failure_text(result)
    assert tx_rows(config) == [
        ("O1", "C1", D1, "S1", "P1", 1, "10.5000"),
        ("O2", "C2", D1, "S1", "P2", 2, "3.0000"),
    ]
