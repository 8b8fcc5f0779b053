"""Running a connector from a Docker image through the `docker` SDK, in a hardened container."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound

from dativo_core.airbyte.container import (
    CONTAINER_RUN_DIR,
    ContainerSettings,
    create_arguments,
    effective_settings,
)
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.runner import Invocation, Runner, RunningConnector, private_run_dir
from dativo_core.singer.reader import read_line_chunks

STOP_GRACE_SECONDS = 10
log = logging.getLogger("dativo.airbyte.docker")


class _AttachedStdout:
    """The attach stream as a reader: read() returns the next stdout chunk as it arrives and
    copies stderr chunks to our stderr on the way."""

    def __init__(self, stream: Iterator[tuple[bytes | None, bytes | None]]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        for out, log in self._stream:
            if log:
                sys.stderr.buffer.write(log)
                sys.stderr.buffer.flush()
            if out:
                return out
        return b""


class _Container(RunningConnector):
    def __init__(self, container: Any, stream: Iterator[tuple[bytes | None, bytes | None]]) -> None:
        self._container = container
        self._stdout = _AttachedStdout(stream)

    def line_chunks(self) -> Iterator[list[bytes]]:
        for chunk in read_line_chunks(self._stdout):  # type: ignore[arg-type]
            yield chunk.lines

    def wait(self) -> int:
        return int(self._container.wait()["StatusCode"])


def docker_client() -> Any:
    """The engine from the environment (DOCKER_HOST etc.), or an error saying none is reachable."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        raise ConnectorError(
            f"no Docker engine is reachable ({exc}); start one, set DOCKER_HOST, "
            "or use the connector's pip or executable install",
            failure_type="config_error",
        ) from None
    return client


class DockerRunner(Runner):
    """Runs `image COMMAND --config /dativo/run/config.json ...` and removes the container after."""

    def __init__(self, image: str, settings: ContainerSettings | None = None) -> None:
        self.image = image
        self.settings = settings or ContainerSettings()
        self.name = image

    def _ensure_image(self, client: Any) -> None:
        try:
            client.images.get(self.image)
        except ImageNotFound:
            log.info("pulling image %s", self.image)
            try:
                client.images.pull(self.image)
            except DockerException as exc:
                raise ConnectorError(
                    f"cannot pull image {self.image!r}: {exc}",
                    failure_type="config_error",
                    connector=self.name,
                ) from None

    @contextlib.contextmanager
    def start(self, invocation: Invocation) -> Iterator[RunningConnector]:
        client = docker_client()
        self._ensure_image(client)
        settings = effective_settings(self.settings)
        owner = settings.user_ids() if os.geteuid() == 0 else None
        with private_run_dir(invocation, owner) as directory:
            arguments = create_arguments(
                self.image, invocation.arguments(CONTAINER_RUN_DIR), str(directory), settings
            )
            container = client.containers.create(**arguments)
            try:
                stream = container.attach(stdout=True, stderr=True, stream=True, logs=True, demux=True)
                container.start()
                yield _Container(container, stream)
            finally:
                with contextlib.suppress(DockerException):
                    container.stop(timeout=STOP_GRACE_SECONDS)
                with contextlib.suppress(DockerException):
                    container.remove(force=True)
