"""Dativo's tap-csv: a drop-in for MeltanoLabs' tap-csv with inferred types, incremental sync by
file modification time, and a bulk (columnar) output path."""
