"""Every stream singer-sdk ships for its target tests, piped through target-iceberg."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import re

import pytest
from singer_sdk.testing import target_test_streams

from dativo_target_iceberg.catalog import embedded_catalog

pytestmark = pytest.mark.slow

STREAMS = importlib.resources.files(target_test_streams)
SINGER_FILES = sorted(p.name[: -len(".singer")] for p in STREAMS.iterdir() if p.name.endswith(".singer"))


# Each scenario: files piped one after another into one warehouse, with extra settings.
SCENARIOS: dict[str, tuple[list[str], dict]] = {
    name: ([name], {}) for name in SINGER_FILES if name not in ("no_primary_keys_append", "user_location_upsert_data")
}
SCENARIOS["no_primary_keys"] = (["no_primary_keys", "no_primary_keys_append"], {})
SCENARIOS["user_location_data"] = (["user_location_data", "user_location_upsert_data"], {})
SCENARIOS["multiple_state_messages_small_batches"] = (["multiple_state_messages"], {"max_batch_rows": 1})


@pytest.fixture(scope="module")
def loaded(new_warehouse, run_concurrently) -> dict[str, tuple]:
    """All scenarios, each through real target-iceberg subprocesses, run side by side."""

    def job(name: str, files: list[str], settings: dict):
        def run():
            warehouse = new_warehouse(name)
            runs = [warehouse.run((STREAMS / f"{f}.singer").read_bytes(), **settings) for f in files]
            return warehouse, runs
        return run

    return run_concurrently({name: job(name, *spec) for name, spec in SCENARIOS.items()})


def load(loaded, name: str):
    """The warehouse of a scenario, and its (last) run."""
    warehouse, runs = loaded[name]
    return warehouse, runs[-1]


def test_every_shipped_stream_is_covered_here():
    assert set(SINGER_FILES) == set(EXPECTED_ERRORS) | LOADED


# Where singer-sdk's target tests expect an error, and the line and field ours names.
EXPECTED_ERRORS = {
    "invalid_schema": (r"line 1, stream 'test_invalid_schema', field 'properties'", "no properties"),
    "record_before_schema": (r"line 1, stream 'test_record_before_schema'", "RECORD before"),
    "record_missing_key_property": (
        r"line 2, stream 'test_record_missing_key_property', field 'id'", "missing key property 'id'"
    ),
    # The SDK's test template expects no error here, but its sinks reject the record by
    # default (fail_on_record_validation_exception); a required column cannot hold null.
    "record_missing_required_property": (
        r"line 2, stream 'test_record_missing_required_property', field 'id'", "missing required field 'id'"
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_bad_streams_fail_clearly(loaded, name):
    _, run = load(loaded, name)
    where, problem = EXPECTED_ERRORS[name]
    assert run.returncode == 1
    assert re.search(where, run.stderr), run.stderr
    assert problem in run.stderr
    assert run.states == []


def test_array_data(loaded):
    warehouse, run = load(loaded, "array_data")
    assert run.states == [{"test_array_data": 4}]
    assert warehouse.rows("test_array_data", "id") == [
        {"id": 1, "fruits": ["apple", "orange", "pear"]},
        {"id": 2, "fruits": ["banana", "apple"]},
        {"id": 3, "fruits": ["pear"]},
        {"id": 4, "fruits": ["orange", "banana", "apple", "pear"]},
    ]


def test_camelcase_keeps_column_case_and_folds_the_table_name(loaded):
    warehouse, run = load(loaded, "camelcase")
    assert run.returncode == 0
    assert warehouse.rows("testcamelcase", "Id") == [
        {"Id": "1", "clientName": "Gitter Windows Desktop App"},
        {"Id": "2", "clientName": "Gitter iOS App"},
    ]


def test_camelcase_complex_schema_evolves_with_the_second_schema(loaded):
    warehouse, run = load(loaded, "camelcase_complex_schema")
    assert run.returncode == 0
    table = warehouse.table("forecastingtypetocategory")
    assert table.num_rows == 0
    assert table.column_names[-3:] == ["age", "NewCamelCasedAttribute", "_attribute_startswith_underscore"]
    iceberg = embedded_catalog(warehouse.root).load_table(("default", "forecastingtypetocategory"))
    assert str(iceberg.schema().find_field("CreatedDate").field_type) == "string"  # a union: JSON text
    assert iceberg.schema().identifier_field_names() == {"Id"}


def test_duplicate_records_are_all_appended(loaded):
    warehouse, run = load(loaded, "duplicate_records")
    assert run.states == [{"test_duplicate_records": 2}]
    assert [(r["id"], r["metric"]) for r in warehouse.rows("test_duplicate_records")] == [
        (1, 1), (2, 2), (1, 10), (2, 20), (1, 100)
    ]


def test_encoded_strings_survive(loaded):
    warehouse, run = load(loaded, "encoded_string_data")
    assert run.returncode == 0
    strings = {r["id"]: r["info"] for r in warehouse.rows("test_strings")}
    assert strings[2] == "απλή συμβολοσειρά"
    assert strings[3] == "简单的字串"
    assert strings[6] == 'various " \\ / \n escape sequences'
    assert strings[10] == "Double quoting: \\u0000 \\u0041 \\u0001"
    assert strings[11] == "Control Characters in string: \x00 A \x01"
    objects = {r["id"]: r["info"] for r in warehouse.rows("test_strings_in_objects")}
    assert objects[3] == {"name": "chinese", "value": "简单的字串"}
    assert len(objects) == 11
    arrays = {r["id"]: r["strings"] for r in warehouse.rows("test_strings_in_arrays")}
    assert arrays[4] == ["m", "ā", "ƙ"]
    assert len(arrays) == 6


def test_multiple_state_messages_emits_the_last_covered_state(loaded):
    warehouse, run = load(loaded, "multiple_state_messages")
    assert run.states == [{"test_multiple_state_messages_a": 5, "test_multiple_state_messages_b": 6}]
    assert [r["id"] for r in warehouse.rows("test_multiple_state_messages_a", "id")] == [1, 2, 3, 4, 5, 6]
    assert [r["metric"] for r in warehouse.rows("test_multiple_state_messages_b", "id")] == [
        110, 220, 330, 440, 550, 660
    ]


def test_multiple_state_messages_with_small_batches_emits_each_covered_state(loaded):
    warehouse, run = load(loaded, "multiple_state_messages_small_batches")
    assert run.states == [
        {"test_multiple_state_messages_a": 1, "test_multiple_state_messages_b": 0},
        {"test_multiple_state_messages_a": 2, "test_multiple_state_messages_b": 1},
        {"test_multiple_state_messages_a": 3, "test_multiple_state_messages_b": 2},
        {"test_multiple_state_messages_a": 5, "test_multiple_state_messages_b": 3},
        {"test_multiple_state_messages_a": 5, "test_multiple_state_messages_b": 6},
    ]
    assert warehouse.table("test_multiple_state_messages_a").num_rows == 6


def test_no_primary_keys_then_append(loaded):
    warehouse, (first, second) = loaded["no_primary_keys"]
    assert first.states == [{"test_no_pk": 3}]
    assert second.states == [{"test_no_pk": 5}]
    assert sorted(r["metric"] for r in warehouse.rows("test_no_pk")) == [11, 22, 33, 101, 202, 303, 404, 505]


def test_optional_attributes_and_missing_fields_are_null(loaded):
    warehouse, run = load(loaded, "optional_attributes")
    assert run.returncode == 0
    assert warehouse.rows("test_optional_attributes", "id") == [
        {"id": 1, "optional": "This is optional"},
        {"id": 2, "optional": None},
        {"id": 3, "optional": "Also optional"},
        {"id": 4, "optional": None},
    ]
    warehouse, run = load(loaded, "record_missing_fields")
    assert run.states == [{}]
    assert warehouse.rows("record_missing_fields", "id") == [
        {"id": 1, "optional": "now you see me"},
        {"id": 2, "optional": None},
    ]


def test_pk_updates_loads_both_records(loaded):
    warehouse, run = load(loaded, "pk_updates")
    assert run.returncode == 0
    assert warehouse.rows("example_stream", "id") == [
        {"id": 1, "name": "Alice", "email": "alice@example.com"},
        {"id": 2, "name": "Bob", "email": "bob@example.com"},
    ]


def test_schema_without_properties_stores_json_text(loaded):
    warehouse, run = load(loaded, "schema_no_properties")
    assert run.returncode == 0
    assert warehouse.rows("test_object_schema_with_properties") == [
        {"object_store": {"id": 1, "metric": 187}},
        {"object_store": {"id": 2, "metric": 203}},
    ]
    assert warehouse.rows("test_object_schema_no_properties") == [
        {"object_store": '{"id":1,"metric":1}'},
        {"object_store": '{"id":2,"metric":2}'},
    ]


def test_schema_updates_add_columns_and_keep_old_rows(loaded):
    warehouse, run = load(loaded, "schema_updates")
    assert run.states == [{"test_schema_updates": 6}]
    rows = warehouse.rows("test_schema_updates", "id")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0] == {"id": 1, "a1": 101.0, "a2": "string1", "a3": None, "a4": None, "a5": None, "a6": None}
    assert rows[5] == {
        "id": 6, "a1": 106.0, "a2": "string6", "a3": True, "a4": {"id": 4, "value": 444},
        "a5": ["banana", "orange"], "a6": 341,
    }


def test_special_characters_in_stream_and_attribute_names(loaded):
    warehouse, run = load(loaded, "special_chars_in_attributes")
    assert run.returncode == 0
    assert warehouse.rows("test_specialchars_in_attributes") == [
        {"_id": "a2e98886", "d": {"env": "prod", "agent:type": "desktop", "agent:os:version": "10.13.1"},
         "_sdc_table_version": 1541199424491}  # the RECORD's version, kept for ACTIVATE_VERSION
    ]


def test_user_location_then_upsert_data_appends(loaded):
    warehouse, (first, second) = loaded["user_location_data"]
    assert first.states == [{"test_users": 5, "test_locations": 3, "test_user_in_location": 3}]
    assert second.states == [{"test_users": 13, "test_locations": 8, "test_user_in_location": 14}]
    assert warehouse.table("test_users").num_rows == 11
    assert warehouse.table("test_locations").num_rows == 7
    located = sorted((r["id"], r["location_id"], r["info"]["mood"]) for r in warehouse.rows("test_user_in_location"))
    assert located == [
        (1, 1, "sad"), (1, 4, "sad"), (2, 2, "satisfied"), (2, 3, "satisfied"), (3, 3, "happy"),
        (6, 2, "happy"), (14, 1, "ok"),
    ]


LOADED = {
    "array_data", "camelcase", "camelcase_complex_schema", "duplicate_records", "encoded_string_data",
    "multiple_state_messages", "no_primary_keys", "no_primary_keys_append", "optional_attributes",
    "pk_updates", "record_missing_fields", "schema_no_properties", "schema_updates",
    "special_chars_in_attributes", "user_location_data", "user_location_upsert_data",
}
