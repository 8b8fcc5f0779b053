"""tap-airbyte: Airbyte source connectors run as Singer taps; the work is in dativo_core.airbyte."""
