"""The hardened container a Docker-image connector runs in, as `docker` SDK create() arguments.

Kept apart from the runner (and from the `docker` package, slow to import) so the security
settings can be read and tested without an engine.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

CONTAINER_RUN_DIR = "/dativo/run"
DEFAULT_USER = "1000:1000"


@dataclass(frozen=True)
class ContainerSettings:
    """Limits and isolation for one connector container; the defaults are the safe ones."""

    user: str = DEFAULT_USER
    network_mode: str = "bridge"
    mem_limit: str = "2g"
    cpus: float = 1.0
    pids_limit: int = 512
    writable_dirs: tuple[str, ...] = ("/tmp",)
    tmpfs_size: str = "512m"
    environment: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerSettings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown docker setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values = dict(data)
        if "writable_dirs" in values:
            values["writable_dirs"] = tuple(values["writable_dirs"])
        return cls(**values)

    def user_ids(self) -> tuple[int, int]:
        uid, _, gid = self.user.partition(":")
        return int(uid), int(gid or uid)


def effective_settings(settings: ContainerSettings) -> ContainerSettings:
    """Settings for this host: a non-root caller cannot hand its private files to uid 1000,
    so the container then runs as the caller's own (still non-root) uid and gid."""
    euid = os.geteuid()
    if euid == 0 or settings.user_ids()[0] == euid:
        return settings
    return dataclasses.replace(settings, user=f"{euid}:{os.getegid()}")


def create_arguments(
    image: str, command: list[str], run_dir: str, settings: ContainerSettings
) -> dict[str, Any]:
    """Keyword arguments for `client.containers.create`.

    The run directory (config, catalog, state) is mounted read-only; the root filesystem is
    read-only with tmpfs only where the connector must write; secrets stay in the files.
    """
    if settings.user_ids()[0] == 0:
        raise ValueError("connector containers never run as root (uid 0); set docker.user")
    tmpfs_options = f"rw,noexec,nosuid,size={settings.tmpfs_size}"
    return {
        "image": image,
        "command": command,
        "user": settings.user,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": {path: tmpfs_options for path in settings.writable_dirs},
        "mem_limit": settings.mem_limit,
        "memswap_limit": settings.mem_limit,
        "nano_cpus": int(settings.cpus * 1_000_000_000),
        "pids_limit": settings.pids_limit,
        "network_mode": settings.network_mode,
        # The Engine API's mount form, which the SDK passes through as it is.
        "mounts": [
            {"Target": CONTAINER_RUN_DIR, "Source": run_dir, "Type": "bind", "ReadOnly": True}
        ],
        "environment": dict(settings.environment),
        "stdin_open": False,
        "tty": False,
        "detach": True,
        "labels": {"dativo.role": "airbyte-connector"},
    }
