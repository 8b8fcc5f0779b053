"""A contract test plugin authors run against their Reader class, e.g. in a pytest test:

    from dativo_core.sdk.testing import check_reader

    def test_my_reader_keeps_the_contract():
        report = check_reader(MyReader, {"path": "sample.csv"})
        assert report.records["orders"] > 0

It really runs the reader (setup, check, discover, read, teardown) and checks what a tap relies
on: valid JSON Schemas, keys that exist, records that match their schema once serialized,
batches only when declared, bookmarks that are JSON and that a second run accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import jsonschema
import orjson

from dativo_core.sdk.reader import (
    Bookmark,
    Capabilities,
    JsonLines,
    Reader,
    RecordLines,
    Stream,
)


class ContractError(AssertionError):
    """The reader breaks the SDK contract; `problems` says how, one line each."""

    def __init__(self, reader_class: type, problems: list[str]) -> None:
        self.problems = problems
        name = getattr(reader_class, "__qualname__", repr(reader_class))
        super().__init__(
            f"{name} breaks the reader contract:\n- " + "\n- ".join(problems)
        )


@dataclass
class ContractReport:
    """What the check saw: the discovered streams and how many records each yielded."""

    streams: list[Stream] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    bookmarks: dict[str, dict[str, Any]] = field(default_factory=dict)


def _schema_problems(where: str, schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return [
            f"{where} must be a dict holding a JSON Schema, got {type(schema).__name__}"
        ]
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        return [f"{where} is not a valid JSON Schema at {path}: {exc.message}"]
    if schema.get("type") not in ("object", ["object"]) and "properties" not in schema:
        return [f"{where} must describe an object (type: object with properties)"]
    return []


def _stream_problems(stream: Any, caps: Capabilities) -> list[str]:
    if not isinstance(stream, Stream):
        return [f"discover() must return Stream objects, got {type(stream).__name__}"]
    where = f"stream {stream.name!r}"
    problems = _schema_problems(f"{where} schema", stream.schema)
    if problems:
        return problems
    properties = stream.schema.get("properties", {})
    for key in stream.key_properties:
        if key not in properties:
            problems.append(
                f"{where}: key property {key!r} is not in its schema's properties"
            )
    if stream.replication_key is not None:
        if stream.replication_key not in properties:
            problems.append(
                f"{where}: replication key {stream.replication_key!r} is not in its schema"
            )
        if not caps.incremental:
            problems.append(
                f"{where} has a replication key but the reader does not declare "
                "Capabilities(incremental=True)"
            )
    return problems


def _rows(item: Any) -> list[Any]:
    if isinstance(item, dict):
        return [item]
    if isinstance(item, JsonLines):
        return [orjson.loads(line) for line in bytes(item.data).splitlines()]
    if isinstance(item, RecordLines):
        return [orjson.loads(line)["record"] for line in bytes(item.data).splitlines()]
    return list(item.to_pylist())


def _record_lines_problem(where: str, stream: Stream, item: RecordLines) -> str | None:
    """What is wrong with RecordLines' envelopes or keys, which the tap will not check."""
    properties = list(stream.schema.get("properties", {}))
    for number, line in enumerate(bytes(item.data).splitlines(), start=1):
        message = orjson.loads(line)
        if message.get("type") != "RECORD" or message.get("stream") != stream.name:
            return f"{where}: RecordLines line {number} is not a RECORD of this stream: {line[:80]!r}"
        if list(message["record"]) != properties:
            return (
                f"{where}: RecordLines line {number} holds properties {list(message['record'])}, "
                f"not the stream's selected {properties}"
            )
    return None


def _is_record_batch(item: Any) -> bool:
    return type(item).__name__ == "RecordBatch" and hasattr(item, "to_pylist")


def _read_problems(
    reader: Reader,
    stream: Stream,
    state: dict[str, Any],
    max_records: int,
    report: ContractReport,
) -> list[str]:
    where = f"stream {stream.name!r}"
    caps = type(reader).capabilities
    validator_class = jsonschema.validators.validator_for(stream.schema)
    validator = validator_class(
        stream.schema, format_checker=validator_class.FORMAT_CHECKER
    )
    properties = set(stream.schema.get("properties", {}))
    problems: list[str] = []
    count = 0
    for item in islice(reader.read(stream, state), max_records):
        if isinstance(item, Bookmark):
            try:
                value = orjson.loads(orjson.dumps(item.value))
            except TypeError as exc:
                problems.append(
                    f"{where}: Bookmark value is not JSON-serializable: {exc}"
                )
                continue
            if not isinstance(value, dict):
                problems.append(
                    f"{where}: Bookmark value must be a dict, got {item.value!r}"
                )
            else:
                report.bookmarks[stream.name] = value
            continue
        is_batch = _is_record_batch(item) or isinstance(item, (JsonLines, RecordLines))
        if is_batch and not caps.batch_output:
            problems.append(
                f"{where}: read() yielded a {type(item).__name__} but the reader does not "
                "declare Capabilities(batch_output=True)"
            )
            continue
        if not isinstance(item, dict) and not is_batch:
            problems.append(
                f"{where}: read() must yield dicts, RecordBatches, JsonLines, RecordLines or "
                "Bookmarks, "
                f"got {type(item).__name__}"
            )
            continue
        lines_item = isinstance(item, (JsonLines, RecordLines))
        lines = bytes(item.data).count(b"\n") if lines_item else None
        if lines is not None and lines != item.count:
            problems.append(
                f"{where}: {type(item).__name__} says {item.count} records but holds {lines} lines"
            )
            continue
        if isinstance(item, RecordLines):
            problem = _record_lines_problem(where, stream, item)
            if problem:
                problems.append(problem)
                continue
        for row in _rows(item):
            count += 1
            try:
                record = orjson.loads(orjson.dumps(row))
            except TypeError as exc:
                problems.append(
                    f"{where}: record {count} cannot be serialized to JSON: {exc}"
                )
                continue
            extra = set(record) - properties
            if extra:
                problems.append(
                    f"{where}: record {count} has fields not in the schema: {sorted(extra)}"
                )
            for error in validator.iter_errors(record):
                field_path = "/".join(str(p) for p in error.path) or "(record)"
                problems.append(
                    f"{where}: record {count}, field {field_path}: {error.message}"
                )
            if len(problems) > 20:
                return problems
    report.records[stream.name] = count
    return problems


def class_problems(reader_class: Any) -> list[str]:
    """What is wrong with the class itself, checked without running it: a Reader subclass,
    Capabilities, and a valid JSON Schema from spec()."""
    if not (isinstance(reader_class, type) and issubclass(reader_class, Reader)):
        return ["is not a subclass of dativo_core.sdk.Reader"]
    if not isinstance(reader_class.capabilities, Capabilities):
        return ["capabilities must be a Capabilities instance"]
    return _schema_problems("spec()", reader_class.spec())


def check_reader(
    reader_class: type[Reader], config: Mapping[str, Any], *, max_records: int = 1000
) -> ContractReport:
    """Run the reader with `config` and raise ContractError listing every broken rule."""
    problems = class_problems(reader_class)
    if problems:
        raise ContractError(reader_class, problems)
    caps = reader_class.capabilities
    spec = reader_class.spec()
    config_errors = sorted(
        jsonschema.validators.validator_for(spec)(spec).iter_errors(dict(config)),
        key=str,
    )
    if config_errors:
        raise ContractError(
            reader_class,
            [
                f"the test config does not satisfy spec(): {e.message}"
                for e in config_errors
            ],
        )
    report = ContractReport()
    reader = reader_class(config)
    reader.setup()
    try:
        reader.check()
        streams = reader.discover()
        if not isinstance(streams, list) or not streams:
            raise ContractError(
                reader_class, ["discover() must return a non-empty list of Streams"]
            )
        names = [getattr(s, "name", None) for s in streams]
        if len(set(names)) != len(names):
            problems.append(f"discover() returned duplicate stream names: {names}")
        for stream in streams:
            problems.extend(_stream_problems(stream, caps))
        if problems:
            raise ContractError(reader_class, problems)
        report.streams = streams
        for stream in streams:
            problems.extend(_read_problems(reader, stream, {}, max_records, report))
            if stream.name in report.bookmarks:
                resumed = report.bookmarks[stream.name]
                problems.extend(
                    _read_problems(
                        reader, stream, resumed, max_records, ContractReport()
                    )
                )
    finally:
        reader.teardown()
    if problems:
        raise ContractError(reader_class, problems)
    return report
