import pytest

from dativo_core.jobs.errors import JobError
from dativo_core.jobs.model import ConnectorUse
from dativo_core.jobs.selection import select
from dativo_core.singer.catalog import Catalog

CATALOG = {"streams": [
    {"tap_stream_id": "public-users", "stream": "users", "table_name": "users",
     "schema": {"properties": {"id": {"type": "integer"}, "email": {"type": "string"}, "pw": {"type": "string"}}},
     "key_properties": ["id"], "metadata": [{"breadcrumb": [], "metadata": {"valid-replication-keys": ["id"]}}]},
    {"tap_stream_id": "orders", "schema": {"properties": {"n": {"type": "integer"}}}, "metadata": []},
]}


def test_streams_fields_and_replication_from_the_job():
    use = ConnectorUse("tap-x", streams=["users"], fields={"users": ["id", "email"]},
                       replication={"users": "FULL_TABLE"})
    result = select(CATALOG, use, default_streams=[])
    users, orders = Catalog.from_dict(result).streams
    assert users.is_selected() and not orders.is_selected()
    assert users.selected_properties() == ["id", "email"]
    assert users.effective_replication_method == "FULL_TABLE"
    assert result["streams"][0]["table_name"] == "users"  # keys the tap wrote are kept
    assert CATALOG["streams"][0]["metadata"] == [{"breadcrumb": [], "metadata": {"valid-replication-keys": ["id"]}}]


def test_recipe_streams_then_all_streams_by_default():
    by_recipe = Catalog.from_dict(select(CATALOG, ConnectorUse("tap-x"), default_streams=["orders"]))
    assert [s.name for s in by_recipe.selected_streams()] == ["orders"]
    everything = Catalog.from_dict(select(CATALOG, ConnectorUse("tap-x"), default_streams=[]))
    assert [s.name for s in everything.selected_streams()] == ["users", "orders"]


@pytest.mark.parametrize(
    ("use", "message"),
    [
        (ConnectorUse("t", streams=["userz"]), r"source streams name streams the tap does not have: userz; it has: "),
        (ConnectorUse("t", fields={"users": ["id", "nope"]}), r"stream 'users' has no fields nope; it has: id, email, pw"),
        (ConnectorUse("t", replication={"x": "FULL_TABLE"}), r"source replication name streams the tap does not have: x"),
    ],
)
def test_selection_errors_name_what_exists(use, message):
    with pytest.raises(JobError, match=message):
        select(CATALOG, use, default_streams=[])
