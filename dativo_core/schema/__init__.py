"""Type mappings between Singer JSON Schema and Arrow (and, through pyiceberg, Iceberg)."""
