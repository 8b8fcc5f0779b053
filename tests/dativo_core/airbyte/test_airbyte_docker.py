"""The Docker runner end to end: faker's image in the hardened container, when an engine is here."""

from __future__ import annotations

import io

import docker
import orjson
import pytest
from docker.errors import DockerException

from dativo_core.airbyte.catalog import select_streams
from dativo_core.airbyte.connector import AirbyteConnector
from dativo_core.airbyte.container import ContainerSettings
from dativo_core.airbyte.docker_runner import DockerRunner
from dativo_core.jobs.recipes import find_recipe
from dativo_core.singer.writer import SingerWriter

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def faker_image() -> str:
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        pytest.skip(f"no Docker engine is reachable here ({exc}); the container spec is "
                    "unit-tested in test_airbyte_container.py")
    image = find_recipe("source-faker").install["image"]
    try:
        client.images.get(image)
    except DockerException:
        try:
            client.images.pull(image)
        except DockerException as exc:
            pytest.skip(f"Docker engine reachable but image {image} can't be pulled ({exc})")
    return image


def test_faker_image_reads_in_a_locked_down_container(faker_image: str) -> None:
    runner = DockerRunner(faker_image, ContainerSettings(network_mode="none", mem_limit="1g"))
    connector = AirbyteConnector(runner)
    config = {"count": 20, "seed": 1, "parallelism": 1, "always_updated": False}
    catalog = select_streams(connector.discover(config), ["users", "purchases"])
    out = io.BytesIO()
    result = connector.read(config, catalog, None, SingerWriter(out))
    assert result.records == {"users": 20, "purchases": 20}
    messages = [orjson.loads(line) for line in out.getvalue().splitlines()]
    ids = sorted(m["record"]["id"] for m in messages if m.get("stream") == "users" and m["type"] == "RECORD")
    assert ids == list(range(1, 21))
    assert result.state["bookmarks"]["users"]["stream_state"]["loop_offset"] == 20
    leftovers = docker.from_env().containers.list(
        all=True, filters={"label": "dativo.role=airbyte-connector"}
    )
    assert leftovers == [], "containers are removed after the run"
