import pytest

from dativo_core.documents import DocumentError
from dativo_core.jobs.recipes import find_recipe
from dativo_core.jobs.run import connector_config
from dativo_core.jobs.settings import deep_merge, effective_config, env_prefix

SETTINGS = {"properties": {"files": {"type": "array"}, "delimiter": {"type": "string"},
                           "max-rows": {"type": "integer"}}}


def test_env_prefix_is_meltano_style():
    assert env_prefix("tap-csv") == "TAP_CSV_"
    assert env_prefix("source.faker") == "SOURCE_FAKER_"


def test_precedence_recipe_then_job_then_environment():
    defaults = {"delimiter": ",", "max-rows": 10, "nested": {"a": 1, "b": 2}}
    job = {"delimiter": ";", "nested": {"b": 3}}
    environ = {"TAP_CSV_MAX_ROWS": "25", "TAP_CSV_FILES": '[{"entity": "x", "path": "x.csv"}]',
               "TAP_CSV_UNKNOWN": "ignored", "OTHER_DELIMITER": "|"}
    config = effective_config("tap-csv", defaults, job, SETTINGS, environ)
    assert config == {
        "delimiter": ";",                                  # job beats recipe
        "max-rows": 25,                                    # environment beats both, JSON-parsed
        "nested": {"a": 1, "b": 3},                        # mappings merge key by key
        "files": [{"entity": "x", "path": "x.csv"}],
    }


def test_environment_plain_strings_and_no_mutation():
    defaults = {"delimiter": ","}
    config = effective_config("tap-csv", defaults, {}, SETTINGS, {"TAP_CSV_DELIMITER": "|"})
    assert config == {"delimiter": "|"} and defaults == {"delimiter": ","}
    assert deep_merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}


def test_a_job_config_is_merged_over_recipe_defaults_and_under_the_environment(monkeypatch, tmp_path):
    """The whole chain on a shipped recipe, as `dativo run` builds a target's config."""
    recipe = find_recipe("target-iceberg")
    monkeypatch.setenv("TARGET_ICEBERG_WAREHOUSE", str(tmp_path))
    monkeypatch.setenv("TARGET_ICEBERG_MAX_BATCH_ROWS", "5000")
    config = connector_config(recipe, {"warehouse": "wh", "namespace": "acme", "max_batch_rows": 10}, "job.yaml")
    assert config == {"warehouse": str(tmp_path), "namespace": "acme", "max_batch_rows": 5000}
    monkeypatch.setenv("TARGET_ICEBERG_MAX_BATCH_ROWS", "lots")
    with pytest.raises(DocumentError, match=r"job.yaml \(config of target-iceberg\) at \$.max_batch_rows: 'lots' is not"):
        connector_config(recipe, {"warehouse": "wh"}, "job.yaml")
