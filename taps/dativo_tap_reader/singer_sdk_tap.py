"""A singer-sdk Tap class for one reader, so singer-sdk's standard tap tests (and anything else
that wants a `singer_sdk.Tap`) can drive it:

    from singer_sdk.testing import get_tap_test_class
    TestMyReader = get_tap_test_class(reader_tap_class("my_pkg.readers:Orders"), config={...})

Discovery and syncing are not singer-sdk's: each stream's `sync` hands the stream to the same
ReaderTap that `tap-reader` runs (sandbox included), so the tests exercise the real path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from singer_sdk import Stream as SdkStream
from singer_sdk import Tap

from dativo_core.plugins.loading import load_reader_class
from dativo_core.plugins.registry import resolve_reader
from dativo_core.plugins.sandbox import DEFAULT_LIMITS, SandboxLimits
from dativo_core.sdk import Stream
from dativo_core.singer import Catalog
from dativo_tap_reader.tap import ReaderTap


class _ReaderStream(SdkStream):
    def __init__(self, tap: _ReaderSdkTap, stream: Stream) -> None:
        super().__init__(tap, schema=stream.schema, name=stream.name)
        self.primary_keys = list(stream.key_properties)
        self.replication_key = stream.replication_key  # type: ignore[assignment]
        self._reader_tap = tap

    def sync(self, context: dict[str, Any] | None = None) -> None:  # type: ignore[override]
        """Sync through ReaderTap (singer-sdk marks `sync` final; this class replaces the
        whole per-record pipeline on purpose)."""
        entry = self._reader_tap.catalog_entries()[self.name]
        entry.set_metadata((), selected=True)
        self._reader_tap.reader_tap.sync(
            Catalog([entry]),
            self._reader_tap.input_state,
            record_limit=self.ABORT_AT_RECORD_COUNT,
        )

    def get_records(self, context: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        raise NotImplementedError(
            "reader streams are synced whole by ReaderTap through sync(), not record by record"
        )


class _ReaderSdkTap(Tap):
    reader_reference: str
    sandbox_limits: SandboxLimits | None

    def __init__(
        self, *, config: dict[str, Any] | None = None, state: Any = None, **kwargs: Any
    ) -> None:
        self.input_state: dict[str, Any] = state if isinstance(state, dict) else {}
        self._catalog_entries: dict[str, Any] | None = None
        # Before singer-sdk's __init__, which discovers streams through it.
        self.reader_tap = ReaderTap(
            self.reader_reference, dict(config or {}), sandbox=self.sandbox_limits
        )
        super().__init__(config=config, state=state, **kwargs)

    def catalog_entries(self) -> dict[str, Any]:
        if self._catalog_entries is None:
            self._catalog_entries = {
                e.tap_stream_id: e for e in self.reader_tap.discover().streams
            }
        return self._catalog_entries

    def discover_streams(self) -> Sequence[SdkStream]:
        return [
            _ReaderStream(self, stream) for stream in self.reader_tap.discover_streams()
        ]


def reader_tap_class(
    reader: str,
    *,
    sandbox: SandboxLimits | None = DEFAULT_LIMITS,
    plugin_dirs: Iterable[str | Path] = (),
) -> type[Tap]:
    """A singer_sdk.Tap subclass running `reader` (module:Class, file.py:Class or a plugin name)."""
    reference, manifest = resolve_reader(reader, plugin_dirs)
    reader_class = load_reader_class(reference)
    name = (
        f"tap-{manifest.name}" if manifest else f"tap-{reader_class.__name__.lower()}"
    )
    return type(
        f"{reader_class.__name__}Tap",
        (_ReaderSdkTap,),
        {
            "name": name,
            "config_jsonschema": reader_class.spec(),
            "reader_reference": reference,
            "sandbox_limits": sandbox,
        },
    )
