"""Airbyte source connectors as Singer taps.

`runner` and its implementations start connectors (Docker image, executable, pip package in its
own venv); `catalog`, `state` and `relay` translate the protocol; `connector` ties them together.
"""

from dativo_core.airbyte.connector import AirbyteConnector, CheckResult, ReadResult
from dativo_core.airbyte.errors import ConnectorError
from dativo_core.airbyte.sources import ConnectorSource

__all__ = ["AirbyteConnector", "CheckResult", "ConnectorError", "ConnectorSource", "ReadResult"]
