"""Run a Reader as a Singer tap: check, discover a catalog, sync selected streams to stdout.

A sandboxed reader writes its RECORD lines to the tap's stdout itself when stdout is a file
descriptor; otherwise (and in-process) records arrive here as encoded lines and are written as
bytes. Either way the tap writes every SCHEMA and STATE, each Bookmark becoming a STATE right
after the records it covers.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dativo_core.plugins.execution import ReaderJob, Sink, StreamRequest, run_job
from dativo_core.plugins.loading import absolute_reference, load_reader_class
from dativo_core.plugins.sandbox import (
    DEFAULT_LIMITS,
    Sandbox,
    SandboxLimits,
    file_descriptor,
)
from dativo_core.schema.fast_check import passes_quickly
from dativo_core.sdk import Stream, __api_version__
from dativo_core.singer import Catalog, CatalogEntry, SchemaMessage, SingerWriter
from dativo_core.singer.catalog import standard_metadata

if TYPE_CHECKING:
    from dativo_core.plugins.manifest import Manifest

JobRunner = Callable[[ReaderJob, Sink], None]


class ConfigError(Exception):
    """The config does not satisfy the reader's spec(); the message names the setting."""


class _SingerSink:
    """Turns a read job's output into Singer messages on `out`, flushing each SCHEMA and
    STATE so a sandboxed reader can write its records to the same output after them."""

    def __init__(
        self,
        out: BinaryIO,
        entries: dict[str, CatalogEntry],
        state: dict[str, Any],
    ) -> None:
        self.out = out
        self.writer = SingerWriter(out)
        self.entries = entries
        self.state = state

    def discovered(self, streams: list[Stream]) -> None:
        raise RuntimeError("a read job reported discovered streams")

    def start_stream(self, stream: str) -> None:
        entry = self.entries[stream]
        incremental = entry.effective_replication_method == "INCREMENTAL"
        key = entry.effective_replication_key if incremental else None
        self.writer.write(
            SchemaMessage(
                stream=entry.name,
                schema=entry.selected_schema(),
                key_properties=entry.key_properties,
                bookmark_properties=[key] if key else None,
            )
        )
        self.writer.flush()

    def records(self, data: bytes | memoryview, count: int) -> None:
        # Written at once, not buffered: `data` may be a view valid during this call only.
        self.writer.flush()
        self.out.write(data)

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        self.state.setdefault("bookmarks", {})[stream] = value
        self.writer.write_state(self.state)


class _StreamsSink:
    """Keeps what a discover job found; a check job reports nothing."""

    def __init__(self) -> None:
        self.streams: list[Stream] = []

    def discovered(self, streams: list[Stream]) -> None:
        self.streams = streams

    def start_stream(self, stream: str) -> None:
        raise RuntimeError("a check or discover job started reading a stream")

    def records(self, data: bytes, count: int) -> None:
        raise RuntimeError("a check or discover job wrote records")

    def bookmark(self, stream: str, value: dict[str, Any]) -> None:
        raise RuntimeError("a check or discover job wrote a bookmark")


def _validate_config(spec: dict[str, Any], config: dict[str, Any], name: str) -> None:
    """Refuse a config that breaks the reader's spec(), naming every wrong setting."""
    if passes_quickly(spec, config):
        return
    import jsonschema

    validator = jsonschema.validators.validator_for(spec)(spec)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            lines.append(f"{where}: {error.message}")
        raise ConfigError(
            f"config for reader {name} is invalid:\n- " + "\n- ".join(lines)
        )


def _request(entry: CatalogEntry, state: dict[str, Any]) -> StreamRequest:
    """What the reader gets for one catalog entry; a stream the catalog sets to FULL_TABLE
    is read whole, without its replication key or bookmark."""
    selected = entry.selected_properties()
    all_properties = list(entry.schema.get("properties", {}))
    incremental = entry.effective_replication_method == "INCREMENTAL"
    bookmark = state.get("bookmarks", {}).get(entry.tap_stream_id, {})
    return StreamRequest(
        stream=Stream(
            name=entry.tap_stream_id,
            schema=entry.schema,
            key_properties=tuple(entry.key_properties),
            replication_key=entry.effective_replication_key if incremental else None,
        ),
        properties=None if selected == all_properties else selected,
        state=bookmark if incremental else {},
    )


class ReaderTap:
    """One reader, its config (checked against spec() before each job), and how it runs:
    in the sandbox with its limits, or in-process."""

    def __init__(
        self,
        reader: str,
        config: dict[str, Any],
        *,
        sandbox: SandboxLimits | None = DEFAULT_LIMITS,
        plugin_dirs: Iterable[str | Path] = (),
        started: Sandbox | None = None,
    ) -> None:
        """`started`: a sandbox child spawned before this tap resolved its reader, which the
        first job then uses (`tap-reader` spawns it first thing, so the child's start-up
        overlaps the tap's); the tap closes it."""
        self._started = started
        self.manifest: Manifest | None = None
        if ":" in reader:
            self.reference = absolute_reference(reader)
        else:
            # Imported for plugin names only: manifests need YAML and jsonschema, which a tap
            # started with module:Class loads later, while its reader process starts.
            from dativo_core.plugins.registry import resolve_reader

            self.reference, self.manifest = resolve_reader(reader, plugin_dirs)
        self.reader_class = load_reader_class(self.reference)
        self.config = config
        self.sandbox = sandbox

    @property
    def display_name(self) -> str:
        return self.manifest.name if self.manifest else self.reader_class.__name__

    def about(self) -> dict[str, Any]:
        """The singer-sdk `--about --format=json` shape, for Meltano and catalogs."""
        import importlib.metadata

        manifest: Manifest | None = self.manifest
        doc = (self.reader_class.__doc__ or "").strip().splitlines()
        return {
            "name": f"tap-{self.display_name}" if manifest else "tap-reader",
            "description": manifest.description
            if manifest and manifest.description
            else (doc[0] if doc else ""),
            "version": manifest.version
            if manifest
            else importlib.metadata.version("dativo"),
            "sdk_version": f"dativo-reader-api {__api_version__}",
            "supported_python_versions": ["3.11", "3.12", "3.13"],
            "capabilities": ["about", "catalog", "discover", "state"],
            "settings": self.reader_class.spec(),
        }

    @contextmanager
    def _jobs(self, out: BinaryIO | None = None) -> Iterator[JobRunner]:
        """Validate the config, then run jobs: in this process, or in one sandbox child for
        all of them, started first so that it starts up while the config is validated. With
        `out` a file descriptor, the child writes its RECORD lines there itself (a `started`
        child writes them where it was given)."""
        if self.sandbox is None:
            _validate_config(self.reader_class.spec(), self.config, self.display_name)
            yield run_job
            return
        sandbox, self._started = self._started, None
        if sandbox is None:
            output_fd = None if out is None else file_descriptor(out)
            sandbox = Sandbox(self.sandbox, output_fd)
        with sandbox:
            sandbox.load(self.reference, self.reader_class.capabilities.secrets)
            _validate_config(self.reader_class.spec(), self.config, self.display_name)
            yield sandbox.run

    def check(self) -> None:
        with self._jobs() as run:
            run(ReaderJob("check", self.reference, self.config), _StreamsSink())

    def discover_streams(self) -> list[Stream]:
        with self._jobs() as run:
            return self._discover_streams(run)

    def _discover_streams(self, run: JobRunner) -> list[Stream]:
        sink = _StreamsSink()
        run(ReaderJob("discover", self.reference, self.config), sink)
        return sink.streams

    def discover(self) -> Catalog:
        with self._jobs() as run:
            return self._catalog(run)

    def _catalog(self, run: JobRunner) -> Catalog:
        entries = []
        for stream in self._discover_streams(run):
            keys = list(stream.key_properties)
            replication = [stream.replication_key] if stream.replication_key else None
            entries.append(
                CatalogEntry(
                    tap_stream_id=stream.name,
                    stream=stream.name,
                    schema=stream.schema,
                    key_properties=keys,
                    replication_key=stream.replication_key,
                    replication_method="INCREMENTAL" if replication else "FULL_TABLE",
                    metadata=standard_metadata(
                        stream.schema, keys, valid_replication_keys=replication
                    ),
                )
            )
        return Catalog(entries)

    def sync(
        self,
        catalog: Catalog | None,
        state: dict[str, Any],
        out: BinaryIO | None = None,
        *,
        record_limit: int | None = None,
    ) -> dict[str, Any]:
        """Write the selected streams to `out` (default: stdout); return the final state (also
        emitted as STATE). Without a catalog, the streams are discovered first, by the same
        reader process."""
        if out is None:
            sys.stdout.flush()
            out = sys.stdout.buffer
        final_state = copy.deepcopy(state)
        with self._jobs(out) as run:
            catalog = catalog or self._catalog(run)
            selected = catalog.selected_streams()
            sink = _SingerSink(out, {e.tap_stream_id: e for e in selected}, final_state)
            if selected:
                job = ReaderJob(
                    "read",
                    self.reference,
                    self.config,
                    streams=[_request(entry, state) for entry in selected],
                    record_limit=record_limit,
                )
                try:
                    run(job, sink)
                finally:
                    sink.writer.flush()
        sink.writer.write_state(final_state)
        sink.writer.flush()
        return final_state
