from pathlib import Path

import pytest

from dativo_core.jobs.errors import JobError
from dativo_core.jobs.model import ConnectorUse, Job
from dativo_core.jobs.plugins import plugin_args, plugin_config, plugin_executable
from dativo_core.jobs.recipes import Recipe, find_recipe


def test_airbyte_config_is_wrapped_for_tap_airbyte_and_docker_switches_to_the_image():
    faker = find_recipe("source-faker")
    assert plugin_executable(faker) == "tap-airbyte"
    assert plugin_config(faker, {"count": 5}, ConnectorUse("source-faker")) == {
        "connector": "source-faker", "airbyte_config": {"count": 5}}
    docker = ConnectorUse("source-faker", docker={"network_mode": "none"})
    assert plugin_config(faker, {}, docker)["install"] == {"source": "docker"}
    assert plugin_config(faker, {}, docker)["docker"] == {"network_mode": "none"}


def test_singer_config_passes_as_is_and_builtins_run_their_executable():
    csv = find_recipe("tap-csv")
    assert plugin_config(csv, {"files": []}, ConnectorUse("tap-csv")) == {"files": []}
    assert plugin_executable(csv) == "tap-csv"


def test_reader_plugins_are_named_on_the_command_line(tmp_path):
    job_file = tmp_path / "jobs" / "j.yaml"
    job_file.parent.mkdir()
    job_file.write_text("tenant: a\nsource: {connector: tap-reader, reader: {name: sqlite-tables, plugin_dirs: [../plugins]}}\n")
    job = Job.load(job_file)
    assert plugin_args(find_recipe("tap-reader"), job.source, job) == (
        "--reader", "sqlite-tables", "--plugin-dir", str(tmp_path / "plugins"))
    with pytest.raises(JobError, match="name it in `reader: {name: ...}`"):
        plugin_args(find_recipe("tap-reader"), ConnectorUse("tap-reader"), None)


def test_singer_plugins_from_images_are_refused_with_the_alternative():
    recipe = Recipe("tap-x", "tap", "singer", {"source": "docker", "image": "x"}, Path("tap-x.yaml"))
    with pytest.raises(JobError, match="install it with pip"):
        plugin_executable(recipe)
