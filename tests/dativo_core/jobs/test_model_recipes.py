import pytest

from dativo_core.documents import DocumentError
from dativo_core.jobs.model import Job, find_jobs
from dativo_core.jobs.recipes import Recipe, find_recipe, list_recipes

RECIPE = """
name: tap-things
kind: tap
engine: singer
description: Things from a pip-installed tap
version: "1.2.3"
install: {source: pip, package: "tap-things==1.2.3", executable: tap-things}
capabilities: [catalog, discover, state]
secrets: [api_key]
defaults: {page_size: 100}
settings:
  type: object
  properties: {api_key: {type: string}, page_size: {type: integer}}
"""


def test_job_file_loads_with_defaults_and_relative_paths(tmp_path):
    job_dir = tmp_path / "jobs" / "acme"
    job_dir.mkdir(parents=True)
    (job_dir / "orders.yaml").write_text(
        "tenant: acme\nsource:\n  connector: tap-csv\n  config: {files: []}\n  streams: [orders]\n"
        "contract: {path: ../../contracts/orders.yaml, policy: quarantine}\n"
    )
    job = Job.load(job_dir / "orders.yaml")
    assert (job.tenant, job.name, job.key) == ("acme", "orders", "acme/orders")
    assert job.source.streams == ["orders"] and job.target.connector == "target-iceberg"
    assert job.state == {"backend": "local"}
    assert job.resolve_path(job.contract["path"]) == (tmp_path / "contracts" / "orders.yaml")
    assert find_jobs(tmp_path / "jobs") == [job_dir / "orders.yaml"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source: {connector: tap-csv}\n", r"at \$: 'tenant' is a required property"),
        ("tenant: a\nsource: {connector: tap-csv, streams: []}\n", r"at \$.source.streams: \[\] should be non-empty"),
        ("tenant: a\nsource: {connector: x}\ncontract: {path: c.yaml, policy: ignore}\n", r"at \$.contract.policy: 'ignore' is not one of"),
        ("tenant: ../b\nsource: {connector: x}\n", r"at \$.tenant: '../b' does not match"),
    ],
)
def test_bad_job_files_name_file_and_path(tmp_path, text, message):
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with pytest.raises(DocumentError, match=message) as info:
        Job.load(path)
    assert str(path) in str(info.value)


def test_recipes_from_catalog_path(tmp_path, monkeypatch):
    (tmp_path / "tap-things.yaml").write_text(RECIPE)
    monkeypatch.setenv("DATIVO_CATALOG_PATH", str(tmp_path))
    recipe = find_recipe("tap-things")
    assert isinstance(recipe, Recipe)
    assert (recipe.engine, recipe.executable, recipe.secrets) == ("singer", "tap-things", ["api_key"])
    assert "tap-things" in [r.name for r in list_recipes()]
    with pytest.raises(LookupError, match="no connector recipe named 'nope'"):
        find_recipe("nope")


def test_bad_recipe_is_refused_with_path(tmp_path, monkeypatch):
    (tmp_path / "tap-things.yaml").write_text(RECIPE.replace("executable: tap-things", "exe: x"))
    monkeypatch.setenv("DATIVO_CATALOG_PATH", str(tmp_path))
    with pytest.raises(DocumentError, match=r"tap-things.yaml at \$.install"):
        find_recipe("tap-things")
