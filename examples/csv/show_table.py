"""Read a table of the embedded warehouse back with plain pyiceberg, as any other tool would.

    .venv/bin/python examples/csv/show_table.py .dativo/warehouse default.customers
"""

import sys
from pathlib import Path

import polars as pl
from pyiceberg.catalog.sql import SqlCatalog


def main(warehouse: str, table_name: str, limit: int = 5) -> None:
    root = Path(warehouse).resolve()
    catalog = SqlCatalog("dativo", uri=f"sqlite:///{root / 'catalog.db'}", warehouse=root.as_uri())
    table = catalog.load_table(table_name)
    rows = table.scan().to_arrow()
    print(f"{table_name}: {rows.num_rows} rows (snapshot {table.current_snapshot().snapshot_id})")
    with pl.Config(tbl_cols=-1, tbl_width_chars=120):
        print(pl.from_arrow(rows.slice(0, limit)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
