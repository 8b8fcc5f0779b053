"""The main loop in-process: grouping, flush policy, snapshot summaries, table naming."""

from __future__ import annotations

import io
import json

import orjson
import pytest

from dativo_core.singer import SingerProtocolError, SingerWriter
from dativo_target_iceberg.catalog import embedded_catalog, open_catalog, table_name_for_stream
from dativo_target_iceberg.config import TargetConfig
from dativo_target_iceberg.loader import Loader
from dativo_target_iceberg.table_writer import ROWS_AFTER_STATE_PROPERTY, STATE_PROPERTY, STREAM_PROPERTY


def schema(stream: str, **extra) -> dict:
    props = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
    return {"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
            "schema": {"type": "object", "properties": props}, **extra}


def rec(stream: str, i: int) -> dict:
    return {"type": "RECORD", "stream": stream, "record": {"id": i, "name": f"n{i}"}}


def state(**value) -> dict:
    return {"type": "STATE", "value": value}


def run(tmp_path, messages, **settings):
    config = TargetConfig.from_dict({"warehouse": str(tmp_path / "wh"), **settings})
    out = io.BytesIO()
    catalog = open_catalog(config)
    data = b"".join(m if isinstance(m, bytes) else orjson.dumps(m) + b"\n" for m in messages)
    summary = Loader(config, catalog, SingerWriter(out)).run(io.BytesIO(data))
    states = [json.loads(line) for line in out.getvalue().splitlines()]
    return catalog, summary, states


def test_commit_records_the_state_it_reaches_in_the_snapshot_summary(tmp_path):
    catalog, summary, states = run(tmp_path, [schema("a"), rec("a", 1), rec("a", 2), state(pos=2), rec("a", 3)])
    assert states == [{"pos": 2}]
    table = catalog.load_table(("default", "a"))
    summary_props = table.current_snapshot().summary.additional_properties
    assert json.loads(summary_props[STATE_PROPERTY]) == {"pos": 2}
    assert summary_props[STREAM_PROPERTY] == "a"
    assert summary_props[ROWS_AFTER_STATE_PROPERTY] == "1"
    assert table.scan().to_arrow().column("id").to_pylist() == [1, 2, 3]


def test_interleaved_streams_and_message_spellings_land_in_order(tmp_path):
    spaced = b'{"type": "RECORD", "stream": "b", "record": {"id": 20, "name": "spaced"}}\n'
    reordered = b'{"record": {"id": 21}, "stream": "b", "type": "RECORD"}\n'
    messages = [schema("a"), schema("b"), rec("a", 1), spaced, rec("a", 2), b"\n", reordered, state(s=1), rec("b", 22)]
    catalog, summary, states = run(tmp_path, messages)
    assert summary.rows == {"a": 2, "b": 3}
    assert states == [{"s": 1}]
    b_rows = catalog.load_table(("default", "b")).scan().to_arrow().to_pylist()
    assert b_rows == [{"id": 20, "name": "spaced"}, {"id": 21, "name": None}, {"id": 22, "name": "n22"}]


@pytest.mark.parametrize(
    "limit", [{"max_batch_rows": 100}, {"max_batch_bytes": 1}, {"max_batch_age_seconds": 1e-9}]
)
def test_flush_limits_bound_what_is_buffered(tmp_path, limit):
    messages = [schema("a")]
    for block in range(5):
        messages += [rec("a", block * 100 + i) for i in range(100)] + [state(block=block)]
    catalog, summary, states = run(tmp_path, messages, **limit)
    assert summary.commits == 5
    assert states == [{"block": b} for b in range(5)]
    table = catalog.load_table(("default", "a"))
    assert len(table.snapshots()) == 5
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == list(range(500))


def test_a_repeated_identical_schema_does_not_flush(tmp_path):
    catalog, summary, _ = run(tmp_path, [schema("a"), rec("a", 1), schema("a"), rec("a", 2)])
    assert summary.commits == 1


def test_an_incompatible_schema_change_fails_after_committing_the_old_records(tmp_path):
    changed = schema("a")
    changed["schema"]["properties"]["name"] = {"type": "integer"}
    with pytest.raises(SingerProtocolError, match="incompatible") as error:
        run(tmp_path, [schema("a"), rec("a", 1), state(x=1), changed])
    assert (error.value.line, error.value.stream) == (4, "a")
    table = embedded_catalog(tmp_path / "wh").load_table(("default", "a"))
    assert table.scan().to_arrow().column("id").to_pylist() == [1]


def test_table_names_are_portable_and_can_be_chosen(tmp_path):
    assert table_name_for_stream("public.Users") == "public_users"
    assert table_name_for_stream("public-users") == "public_users"
    assert table_name_for_stream("2024 sales") == "_2024_sales"
    catalog, _, _ = run(
        tmp_path, [schema("public-users"), rec("public-users", 1)],
        namespace="raw", streams={"public-users": {"table": "users"}},
    )
    assert catalog.load_table(("raw", "users")).scan().to_arrow().num_rows == 1


def test_two_streams_on_one_table_are_refused(tmp_path):
    with pytest.raises(SingerProtocolError, match="both map to table default.public_users"):
        run(tmp_path, [schema("public.users"), schema("public-users")])


def test_embedded_catalog_is_sqlite_under_the_warehouse(tmp_path):
    run(tmp_path, [schema("a"), rec("a", 1)])
    assert (tmp_path / "wh" / "catalog.db").is_file()
    location = embedded_catalog(tmp_path / "wh").load_table(("default", "a")).location()
    assert location.startswith((tmp_path / "wh").resolve().as_uri())


def test_any_pyiceberg_catalog_through_properties(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    settings = {"catalog": {"name": "mine", "type": "sql", "uri": f"sqlite:///{other / 'c.db'}",
                            "warehouse": other.as_uri()}}
    config = TargetConfig.from_dict(settings)
    out = io.BytesIO()
    data = orjson.dumps(schema("a")) + b"\n" + orjson.dumps(rec("a", 7)) + b"\n"
    Loader(config, open_catalog(config), SingerWriter(out)).run(io.BytesIO(data))
    catalog = open_catalog(config)
    assert catalog.name == "mine"
    assert catalog.load_table(("default", "a")).scan().to_arrow().column("id").to_pylist() == [7]


def test_partitioning_and_table_properties_from_config(tmp_path):
    stream = {
        "type": "SCHEMA", "stream": "events", "key_properties": ["id"],
        "schema": {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string"}, "code": {"type": "string"},
        }},
    }
    records = [
        {"type": "RECORD", "stream": "events",
         "record": {"id": i, "at": f"2024-05-0{1 + i % 3}T10:00:00Z", "kind": "ab"[i % 2], "code": f"c{i}"}}
        for i in range(12)
    ]
    settings = {
        "table_properties": {"write.target-file-size-bytes": "134217728"},
        "streams": {"events": {
            "partition_by": [{"column": "at", "transform": "day"}, {"column": "kind"},
                             {"column": "id", "transform": "bucket[4]"}, {"column": "code", "transform": "truncate[1]"}],
            "table_properties": {"commit.retry.num-retries": "10"},
        }},
    }
    catalog, summary, _ = run(tmp_path, [stream, *records], **settings)
    table = catalog.load_table(("default", "events"))
    assert [str(f.transform) for f in table.spec().fields] == ["day", "identity", "bucket[4]", "truncate[1]"]
    assert table.properties["write.target-file-size-bytes"] == "134217728"
    assert table.properties["commit.retry.num-retries"] == "10"
    assert len(list(table.scan().plan_files())) > 1
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == list(range(12))
    day_two = table.scan(row_filter="at >= '2024-05-02T00:00:00+00:00' and at < '2024-05-03T00:00:00+00:00'")
    assert sorted(day_two.to_arrow().column("id").to_pylist()) == [1, 4, 7, 10]


def test_changed_key_properties_become_the_identifier_fields(tmp_path):
    first = schema("a")
    second = schema("a", key_properties=["id", "name"])
    second["schema"]["required"] = ["name"]
    catalog, summary, _ = run(tmp_path, [first, rec("a", 1), second, rec("a", 2)])
    table = catalog.load_table(("default", "a"))
    # `name` was optional in the table, so Iceberg keeps `id` alone as the identifier.
    assert table.schema().identifier_field_names() == {"id"}
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == [1, 2]
    catalog, _, _ = run(tmp_path, [schema("a", key_properties=[]), rec("a", 3)])
    assert catalog.load_table(("default", "a")).schema().identifier_field_names() == set()


def test_a_changed_type_can_go_to_a_new_column_beside_the_old(tmp_path):
    changed = schema("a")
    changed["schema"]["properties"]["name"] = {"type": ["integer", "null"]}
    messages = [schema("a"), rec("a", 1), changed,
                {"type": "RECORD", "stream": "a", "record": {"id": 2, "name": 42}}, changed,
                {"type": "RECORD", "stream": "a", "record": {"id": 3, "name": 43}}]
    catalog, summary, _ = run(tmp_path, messages, keep_changed_types=True)
    assert summary.commits == 2  # the repeated SCHEMA changed nothing
    table = catalog.load_table(("default", "a"))
    rows = table.scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [
        {"id": 1, "name": "n1", "name__long": None},
        {"id": 2, "name": None, "name__long": 42},
        {"id": 3, "name": None, "name__long": 43},
    ]
    # The next run finds the column again.
    catalog, _, _ = run(tmp_path, [changed, {"type": "RECORD", "stream": "a", "record": {"id": 4, "name": 44}}],
                        keep_changed_types=True)
    last = catalog.load_table(("default", "a")).scan().to_arrow().sort_by("id").to_pylist()[-1]
    assert last == {"id": 4, "name": None, "name__long": 44}


def test_line_numbers_stay_true_across_blocks_of_records_and_mixed_blocks(tmp_path):
    """Blocks of only RECORDs are counted by the decoder, mixed ones line by line: an error at
    the end of several 4 MiB blocks still names its exact line."""
    messages: list = [schema("a")]
    for i in range(250_000):
        messages.append(rec("a", i))
        if i % 100_000 == 99_999:
            messages += [state(pos=i), b"\n", b"\r\n"]  # a mixed block, blank lines, a Windows line end
    messages.append(b'{"type":"RECORD","stream":"a","record":{"id":"x"}}\n')
    with pytest.raises(SingerProtocolError) as failed:
        run(tmp_path, messages, max_batch_rows=10_000_000)
    assert (failed.value.line, failed.value.stream, failed.value.field) == (len(messages), "a", "id")


def test_a_block_of_records_with_table_versions_keeps_them(tmp_path):
    versioned = [{**rec("a", i), "version": 7} for i in range(100_000)]
    catalog, summary, _ = run(tmp_path, [schema("a"), *versioned])
    table = catalog.load_table(("default", "a")).scan().to_arrow()
    assert summary.rows == {"a": 100_000}
    assert set(table.column("_sdc_table_version").to_pylist()) == {7}
