"""Airbyte catalogs <-> Singer catalogs.

Discovery turns each AirbyteStream into a Singer catalog entry and keeps what the connector
needs later (name, namespace, sync modes, cursor and key paths) in the entry's metadata, so a
sync builds the ConfiguredAirbyteCatalog from the Singer catalog alone, with no second discover.
"""

from __future__ import annotations

from typing import Any

from dativo_core.airbyte.errors import ConnectorError
from dativo_core.singer.catalog import Catalog, CatalogEntry, standard_metadata

META_NAME = "airbyte-stream-name"
META_NAMESPACE = "airbyte-namespace"
META_SYNC_MODES = "airbyte-supported-sync-modes"
META_SOURCE_DEFINED_CURSOR = "airbyte-source-defined-cursor"
META_DEFAULT_CURSOR = "airbyte-default-cursor-field"
META_PRIMARY_KEY = "airbyte-source-defined-primary-key"
META_IS_RESUMABLE = "airbyte-is-resumable"


def singer_stream_id(name: str, namespace: str | None) -> str:
    """Singer has no namespaces: `namespace-name`, as Singer database taps name their streams."""
    return f"{namespace}-{name}" if namespace else name


def _top_level(paths: list[list[str]] | None) -> list[str]:
    """Singer keys are top-level properties; nested Airbyte key paths have no Singer equal."""
    return [path[0] for path in paths or [] if len(path) == 1]


def to_singer_entry(stream: dict[str, Any]) -> CatalogEntry:
    name = stream["name"]
    namespace = stream.get("namespace")
    schema = stream.get("json_schema") or {"type": "object", "properties": {}}
    keys = _top_level(stream.get("source_defined_primary_key"))
    modes = list(stream.get("supported_sync_modes") or ["full_refresh"])
    cursor = stream.get("default_cursor_field") or []
    replication_keys = [cursor[0]] if len(cursor) == 1 and "incremental" in modes else []
    metadata = standard_metadata(
        schema,
        keys,
        replication_method=None if len(modes) > 1 else _singer_method(modes[0]),
        valid_replication_keys=replication_keys or None,
    )
    metadata[0]["metadata"].update(
        {
            META_NAME: name,
            META_NAMESPACE: namespace,
            META_SYNC_MODES: modes,
            META_SOURCE_DEFINED_CURSOR: bool(stream.get("source_defined_cursor")),
            META_DEFAULT_CURSOR: cursor,
            META_PRIMARY_KEY: stream.get("source_defined_primary_key") or [],
            META_IS_RESUMABLE: stream.get("is_resumable"),
        }
    )
    return CatalogEntry(
        tap_stream_id=singer_stream_id(name, namespace),
        stream=singer_stream_id(name, namespace),
        schema=schema,
        key_properties=keys,
        metadata=metadata,
        replication_key=replication_keys[0] if replication_keys else None,
    )


def to_singer_catalog(airbyte_catalog: dict[str, Any]) -> Catalog:
    return Catalog([to_singer_entry(stream) for stream in airbyte_catalog.get("streams", [])])


def _singer_method(sync_mode: str) -> str:
    return "INCREMENTAL" if sync_mode == "incremental" else "FULL_TABLE"


def _airbyte_stream(entry: CatalogEntry) -> dict[str, Any]:
    meta = entry.metadata_for(())
    if META_NAME not in meta:
        raise ConnectorError(
            f"catalog stream {entry.tap_stream_id!r} has no '{META_NAME}' metadata; "
            "use a catalog written by tap-airbyte --discover",
            failure_type="config_error",
        )
    stream: dict[str, Any] = {
        "name": meta[META_NAME],
        "json_schema": entry.selected_schema(),
        "supported_sync_modes": meta.get(META_SYNC_MODES) or ["full_refresh"],
        "source_defined_cursor": bool(meta.get(META_SOURCE_DEFINED_CURSOR)),
        "default_cursor_field": meta.get(META_DEFAULT_CURSOR) or [],
        "source_defined_primary_key": meta.get(META_PRIMARY_KEY) or [],
    }
    if meta.get(META_NAMESPACE):
        stream["namespace"] = meta[META_NAMESPACE]
    if meta.get(META_IS_RESUMABLE) is not None:
        stream["is_resumable"] = meta[META_IS_RESUMABLE]
    return stream


def to_configured_stream(entry: CatalogEntry) -> dict[str, Any]:
    """One selected Singer stream as a ConfiguredAirbyteStream.

    INCREMENTAL becomes `incremental` with the replication key as cursor (the connector's own
    cursor when it defines one) and `append_dedup` when there is a key; FULL_TABLE becomes
    `full_refresh` + `overwrite`.
    """
    stream = _airbyte_stream(entry)
    modes = stream["supported_sync_modes"]
    method = entry.effective_replication_method
    if method == "INCREMENTAL" and "incremental" not in modes:
        raise ConnectorError(
            f"stream {entry.tap_stream_id!r} does not support incremental sync "
            f"(supported: {', '.join(modes)}); set its replication-method to FULL_TABLE",
            failure_type="config_error",
        )
    primary_key = [[key] for key in entry.key_properties] or stream["source_defined_primary_key"]
    configured: dict[str, Any] = {"stream": stream, "primary_key": primary_key}
    if method == "INCREMENTAL":
        if stream["source_defined_cursor"]:
            cursor = stream["default_cursor_field"]
        elif entry.effective_replication_key:
            cursor = [entry.effective_replication_key]
        else:
            raise ConnectorError(
                f"stream {entry.tap_stream_id!r} needs a replication-key for incremental sync",
                failure_type="config_error",
            )
        configured.update(
            sync_mode="incremental",
            cursor_field=cursor,
            destination_sync_mode="append_dedup" if primary_key else "append",
        )
    else:
        configured.update(sync_mode="full_refresh", destination_sync_mode="overwrite")
    return configured


def to_configured_catalog(catalog: Catalog) -> dict[str, Any]:
    """The ConfiguredAirbyteCatalog of the catalog's selected streams."""
    selected = catalog.selected_streams()
    if not selected:
        raise ConnectorError(
            "no stream is selected in the catalog; mark streams with metadata selected: true",
            failure_type="config_error",
        )
    return {"streams": [to_configured_stream(entry) for entry in selected]}


def select_streams(catalog: Catalog, names: list[str] | None) -> Catalog:
    """Mark the named streams selected (all when `names` is None), and no others."""
    known = {entry.tap_stream_id for entry in catalog.streams}
    missing = sorted(set(names or []) - known)
    if missing:
        raise ConnectorError(
            f"stream(s) {', '.join(missing)} not in the connector's catalog; "
            f"it has: {', '.join(sorted(known))}",
            failure_type="config_error",
        )
    for entry in catalog.streams:
        entry.set_metadata((), selected=names is None or entry.tap_stream_id in names)
    return catalog
