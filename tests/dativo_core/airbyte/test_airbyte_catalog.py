"""Discovery and selection: AirbyteStream -> Singer entry -> ConfiguredAirbyteStream."""

from __future__ import annotations

import pytest

from dativo_core.airbyte.catalog import (
    select_streams,
    to_configured_catalog,
    to_singer_catalog,
)
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.singer.catalog import Catalog

USERS = {
    "name": "users",
    "json_schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    "supported_sync_modes": ["full_refresh", "incremental"],
    "source_defined_cursor": True,
    "default_cursor_field": ["updated_at"],
    "source_defined_primary_key": [["id"]],
    "is_resumable": True,
}
EVENTS = {
    "name": "events",
    "namespace": "public",
    "json_schema": {"type": "object", "properties": {"seq": {"type": "integer"}, "doc": {}}},
    "supported_sync_modes": ["full_refresh"],
    "source_defined_primary_key": [["doc", "id"]],
}


def _catalog() -> Catalog:
    # Through to_dict/from_dict, as a catalog file written by --discover is read back.
    return Catalog.from_dict(to_singer_catalog({"streams": [USERS, EVENTS]}).to_dict())


def test_discovery_maps_keys_cursor_and_modes() -> None:
    users, events = _catalog().streams
    assert users.tap_stream_id == "users"
    assert users.key_properties == ["id"]
    assert users.replication_key == "updated_at"
    meta = users.metadata_for(())
    assert meta["valid-replication-keys"] == ["updated_at"]
    assert meta["airbyte-supported-sync-modes"] == ["full_refresh", "incremental"]
    assert "forced-replication-method" not in meta
    assert users.metadata_for(("properties", "id"))["inclusion"] == "automatic"
    # Namespaced streams get Singer's `namespace-name`; a nested key path has no Singer key.
    assert events.tap_stream_id == "public-events"
    assert events.key_properties == []
    assert events.metadata_for(())["forced-replication-method"] == "FULL_TABLE"


def test_selection_becomes_configured_catalog() -> None:
    catalog = _catalog()
    users = catalog.get("users")
    users.set_metadata((), selected=True, **{"replication-method": "INCREMENTAL"})
    users.set_metadata(("properties", "address"), selected=False)
    catalog.get("public-events").set_metadata((), selected=False)

    configured = to_configured_catalog(catalog)

    assert len(configured["streams"]) == 1
    stream = configured["streams"][0]
    assert stream["sync_mode"] == "incremental"
    assert stream["cursor_field"] == ["updated_at"]
    assert stream["primary_key"] == [["id"]]
    assert stream["destination_sync_mode"] == "append_dedup"
    assert stream["stream"]["name"] == "users"
    assert stream["stream"]["source_defined_primary_key"] == [["id"]]
    assert sorted(stream["stream"]["json_schema"]["properties"]) == ["id", "name", "updated_at"]


def test_full_table_and_namespace() -> None:
    catalog = select_streams(_catalog(), ["public-events"])
    (stream,) = to_configured_catalog(catalog)["streams"]
    assert stream["sync_mode"] == "full_refresh"
    assert stream["destination_sync_mode"] == "overwrite"
    assert stream["stream"]["namespace"] == "public"
    assert stream["stream"]["name"] == "events"
    assert stream["primary_key"] == [["doc", "id"]]


def test_incremental_on_a_full_refresh_only_stream_is_refused() -> None:
    catalog = select_streams(_catalog(), ["public-events"])
    catalog.get("public-events").set_metadata((), **{"replication-method": "INCREMENTAL"})
    with pytest.raises(ConnectorError, match="does not support incremental"):
        to_configured_catalog(catalog)


def test_unknown_stream_and_empty_selection_are_config_errors() -> None:
    with pytest.raises(ConnectorError, match="nope") as caught:
        select_streams(_catalog(), ["users", "nope"])
    assert caught.value.failure_type == "config_error"
    with pytest.raises(ConnectorError, match="no stream is selected"):
        to_configured_catalog(select_streams(_catalog(), []))


def test_catalog_not_from_tap_airbyte_is_refused() -> None:
    catalog = Catalog.from_dict(
        {"streams": [{"tap_stream_id": "x", "schema": {}, "metadata": [
            {"breadcrumb": [], "metadata": {"selected": True}}]}]}
    )
    with pytest.raises(ConnectorError, match="airbyte-stream-name"):
        to_configured_catalog(catalog)
