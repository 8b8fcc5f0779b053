from dativo_core.singer import Catalog, clear_bookmark, get_bookmark, set_bookmark
from dativo_core.singer.catalog import standard_metadata

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                           "updated": {"type": "string"}, "secret": {"type": "string"}}}


def make_catalog(stream_meta, prop_meta=None):
    metadata = standard_metadata(SCHEMA, ["id"], valid_replication_keys=["updated"])
    metadata[0]["metadata"].update(stream_meta)
    for entry in metadata[1:]:
        entry["metadata"].update((prop_meta or {}).get(entry["breadcrumb"][1], {}))
    return Catalog.from_dict(
        {"streams": [{"tap_stream_id": "users", "schema": SCHEMA, "key_properties": ["id"],
                      "metadata": metadata}]}
    )


def test_selection_follows_singer_rules():
    entry = make_catalog({"selected": True}, {"secret": {"selected": False}, "id": {"selected": False}}).streams[0]
    assert entry.is_selected()
    # key properties and the replication key are automatic: deselecting them has no effect
    assert entry.selected_properties() == ["id", "name", "updated"]
    assert list(entry.selected_schema()["properties"]) == ["id", "name", "updated"]


def test_stream_selection_defaults():
    assert make_catalog({}).selected_streams()[0].tap_stream_id == "users"  # selected-by-default
    assert make_catalog({"selected": False}).selected_streams() == []
    assert make_catalog({"selected-by-default": False}).selected_streams() == []
    assert make_catalog({"inclusion": "unsupported", "selected": True}).selected_streams() == []


def test_replication_settings_from_metadata():
    entry = make_catalog({"selected": True}).streams[0]
    assert entry.effective_replication_key == "updated"
    assert entry.effective_replication_method == "INCREMENTAL"
    entry.set_metadata((), **{"replication-method": "FULL_TABLE"})
    assert entry.effective_replication_method == "FULL_TABLE"


def test_catalog_round_trip():
    catalog = make_catalog({"selected": True})
    again = Catalog.from_dict(catalog.to_dict())
    assert again.to_dict() == catalog.to_dict()
    assert again.get("users").metadata_for(("properties", "id"))["inclusion"] == "automatic"
    assert again.get("nope") is None


def test_bookmarks_are_copied_not_mutated():
    state = {"bookmarks": {"a": {"k": 1}}}
    new = set_bookmark(state, "b", "k", 2)
    assert state == {"bookmarks": {"a": {"k": 1}}}
    assert get_bookmark(new, "b", "k") == 2 and get_bookmark(new, "zz", "k", "d") == "d"
    assert clear_bookmark(new, "a") == {"bookmarks": {"b": {"k": 2}}}
