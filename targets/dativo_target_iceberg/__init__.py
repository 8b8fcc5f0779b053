"""target-iceberg: a Singer target writing Apache Iceberg tables, columnar on the hot path."""

__version__ = "0.1.0"
