"""Which Iceberg catalog the target writes to, and which table a stream lands in."""

from __future__ import annotations

import re
from pathlib import Path

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog

from dativo_target_iceberg.config import TargetConfig

EMBEDDED_CATALOG_NAME = "dativo"
_NOT_NAME_CHARACTER = re.compile(r"[^a-z0-9_]")


def embedded_catalog(warehouse: str | Path) -> SqlCatalog:
    """The fixed embedded catalog, so other tools find the tables: sqlite under the warehouse."""
    root = Path(warehouse).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        EMBEDDED_CATALOG_NAME,
        uri=f"sqlite:///{root / 'catalog.db'}",
        warehouse=root.as_uri(),
    )


def open_catalog(config: TargetConfig) -> Catalog:
    if config.catalog is None:
        assert config.warehouse is not None  # the settings schema requires one of the two
        return embedded_catalog(config.warehouse)
    properties = {key: str(value) for key, value in config.catalog.items()}
    name = properties.pop("name", EMBEDDED_CATALOG_NAME)
    if config.warehouse and "warehouse" not in properties:
        properties["warehouse"] = config.warehouse
    return load_catalog(name, **properties)


def table_name_for_stream(stream: str) -> str:
    """A portable table name: lower case, every character outside [a-z0-9_] becomes `_`.

    Dots would otherwise read as namespace separators, and engines such as Trino or Glue
    fold names to lower case, so `public.Users` and `public-users` both become `public_users`.
    """
    name = _NOT_NAME_CHARACTER.sub("_", stream.lower())
    return name if name and not name[0].isdigit() else f"_{name}"
