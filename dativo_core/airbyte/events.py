"""The connector's side messages: LOG to our log at its level, TRACE to progress and errors,
CONTROL config updates to whoever stores the config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dativo_core.airbyte.catalog import singer_stream_id
from dativo_core.airbyte.errors import ConnectorError

LOG_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}

ConfigUpdate = Callable[[dict[str, Any]], None]


def _stream_of(item: dict[str, Any]) -> str:
    return singer_stream_id(str(item.get("name")), item.get("namespace"))


class ConnectorEvents:
    """Handles LOG, TRACE and CONTROL messages of one connector run.

    `records_read` is asked for a stream's relayed count when its status reaches COMPLETE.
    """

    def __init__(
        self,
        connector: str,
        on_config_update: ConfigUpdate | None = None,
        records_read: Callable[[str], int] | None = None,
    ) -> None:
        self.connector = connector
        self.connector_log = logging.getLogger(f"airbyte.{connector}")
        self.progress = logging.getLogger("dativo.airbyte.progress")
        self.errors: list[dict[str, Any]] = []
        self._on_config_update = on_config_update
        self._records_read = records_read

    def handle(self, message: dict[str, Any]) -> bool:
        """True when the message was a side message and has been handled."""
        kind = message.get("type")
        if kind == "LOG":
            self._log(message.get("log") or {})
        elif kind == "TRACE":
            self._trace(message.get("trace") or {})
        elif kind == "CONTROL":
            self._control(message.get("control") or {})
        else:
            return False
        return True

    def _log(self, log: dict[str, Any]) -> None:
        level = LOG_LEVELS.get(str(log.get("level", "INFO")).upper(), logging.INFO)
        text = str(log.get("message", ""))
        if log.get("stack_trace"):
            text += "\n" + str(log["stack_trace"])
        self.connector_log.log(level, "%s", text)

    def _trace(self, trace: dict[str, Any]) -> None:
        kind = trace.get("type")
        if kind == "ERROR":
            error = trace.get("error") or {}
            self.errors.append(error)
            self.connector_log.error(
                "%s (%s)", error.get("message"), error.get("failure_type") or "system_error"
            )
            if error.get("internal_message"):
                self.connector_log.debug("internal message: %s", error["internal_message"])
        elif kind == "ESTIMATE":
            estimate = trace.get("estimate") or {}
            self.progress.info(
                "%s: about %s rows, %s bytes to read",
                _stream_of(estimate),
                estimate.get("row_estimate", "?"),
                estimate.get("byte_estimate", "?"),
            )
        elif kind == "STREAM_STATUS":
            status = trace.get("stream_status") or {}
            stream = _stream_of(status.get("stream_descriptor") or {})
            state = status.get("status")
            if state == "COMPLETE" and self._records_read is not None:
                self.progress.info("%s: COMPLETE, %d records", stream, self._records_read(stream))
            else:
                self.progress.info("%s: %s", stream, state)
        else:
            self.progress.debug("trace %s: %s", kind, trace)

    def _control(self, control: dict[str, Any]) -> None:
        if control.get("type") != "CONNECTOR_CONFIG":
            self.progress.debug("ignored control message of type %s", control.get("type"))
            return
        config = (control.get("connectorConfig") or {}).get("config")
        if not isinstance(config, dict):
            return
        self.progress.info("the connector updated its config")
        if self._on_config_update is not None:
            self._on_config_update(config)

    def failure(self, exit_code: int) -> ConnectorError | None:
        """The run's error: the connector's last TRACE ERROR, else a non-zero exit code."""
        if self.errors:
            error = self.errors[-1]
            message = str(error.get("message") or error.get("internal_message") or "no message")
            if len(self.errors) > 1:
                message += f" (and {len(self.errors) - 1} earlier error(s) logged above)"
            return ConnectorError(
                message,
                failure_type=str(error.get("failure_type") or "system_error"),
                connector=self.connector,
                exit_code=exit_code,
            )
        if exit_code != 0:
            return ConnectorError(
                f"exited with code {exit_code}; its log is above",
                connector=self.connector,
                exit_code=exit_code,
            )
        return None
