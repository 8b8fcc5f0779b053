"""A throwaway PostgreSQL cluster on 127.0.0.1 for the test session.

Finds `initdb`/`pg_ctl` on PATH or under /usr/lib/postgresql/<version>/bin (Debian's
`postgresql` package), and runs them as the `postgres` user when the tests run as root,
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .process import free_port

_USER = "dativo"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    data_dir: Path
    socket_dir: Path

    def url(self, database: str = "postgres", driver: str = "psycopg") -> str:
        """SQLAlchemy URL for a database of this cluster (trust authentication, no password)."""
        return f"postgresql+{driver}://{_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=_USER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def find_postgres_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl, newest Debian version first, else PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in [*debian, shutil.which("initdb")]:
        if candidate:
            bin_dir = Path(candidate).resolve().parent
            if (bin_dir / "pg_ctl").exists():
                return bin_dir
    return None


def _server_account() -> str | None:
    """The account that runs the server: None means the current (non-root) user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
        )
    return "postgres"


def _run(argv: list[str], account: str | None) -> subprocess.CompletedProcess[str]:
    command = ["runuser", "-u", account, "--", *argv] if account else argv
    return subprocess.run(command, capture_output=True, text=True, check=False)


def start_postgres(base_dir: Path) -> tuple[PostgresServer, str | None]:
    bin_dir = find_postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (no initdb/pg_ctl on PATH or under "
            "/usr/lib/postgresql/*/bin); install them with `apt-get install -y postgresql`"
        )
    account = _server_account()
    data_dir, socket_dir = base_dir / "data", base_dir / "socket"
    socket_dir.mkdir()
    if account:
        for path in (base_dir, socket_dir):
            shutil.chown(path, user=account)
    init = _run(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", _USER, "-A", "trust", "--no-sync", "-E", "UTF8"],
        account,
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    port = free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    start = _run(
        [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(base_dir / "server.log"), "-o", options, "-w", "start"],
        account,
    )
    if start.returncode != 0:
        log = (base_dir / "server.log").read_text(errors="replace") if (base_dir / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{log}")
    return PostgresServer(port=port, data_dir=data_dir, socket_dir=socket_dir), account


def stop_postgres(server: PostgresServer, account: str | None) -> None:
    bin_dir = find_postgres_bin_dir()
    assert bin_dir is not None
    _run([str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "immediate", "-w", "stop"], account)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session; user `dativo`, trust auth, on 127.0.0.1."""
    # Not pytest's tmp dir: its parents are 0700 root, which the postgres account cannot enter.
    base_dir = Path(tempfile.mkdtemp(prefix="dativo-pg-"))
    try:
        server, account = start_postgres(base_dir)
        try:
            yield server
        finally:
            stop_postgres(server, account)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of a fresh, empty database for one test."""
    return postgres_server.create_database(f"test_{uuid.uuid4().hex[:12]}")
