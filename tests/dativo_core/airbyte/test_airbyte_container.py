"""The Docker container spec and the private run directory, checked without an engine."""

from __future__ import annotations

import os
import stat

import pytest

from dativo_core.airbyte.container import (
    CONTAINER_RUN_DIR,
    ContainerSettings,
    create_arguments,
    effective_settings,
)
from dativo_core.airbyte.runner import Invocation, private_run_dir

SECRET = "s3cr3t-token-value"
INVOCATION = Invocation(
    "read",
    config={"api_key": SECRET},
    catalog={"streams": []},
    state=[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "x"}}}],
)


def test_container_is_hardened_and_limited() -> None:
    settings = ContainerSettings(
        network_mode="none", mem_limit="256m", cpus=0.5, pids_limit=64,
        writable_dirs=("/tmp", "/home/airbyte"), tmpfs_size="64m",
    )
    args = create_arguments(
        "airbyte/source-x:1.2.3", INVOCATION.arguments(CONTAINER_RUN_DIR), "/tmp/run-1", settings
    )
    assert args["image"] == "airbyte/source-x:1.2.3"
    assert args["user"] == "1000:1000"
    assert args["cap_drop"] == ["ALL"]
    assert args["security_opt"] == ["no-new-privileges:true"]
    assert args["read_only"] is True
    assert args["tmpfs"] == {
        "/tmp": "rw,noexec,nosuid,size=64m",
        "/home/airbyte": "rw,noexec,nosuid,size=64m",
    }
    assert args["mem_limit"] == args["memswap_limit"] == "256m"
    assert args["nano_cpus"] == 500_000_000
    assert args["pids_limit"] == 64
    assert args["network_mode"] == "none"
    (mount,) = args["mounts"]
    assert mount["Target"] == CONTAINER_RUN_DIR
    assert mount["Source"] == "/tmp/run-1"
    assert mount["Type"] == "bind"
    assert mount["ReadOnly"] is True
    assert args["stdin_open"] is False and args["tty"] is False
    # Paths only: no secret reaches the command line or the environment.
    assert args["command"] == [
        "read",
        "--config", f"{CONTAINER_RUN_DIR}/config.json",
        "--catalog", f"{CONTAINER_RUN_DIR}/catalog.json",
        "--state", f"{CONTAINER_RUN_DIR}/state.json",
    ]
    assert SECRET not in repr(args)


def test_root_is_refused() -> None:
    with pytest.raises(ValueError, match="never run as root"):
        create_arguments("img", ["spec"], "/tmp/x", ContainerSettings(user="0:0"))


def test_settings_from_config_name_unknown_keys() -> None:
    settings = ContainerSettings.from_dict({"network_mode": "none", "writable_dirs": ["/tmp"]})
    assert settings.network_mode == "none" and settings.writable_dirs == ("/tmp",)
    with pytest.raises(ValueError, match="memory"):
        ContainerSettings.from_dict({"memory": "1g"})


def test_effective_user_on_this_host() -> None:
    settings = effective_settings(ContainerSettings())
    if os.geteuid() == 0:
        assert settings.user == "1000:1000"  # root hands the run directory to uid 1000
    else:
        assert settings.user_ids()[0] == os.geteuid()  # its own files stay readable to it
    assert settings.user_ids()[0] != 0


def test_private_run_dir_is_private_and_removed() -> None:
    with private_run_dir(INVOCATION) as directory:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        names = sorted(p.name for p in directory.iterdir())
        assert names == ["catalog.json", "config.json", "state.json"]
        config = directory / "config.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert SECRET in config.read_text()
    assert not directory.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another uid needs root")
def test_private_run_dir_handed_to_container_user() -> None:
    with private_run_dir(INVOCATION, owner=(1000, 1000)) as directory:
        for path in [directory, *directory.iterdir()]:
            assert (path.stat().st_uid, path.stat().st_gid) == (1000, 1000)
    assert not directory.exists()
