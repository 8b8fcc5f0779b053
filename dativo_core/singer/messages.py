"""Singer messages: SCHEMA, RECORD, STATE, ACTIVATE_VERSION and singer-sdk's BATCH."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import orjson

from dativo_core.singer.errors import SingerProtocolError


@dataclass(frozen=True, slots=True)
class SchemaMessage:
    stream: str
    schema: dict[str, Any]
    key_properties: list[str] = field(default_factory=list)
    bookmark_properties: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "SCHEMA",
            "stream": self.stream,
            "schema": self.schema,
            "key_properties": self.key_properties,
        }
        if self.bookmark_properties:
            out["bookmark_properties"] = self.bookmark_properties
        return out


@dataclass(frozen=True, slots=True)
class RecordMessage:
    stream: str
    record: dict[str, Any]
    version: int | None = None
    time_extracted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "RECORD", "stream": self.stream, "record": self.record}
        if self.version is not None:
            out["version"] = self.version
        if self.time_extracted is not None:
            out["time_extracted"] = self.time_extracted
        return out


@dataclass(frozen=True, slots=True)
class StateMessage:
    value: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "STATE", "value": self.value}


@dataclass(frozen=True, slots=True)
class ActivateVersionMessage:
    stream: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ACTIVATE_VERSION", "stream": self.stream, "version": self.version}


@dataclass(frozen=True, slots=True)
class BatchMessage:
    """singer-sdk's BATCH: files of records described by an encoding and a manifest of URLs."""

    stream: str
    encoding: dict[str, Any]
    manifest: list[str]

    @property
    def format(self) -> str:
        return str(self.encoding.get("format", "jsonl"))

    @property
    def compression(self) -> str:
        return str(self.encoding.get("compression") or "none")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "BATCH",
            "stream": self.stream,
            "encoding": self.encoding,
            "manifest": self.manifest,
        }


Message = Union[SchemaMessage, RecordMessage, StateMessage, ActivateVersionMessage, BatchMessage]


def _stream_of(obj: dict[str, Any]) -> str | None:
    """The message's stream name for an error, when it has a usable one."""
    stream = obj.get("stream")
    return stream if isinstance(stream, str) else None


def _require(
    obj: dict[str, Any], key: str, kind: type, line: int | None, optional: bool = False
) -> Any:
    value = obj.get(key)
    if optional and value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise SingerProtocolError(
            f"{obj.get('type')} message needs '{key}' as {kind.__name__}, got {value!r}",
            line=line,
            stream=_stream_of(obj),
        )
    return value


def message_from_dict(obj: Any, line: int | None = None) -> Message:
    """Build a typed message from a decoded JSON object, or say what is missing and where."""
    if not isinstance(obj, dict):
        raise SingerProtocolError(f"expected a JSON object, got {type(obj).__name__}", line=line)
    kind = obj.get("type")
    if kind == "RECORD":
        return RecordMessage(
            stream=_require(obj, "stream", str, line),
            record=_require(obj, "record", dict, line),
            version=_require(obj, "version", int, line, optional=True),
            time_extracted=_require(obj, "time_extracted", str, line, optional=True),
        )
    if kind == "SCHEMA":
        keys = obj.get("key_properties") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise SingerProtocolError(
                f"key_properties must be a list of strings, got {keys!r}",
                line=line,
                stream=_stream_of(obj),
            )
        return SchemaMessage(
            stream=_require(obj, "stream", str, line),
            schema=_require(obj, "schema", dict, line),
            key_properties=keys,
            bookmark_properties=obj.get("bookmark_properties"),
        )
    if kind == "STATE":
        return StateMessage(value=_require(obj, "value", dict, line))
    if kind == "ACTIVATE_VERSION":
        return ActivateVersionMessage(
            stream=_require(obj, "stream", str, line), version=_require(obj, "version", int, line)
        )
    if kind == "BATCH":
        return BatchMessage(
            stream=_require(obj, "stream", str, line),
            encoding=_require(obj, "encoding", dict, line),
            manifest=_require(obj, "manifest", list, line),
        )
    raise SingerProtocolError(
        f"unknown message type {kind!r}",
        line=line,
        hint="Expected one of SCHEMA, RECORD, STATE, ACTIVATE_VERSION, BATCH",
    )


def message_to_bytes(message: Message) -> bytes:
    """One JSON line, newline included."""
    return orjson.dumps(message.to_dict(), option=orjson.OPT_APPEND_NEWLINE)
