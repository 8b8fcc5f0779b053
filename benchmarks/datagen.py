"""Deterministic benchmark data: N rows x 10 mixed columns as CSV, generated natively by polars."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

COUNTRIES = ["DE", "FR", "US", "BR", "IN", "JP", "NG", "AU"]


def generate_frame(rows: int, offset: int = 0) -> pl.DataFrame:
    ids = pl.int_range(offset, offset + rows, eager=True).alias("id")
    frame = pl.DataFrame(ids)
    scramble = (pl.col("id") * 2654435761) % 4294967296
    return frame.with_columns(
        ("user_" + pl.col("id").cast(pl.String)).alias("name"),
        ("user" + pl.col("id").cast(pl.String) + "@example.com").alias("email"),
        (18 + scramble % 70).alias("age"),
        ((scramble % 100000) / 1000.0).alias("score"),
        (scramble % 3 == 0).alias("active"),
        (pl.datetime(2020, 1, 1, time_zone="UTC") + pl.duration(seconds=pl.col("id") * 37)).alias(
            "created_at"
        ),
        (pl.col("id") % len(COUNTRIES))
        .replace_strict(dict(enumerate(COUNTRIES)), return_dtype=pl.String)
        .alias("country"),
        ((scramble % 1000000) / 100.0).alias("amount"),
        pl.when(scramble % 5 == 0)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise("note " + (scramble % 997).cast(pl.String))
        .alias("note"),
    )


def write_csv(path: Path, rows: int, block: int = 1_000_000) -> Path:
    """Write in blocks so 5M+ rows never sit in memory at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fp:
        for start in range(0, rows, block):
            generate_frame(min(block, rows - start), start).write_csv(
                fp, include_header=start == 0, datetime_format="%Y-%m-%dT%H:%M:%S%.6f%:z"
            )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    write_csv(args.path, args.rows)


if __name__ == "__main__":
    main()
