"""moto in server mode (a real HTTP endpoint speaking the AWS APIs) on 127.0.0.1."""

from __future__ import annotations

import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .process import ServerProcess, free_port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL; any access key works, region `us-east-1`."""
    pytest.importorskip("moto.server", reason="moto server mode needs the PyPI package moto[server]")
    work_dir = Path(tempfile.mkdtemp(prefix="dativo-moto-"))
    port = free_port()
    server = ServerProcess(
        "moto server",
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        log_path=work_dir / "moto.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until(lambda: urllib.request.urlopen(f"{url}/moto-api/", timeout=1).status == 200)
        yield url
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
