"""An Airbyte source connector driven as a Singer tap: spec, check, discover and read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from dativo_core.airbyte.catalog import to_configured_catalog, to_singer_catalog
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.events import ConfigUpdate, ConnectorEvents
from dativo_core.airbyte.relay import ReadRelay
from dativo_core.airbyte.runner import Invocation, Runner
from dativo_core.airbyte.state import StateTracker, connector_state
from dativo_core.singer.catalog import Catalog
from dativo_core.singer.messages import SchemaMessage
from dativo_core.singer.writer import SingerWriter


@dataclass(frozen=True)
class CheckResult:
    succeeded: bool
    message: str | None = None


@dataclass(frozen=True)
class ReadResult:
    """What a read relayed: records per Singer stream and the last state value emitted."""

    records: dict[str, int]
    state: dict[str, Any]


class AirbyteConnector:
    """One connector behind a runner; `on_config_update` receives CONTROL config updates."""

    def __init__(self, runner: Runner, on_config_update: ConfigUpdate | None = None) -> None:
        self.runner = runner
        self.name = runner.name
        self._on_config_update = on_config_update

    def _answer(self, invocation: Invocation, wanted: str) -> dict[str, Any]:
        """Run a short command and return its one answer message (SPEC, CATALOG, ...)."""
        events = ConnectorEvents(self.name, self._on_config_update)
        answer: dict[str, Any] | None = None
        with self.runner.start(invocation) as running:
            for lines in running.line_chunks():
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        message = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        events.connector_log.info("%s", line.decode(errors="replace"))
                        continue
                    if not isinstance(message, dict) or events.handle(message):
                        continue
                    if message.get("type") == wanted and answer is None:
                        answer = message
            exit_code = running.wait()
        failure = events.failure(exit_code)
        if failure is not None:
            raise failure
        if answer is None:
            raise ConnectorError(
                f"`{invocation.command}` ended without a {wanted} message",
                connector=self.name,
                exit_code=exit_code,
            )
        return answer

    def spec(self) -> dict[str, Any]:
        """The ConnectorSpecification; its `connectionSpecification` is the config's JSON Schema."""
        return dict(self._answer(Invocation("spec"), "SPEC").get("spec") or {})

    def check(self, config: dict[str, Any]) -> CheckResult:
        status = self._answer(Invocation("check", config=config), "CONNECTION_STATUS")
        body = status.get("connectionStatus") or {}
        return CheckResult(body.get("status") == "SUCCEEDED", body.get("message"))

    def discover(self, config: dict[str, Any]) -> Catalog:
        answer = self._answer(Invocation("discover", config=config), "CATALOG")
        return to_singer_catalog(answer.get("catalog") or {})

    def read(
        self,
        config: dict[str, Any],
        catalog: Catalog,
        state: dict[str, Any] | None,
        writer: SingerWriter,
    ) -> ReadResult:
        """Relay a sync of the catalog's selected streams as Singer messages into `writer`.

        SCHEMA messages come first; each connector STATE becomes a Singer STATE after the records
        it covers. A failing connector raises ConnectorError after everything it sent before the
        failure has been written, so the last STATE written never covers unsent records.
        """
        configured = to_configured_catalog(catalog)
        tracker = StateTracker(state)
        relay: ReadRelay | None = None
        events = ConnectorEvents(
            self.name, self._on_config_update, lambda stream: relay.records_read(stream) if relay else 0
        )
        relay = ReadRelay(catalog, writer, events, tracker)
        for entry in catalog.selected_streams():
            key = entry.effective_replication_key
            incremental = entry.effective_replication_method == "INCREMENTAL"
            writer.write(
                SchemaMessage(
                    stream=entry.tap_stream_id,
                    schema=entry.selected_schema(),
                    key_properties=entry.key_properties,
                    bookmark_properties=[key] if key and incremental else None,
                )
            )
        invocation = Invocation(
            "read", config=config, catalog=configured, state=connector_state(state)
        )
        try:
            with self.runner.start(invocation) as running:
                relay.relay(running.line_chunks())
                exit_code = running.wait()
        except ConnectorError as exc:
            exc.connector = exc.connector or self.name
            raise
        finally:
            writer.flush()
        failure = events.failure(exit_code)
        if failure is not None:
            raise failure
        return ReadResult(relay.counts(), tracker.value)
