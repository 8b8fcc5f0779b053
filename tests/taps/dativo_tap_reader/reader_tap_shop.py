"""A small SQLite shop for the reader tap tests: customers, and orders with an updated_at."""

from __future__ import annotations

import sqlite3
from pathlib import Path

EXAMPLE_READER = (
    Path(__file__).parents[3]
    / "examples"
    / "readers"
    / "sqlite_tables"
    / "sqlite_reader.py"
)
EXAMPLE_REFERENCE = f"{EXAMPLE_READER}:SQLiteReader"
EXAMPLE_PLUGINS = EXAMPLE_READER.parents[1]


def create_shop(path: Path, orders: int = 25) -> Path:
    db = sqlite3.connect(path)
    db.executescript(
        """
        create table customers (id integer primary key, name text, vip boolean);
        create table orders (
            id integer primary key, customer_id integer, amount real, note text,
            updated_at timestamp
        );
        """
    )
    db.executemany(
        "insert into customers values (?, ?, ?)",
        [(1, "Ada", True), (2, 'Bo "the" Builder', False), (3, "Zoë", None)],
    )
    add_orders(db, range(1, orders + 1))
    db.close()
    return path


def add_orders(db: sqlite3.Connection, ids: range) -> None:
    db.executemany(
        "insert into orders values (?, ?, ?, ?, ?)",
        [
            (
                i,
                i % 3 + 1,
                i * 2.5,
                None if i % 4 else f"line one\nline {i}",
                f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
            )
            for i in ids
        ],
    )
    db.commit()
