"""A local PostgreSQL server for Dagster's storage (`make dev-pg`, tests): Debian's binaries in a folder.

``python -m pipeline.ops.postgres_server start DIR [PORT]`` creates the cluster on first use and starts
it on 127.0.0.1 (printing the DAGSTER_PG_* variables to export, the ones
pipeline/ops/dagster_postgres.yaml reads); ``stop DIR`` stops it. As root,
initdb and pg_ctl refuse to run, so they run as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


class PostgresError(RuntimeError):
    pass


def bin_dir() -> Path:
    """The folder of initdb/pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).parent
    raise PostgresError(
        "no PostgreSQL server binaries: install the Debian package postgresql-15 (make system-deps)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str]) -> None:
    r = subprocess.run(_as_owner(cmd), capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise PostgresError(f"{' '.join(cmd[:2])} failed: {(r.stderr or r.stdout).strip()[-2000:]}")


def start(data_dir: Path, port: int, password: str | None = None) -> dict[str, str]:
    """Start (creating if needed) a cluster in ``data_dir`` on 127.0.0.1:``port``: trust
    authentication, or with ``password`` the user postgres logs in over TCP with that password."""
    data_dir = Path(data_dir).resolve()
    pg = bin_dir()
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data_dir, "postgres", "postgres")
        auth = ["--auth=trust"]
        if password is not None:
            fd, name = tempfile.mkstemp(prefix="nightjar-pg-pw-")  # readable by the postgres user only
            os.close(fd)
            pwfile = Path(name)
            pwfile.write_text(password)
            if os.geteuid() == 0:
                shutil.chown(pwfile, "postgres", "postgres")
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        try:
            _run(
                [str(pg / "initdb"), "-D", str(data_dir), "-U", "postgres", *auth, "--no-sync", "-E", "UTF8"]
            )
        finally:
            if password is not None:
                pwfile.unlink(missing_ok=True)
    opts = f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(
        [
            str(pg / "pg_ctl"),
            "-w",
            "-D",
            str(data_dir),
            "-l",
            str(data_dir / "server.log"),
            "-o",
            opts,
            "start",
        ]
    )
    return {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": password or "",
        "DAGSTER_PG_DB": "postgres",
    }


def stop(data_dir: Path) -> None:
    data_dir = Path(data_dir).resolve()
    if (data_dir / "postmaster.pid").exists():
        _run([str(bin_dir() / "pg_ctl"), "-w", "-D", str(data_dir), "-m", "fast", "stop"])


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m pipeline.ops.postgres_server start DIR [PORT] | stop DIR", file=sys.stderr)
        return 2
    try:
        if argv[0] == "start":
            env = start(Path(argv[1]), int(argv[2]) if len(argv) > 2 else 5432)
            print(" ".join(f"{k}={v}" for k, v in env.items()))
        else:
            stop(Path(argv[1]))
    except PostgresError as e:
        print(f"postgres: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
