"""The error a failing Airbyte connector turns into, keeping Airbyte's failure type."""

from __future__ import annotations


class ConnectorError(Exception):
    """A connector that failed or could not run; `failure_type` uses Airbyte's names
    (config_error, system_error, transient_error) so users know whether to fix their config."""

    def __init__(
        self,
        message: str,
        *,
        failure_type: str = "system_error",
        connector: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.message = message
        self.failure_type = failure_type
        self.connector = connector
        self.exit_code = exit_code
        super().__init__(str(self))

    def __str__(self) -> str:
        who = self.connector or "the Airbyte connector"
        return f"{who} failed ({self.failure_type}): {self.message}"
