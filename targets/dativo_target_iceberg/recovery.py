"""The last committed state, recovered from the tables' snapshot summaries, for exactly-once.

Each commit of a stream's table records, in its snapshot summary, the latest STATE read
before it (`dativo.state`) and how many of the stream's rows it holds beyond that state
(`dativo.rows-after-state`). A commit cannot span tables, so after a crash the tables may
stand at different states. With Singer's standard per-stream `bookmarks`, each stream's
bookmark is taken from its own table: a tap resumed from that state re-sends, per stream,
exactly the rows after that table's state, and the target skips the first
`rows-after-state` of them, which it had already committed.

A contract's quarantine table (`<table>__quarantine`) is committed in the same flush just before
its stream's table, and its commit records how far into the stream it reaches: the state the
stream's table had committed then (`dativo.quarantine.covered-state`) and the stream's records
received since that state (`dativo.quarantine.covered-rows`). When a crash fell between the two
commits, the quarantine table reaches further than the stream's table; the resumed run then
sets aside, without writing them again, the bad records it had already quarantined.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from dativo_target_iceberg.table_writer import (
    COVERED_ROWS_PROPERTY,
    COVERED_STATE_PROPERTY,
    QUARANTINE_OF_PROPERTY,
    ROWS_AFTER_STATE_PROPERTY,
    STATE_PROPERTY,
    STREAM_PROPERTY,
)

log = logging.getLogger("target-iceberg")


@dataclass(frozen=True)
class TableCheckpoint:
    """Where one table's data stands: the state it reached and rows beyond it."""

    stream: str
    state: dict[str, Any] | None
    rows_after_state: int
    committed_at_ms: int
    # For a quarantine table: the stream it holds bad records of, and how far into it it reaches.
    quarantine_of: str | None = None
    covered_state: dict[str, Any] | None = None
    covered_rows: int = 0


@dataclass
class Recovery:
    state: dict[str, Any] | None
    skip_rows: dict[str, int] = field(default_factory=dict)
    # Per stream: records after the skipped ones whose bad ones are quarantined already.
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    checkpoints: dict[str, TableCheckpoint | None] = field(default_factory=dict)


def table_checkpoint(table: Table) -> TableCheckpoint | None:
    """The newest commit made by target-iceberg, or None if the table has none."""
    snapshot = table.current_snapshot()
    while snapshot is not None:
        summary = snapshot.summary.additional_properties if snapshot.summary else {}
        if STREAM_PROPERTY in summary:
            state = summary.get(STATE_PROPERTY)
            covered = summary.get(COVERED_STATE_PROPERTY)
            return TableCheckpoint(
                stream=summary[STREAM_PROPERTY],
                state=json.loads(state) if state is not None else None,
                rows_after_state=int(summary.get(ROWS_AFTER_STATE_PROPERTY, "0")),
                committed_at_ms=snapshot.timestamp_ms,
                quarantine_of=summary.get(QUARANTINE_OF_PROPERTY),
                covered_state=json.loads(covered) if covered is not None else None,
                covered_rows=int(summary.get(COVERED_ROWS_PROPERTY, "0")),
            )
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return None


def namespace_checkpoints(catalog: Catalog, namespace: str) -> dict[str, TableCheckpoint | None]:
    """Checkpoints of the namespace's tables written by target-iceberg, keyed by stream."""
    found: dict[str, TableCheckpoint | None] = {}
    if (namespace,) not in catalog.list_namespaces():
        return found
    for identifier in catalog.list_tables(namespace):
        table = catalog.load_table(identifier)
        stream = table.properties.get(STREAM_PROPERTY)
        if stream is not None:
            found[stream] = table_checkpoint(table)
    return found


def recover(checkpoints: dict[str, TableCheckpoint | None]) -> Recovery:
    quarantines = {c.quarantine_of: c for c in checkpoints.values() if c is not None and c.quarantine_of}
    streams = {s: c for s, c in checkpoints.items() if c is None or not c.quarantine_of}
    recovery = _recover_streams(streams)
    recovery.checkpoints = streams
    recovery.quarantined_rows = _quarantined_ahead(quarantines, streams, recovery)
    return recovery


def _quarantined_ahead(
    quarantines: dict[str, TableCheckpoint], streams: dict[str, TableCheckpoint | None], recovery: Recovery
) -> dict[str, int]:
    """Streams whose quarantine table reaches beyond their table's commit (a crash between the two)."""
    ahead = {}
    for stream, quarantine in quarantines.items():
        main = streams.get(stream)
        if main is not None and stream not in recovery.skip_rows:
            continue  # resumed from another table's state: positions are not comparable
        if main is None and recovery.state is not None and "bookmarks" not in recovery.state:
            continue
        main_state = main.state if main is not None else None
        main_rows = main.rows_after_state if main is not None else 0
        if quarantine.covered_state == main_state and quarantine.covered_rows > main_rows:
            ahead[stream] = quarantine.covered_rows - main_rows
    return ahead


def _recover_streams(checkpoints: dict[str, TableCheckpoint | None]) -> Recovery:
    stated = [c for c in checkpoints.values() if c is not None and c.state is not None]
    skips = {stream: c.rows_after_state for stream, c in checkpoints.items() if c is not None}
    if not stated:
        return Recovery(state=None, skip_rows=skips)
    newest = max(stated, key=lambda c: c.committed_at_ms)
    if "bookmarks" in newest.state:
        state = copy.deepcopy(newest.state)
        bookmarks = state["bookmarks"] if isinstance(state["bookmarks"], dict) else {}
        for stream, checkpoint in checkpoints.items():
            own = ((checkpoint.state or {}).get("bookmarks") or {}).get(stream) if checkpoint else None
            if own is None:
                bookmarks.pop(stream, None)
            else:
                bookmarks[stream] = own
        state["bookmarks"] = bookmarks
        return Recovery(state=state, skip_rows=skips)
    oldest = min(stated, key=lambda c: c.committed_at_ms)
    exact = {s: n for s, n in skips.items() if checkpoints[s] and checkpoints[s].state == oldest.state}
    if len(exact) < len(skips):
        log.warning(
            "tables stand at different states without per-stream `bookmarks`: resuming from the "
            "oldest, so rows of streams %s may be loaded twice",
            sorted(set(skips) - set(exact)),
        )
    return Recovery(state=copy.deepcopy(oldest.state), skip_rows=exact)


def recover_from_catalog(catalog: Catalog, namespace: str) -> Recovery:
    return recover(namespace_checkpoints(catalog, namespace))
