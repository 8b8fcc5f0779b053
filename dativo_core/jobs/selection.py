"""A job's choice of streams, fields and replication methods, applied to a discovered catalog.

Entries are edited in place as the tap wrote them (keys this module does not know are kept);
only their Singer selection metadata changes.
"""

from __future__ import annotations

import copy
from typing import Any

from dativo_core.jobs.errors import JobError
from dativo_core.jobs.model import ConnectorUse
from dativo_core.singer.catalog import CatalogEntry


def select(catalog: dict[str, Any], use: ConnectorUse, default_streams: list[str]) -> dict[str, Any]:
    """The catalog with the job's streams (else the recipe's, else all) selected."""
    result = copy.deepcopy(catalog)
    entries = [(raw, CatalogEntry.from_dict(raw)) for raw in result.get("streams", [])]
    names = {entry.name for _, entry in entries} | {entry.tap_stream_id for _, entry in entries}
    wanted = use.streams or default_streams or None
    for label, asked in (("streams", wanted or []), ("fields", use.fields), ("replication", use.replication)):
        unknown = sorted(set(asked) - names)
        if unknown:
            raise JobError(
                f"source {label} name streams the tap does not have: {', '.join(unknown)}; "
                f"it has: {', '.join(sorted(names)) or 'none'}"
            )
    for raw, entry in entries:
        chosen = wanted is None or entry.name in wanted or entry.tap_stream_id in wanted
        entry.set_metadata((), selected=chosen)
        fields = use.fields.get(entry.name) or use.fields.get(entry.tap_stream_id)
        if chosen and fields is not None:
            _select_fields(entry, fields)
        method = use.replication.get(entry.name) or use.replication.get(entry.tap_stream_id)
        if method:
            entry.set_metadata((), **{"replication-method": method})
        raw["metadata"] = entry.metadata
    return result


def _select_fields(entry: CatalogEntry, fields: list[str]) -> None:
    properties = entry.schema.get("properties", {})
    unknown = sorted(set(fields) - set(properties))
    if unknown:
        raise JobError(
            f"stream {entry.name!r} has no fields {', '.join(unknown)}; it has: {', '.join(properties)}"
        )
    for name in properties:
        entry.set_metadata(("properties", name), selected=name in fields)
